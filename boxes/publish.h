/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_PUBLISH_H
#define DEN_BOXES_PUBLISH_H

/*
 * `den box publish DIR`: a Vagrant Cloud-style catalog for every box
 * named in a folder of box files, written to DIR/ORG/NAME, so that any
 * static web server serving DIR is a box server (DEN_BOX_SERVER=URL).
 */

#include <stddef.h>

#include "core/err.h"

struct published {
	char *name, *version, *provider, *arch, *file;
};

/*
 * Writes the catalogs. Box URLs are base_url/FILE, or relative to the
 * catalog when base_url is NULL. Boxes that do not name themselves are
 * skipped, with a warning.
 */
int box_publish(const char *dir, const char *base_url, struct published **out, size_t *n,
		struct den_err *err);
void published_free(struct published *p, size_t n);

#endif
