/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_USERS_H
#define DEN_BOXES_USERS_H

/*
 * Which machines use a box in the store, so `den box remove` does not pull
 * a box from under them. Projects are known from $DEN_HOME/index.json
 * (core/machine_index.h, kept by `den up`) and the current project; a
 * machine uses a box when its state.json (in the project's state folder,
 * or an older den's PROJECT/.den) names the box and version.
 */

#include <stddef.h>

#include "boxes/store.h"
#include "core/err.h"

/*
 * "ROOT: machine NAME" for every machine using e, malloc'd; extra_root
 * (the current project, or NULL) is looked at too.
 */
int box_users(const char *home, const char *extra_root, const struct store_entry *e, char ***users,
	      size_t *n, struct den_err *err);
void box_users_free(char **users, size_t n);

#endif
