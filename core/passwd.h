/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_PASSWD_H
#define DEN_CORE_PASSWD_H

/*
 * Users and groups of a machine's own /etc/passwd and /etc/group: a box's
 * files, so untrusted text. A home that is not a plain absolute path is
 * refused (den writes ~/.ssh/authorized_keys there).
 */

#include <stdio.h>
#include <sys/types.h>

#include "core/err.h"

struct passwd_user {
	uid_t uid;
	gid_t gid;
	char home[1024];
};

/* name's entry in the passwd text f; "the box has no user 'NAME' (...)" when none. */
int passwd_find_user(FILE *f, const char *name, struct passwd_user *out, struct den_err *err);

/* The gid of group name in the group text f. */
int passwd_find_group(FILE *f, const char *name, gid_t *gid, struct den_err *err);

/*
 * Opens rel (such as "etc/passwd") below the root folder root, its links
 * resolved as if root were "/" (RESOLVE_IN_ROOT): a box's file, never one
 * of the host's. NULL with err set when it cannot.
 */
FILE *passwd_open_in(const char *root, const char *rel, struct den_err *err);

#endif
