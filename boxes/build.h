/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_BUILD_H
#define DEN_BOXES_BUILD_H

/*
 * `den box build RECIPE`: a box made on this machine with debootstrap, so
 * boxes exist without any box server. Builds are cached by the recipe's
 * hash; a build never leaves a half-made box behind.
 */

#include <stdbool.h>

#include "core/err.h"

struct build_opts {
	const char *recipe;	 /* built-in name or path */
	const char *output_kind; /* "container" or "qemu" (a VM disk image box) */
	const char *output;	 /* folder for the box file; NULL: the build cache's file only */
	const char *cache;	 /* cache folder ($DEN_BUILD_CACHE, else $DEN_HOME/build-cache) */
	bool no_cache;		 /* build even when the cache has it */
};

/* Builds (or takes from the cache) the recipe's box of one output kind; *path gets the box file. */
int box_build(const char *home, const struct build_opts *o, char **path, struct den_err *err);

#endif
