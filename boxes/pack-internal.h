/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_PACK_INTERNAL_H
#define DEN_BOXES_PACK_INTERNAL_H

/* Shared by boxes/pack.c and boxes/pack_blob.c. */

#include "core/err.h"

struct archive;

/* The tree at dir, as members "./...", into the open writer w (left open). */
int pack_tree_into(struct archive *w, const char *dir, struct den_err *err);

#endif
