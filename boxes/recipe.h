/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_RECIPE_H
#define DEN_BOXES_RECIPE_H

/*
 * Box recipes (boxes/recipes/NAME.yml, built into den, or any YAML file):
 * what `den box build` makes. docs/boxes.md describes the keys.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/digest.h"
#include "core/err.h"

#define RECIPE_MAX_ITEMS 256

struct recipe_user {
	const char *name, *shell;
	bool sudo; /* passwordless sudo */
};

struct recipe {
	const char *id; /* the recipe's own name ("debian-12") or path */
	const char *name, *version, *description;
	const char *suite, *variant, *mirror;
	const char *packages[RECIPE_MAX_ITEMS];
	size_t n_packages;
	struct recipe_user users[16];
	size_t n_users;
	bool sshd;
	const char *init; /* "den" (den-init starts sshd) or "system" (the box's /sbin/init) */
	bool out_container, out_kvm, out_qemu;
	char hash
		[DIGEST_HEX_MAX]; /* sha256 of the recipe text and den's build steps: the cache key */
	json_t *root;		  /* owns the strings above */
	char version_buf[32];	  /* `version: 1` read as a number */
};

/* A recipe by name (built in) or by path to a .yml file. */
int recipe_load(const char *name_or_path, struct recipe *r, struct den_err *err);
void recipe_free(struct recipe *r);

/* Names of the built-in recipes, NULL-terminated (a static array). */
const char *const *recipe_names(void);

#endif
