/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_IDENTITY_H
#define DEN_BOXES_IDENTITY_H

/*
 * What a box file says about itself: its metadata.json, read from the
 * archive without unpacking the rest. Boxes den builds carry their name
 * and version under "den"; Vagrant's carry only the provider.
 */

#include "core/err.h"

struct box_identity {
	char *provider;	      /* metadata "provider" */
	char *arch;	      /* metadata "architecture", or NULL */
	char *name, *version; /* metadata "den": { "name", "version" }, or NULL */
};

int box_identity_read(const char *path, struct box_identity *id, struct den_err *err);
void box_identity_free(struct box_identity *id);

#endif
