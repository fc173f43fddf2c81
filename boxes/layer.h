/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_LAYER_H
#define DEN_BOXES_LAYER_H

/*
 * One container image layer applied over the layers below it, as the OCI
 * image spec's "Representing Changes" says and containerd does:
 * - a whiteout ".wh.NAME" deletes NAME as the lower layers left it;
 * - an opaque marker ".wh..wh..opq" empties its folder of what lower
 *   layers put there (what this layer puts there stays, wherever in the
 *   layer it comes);
 * - a file where a lower layer had a folder replaces the folder.
 * Paths are resolved below the root being built and never through a
 * symbolic link: a layer is hostile, and its lower layers' links too.
 */

#include <stdbool.h>

#include "core/err.h"

struct layer;

struct layer *layer_new(void);
void layer_free(struct layer *l);

/*
 * Called for each member of the layer, in order, with the working folder
 * at the root being built and path relative and free of "..". 1: unpack
 * the member; 0: it was a whiteout, now applied; -1: refused (err).
 */
int layer_entry(struct layer *l, const char *path, bool is_dir, struct den_err *err);

#endif
