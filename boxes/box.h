/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_BOX_H
#define DEN_BOXES_BOX_H

/*
 * Adding boxes (DESIGN.md §6): from a catalog by name (ORG/NAME on a box
 * server), from a URL (a catalog or a box file), from a local file, or
 * from a container image (boxes/image.h: as a source, or as the server
 * of ORG/NAME, which is how an Envfile's box_url names one).
 * Downloads are checked against the catalog's checksum; the store changes
 * only when a whole, verified box is unpacked.
 */

#include <stdbool.h>

#include "boxes/store.h"
#include "core/err.h"

struct box_add_opts {
	const char *source;   /* NAME, URL or FILE */
	const char *name;     /* --name: needed for a bare box file */
	const char *version;  /* --box-version: a constraint (catalogs) or a version (files) */
	const char *provider; /* --provider */
	const char *arch;     /* --architecture; NULL: this host's, as Vagrant picks */
	const char *checksum, *checksum_type; /* expected digest of the box file */
	const char *server;   /* box server for ORG/NAME ($DEN_BOX_SERVER), or an image */
	const char *base_dir; /* where relative image paths are (the Envfile's folder) */
	bool force;	      /* replace a box already in the store */
	bool progress;	      /* progress bar on stderr */
};

/*
 * Adds a box to the store in home ($DEN_HOME). Returns 1 when the box was
 * already there (nothing downloaded), 0 when added. *out names the box.
 */
int box_add(const char *home, const struct box_add_opts *o, struct store_entry *out,
	    struct den_err *err);

#endif
