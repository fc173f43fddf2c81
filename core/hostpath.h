/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_HOSTPATH_H
#define DEN_CORE_HOSTPATH_H

/*
 * Host paths that a machine may have tampered with. Code inside a machine
 * runs as root and writes into the project through its synced folders, so
 * any path of the project may have become a symlink to /root/.ssh,
 * /proc/self/environ or a folder outside. Before den sends a host file
 * into a machine it resolves the path here, once, following no symlink on
 * the way, and then works only from the descriptor it got.
 */

#include <stdbool.h>

#include "core/err.h"

struct hostpath {
	int dir_fd; /* O_PATH: the folder holding the path's last component; -1 when unset */
	char *name; /* that component, never looked up yet; "." when the path names a folder
		       ("/", "x/.", "x/..") */
};

enum hostpath_flags {
	/* A relative path starts from the current folder, not from the project. */
	HOSTPATH_FROM_CWD = 1,
};

/*
 * Resolves the folders of path, without following a symlink anywhere on
 * the way; one there is refused with an error naming it. The last
 * component is left to the caller, who must not follow it either
 * (fstatat(AT_SYMLINK_NOFOLLOW), openat(O_NOFOLLOW) against dir_fd).
 *
 * A relative path starts from project and must stay beneath it (".." may
 * not climb out), or with HOSTPATH_FROM_CWD starts from the current
 * folder. An absolute path inside project (compared as text) is resolved
 * beneath project, whose own path is the user's (symlinks above it, like
 * /home -> /var/home, are fine); any other from "/". project may be NULL
 * only with HOSTPATH_FROM_CWD. On success out holds what the caller
 * releases with hostpath_release().
 */
int hostpath_resolve(const char *project, const char *path, unsigned flags, struct hostpath *out,
		     struct den_err *err);

/*
 * hostpath_resolve(), then the last component opened with oflags |
 * O_NOFOLLOW | O_CLOEXEC: a descriptor of exactly what path named, or an
 * error when it is a symlink (with O_PATH too). For synced folders, whose
 * descriptor goes to the mount or to QEMU in place of the path.
 */
int hostpath_open(const char *project, const char *path, unsigned flags, int oflags,
		  struct den_err *err);

/* Closes and frees what hostpath_resolve() returned; out stays reusable. */
void hostpath_release(struct hostpath *hp);

#define cleanup_hostpath __attribute__((cleanup(hostpath_release)))

#endif
