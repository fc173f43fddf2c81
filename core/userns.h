/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_USERNS_H
#define DEN_CORE_USERNS_H

/*
 * den without root (docs/rootless.md): a normal user's containers and
 * their files live in a user namespace made of the user's subordinate ids
 * (/etc/subuid, /etc/subgid, mapped with newuidmap and newgidmap) and the
 * user's own id, which is the login user inside (uid and gid 1000). Box
 * root file systems are unpacked, and machines' files removed, inside the
 * same namespace, so every file keeps its owner.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define USERNS_IDS 65536u  /* container ids 0..65535 */
#define USERNS_LOGIN 1000u /* the container id that is the user's own */

struct userns_map {
	uint32_t sub_uid, sub_gid; /* first subordinate ids (65535 of each are used) */
	uint32_t uid, gid;	   /* the user's own */
};

/*
 * The first range of at least USERNS_IDS ids that /etc/subuid-format text
 * gives user (by name or by number), or 0 when it gives none.
 */
uint32_t userns_subid_start(const char *text, const char *user, uid_t uid);

/* The first such range an /etc/subuid-format file gives the user den runs as, or 0. */
uint32_t userns_subid(const char *file);

/* Whether den runs without root: then containers use the user's namespace. */
bool userns_rootless(void);

/*
 * The user's map: the first range of at least 65535 ids /etc/subuid and
 * /etc/subgid give the user, and newuidmap and newgidmap to write it. An
 * error says what is missing and how to add it.
 */
int userns_map_for_user(struct userns_map *m, struct den_err *err);

/* newuidmap's or newgidmap's arguments after the pid: "0 S 1000 1000 U 1 1001 S+1000 64535". */
int userns_map_args(char *buf, size_t n, uint32_t sub, uint32_t own);

/* Writes pid's maps (pid has just made its user namespace) with newuidmap and newgidmap. */
int userns_write_maps(pid_t pid, const struct userns_map *m, struct den_err *err);

/*
 * Runs fn in a child that is root of a new user namespace with map m;
 * returns fn's result, its error text carried back.
 */
int userns_run(const struct userns_map *m, int (*fn)(void *arg, struct den_err *err), void *arg,
	       struct den_err *err);

/* den_rm_rf, inside the user's namespace when den runs without root. */
int userns_rm_rf(const char *path, struct den_err *err);

#endif
