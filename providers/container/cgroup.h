/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_CONTAINER_CGROUP_H
#define DEN_PROVIDERS_CONTAINER_CGROUP_H

/*
 * cpus and memory for a container, through cgroups: v1 (a hierarchy per
 * controller), v2 (one unified hierarchy) and hybrid (v1 controllers with
 * cgroup2 mounted at unified/, as on these machines: den uses the v1
 * controllers then). A container's cgroup sits below den's own:
 * .../<den's cgroup>/den/<name>, so it counts against whatever limits
 * den itself runs under. `root` is /sys/fs/cgroup except in tests.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

enum cg_mode { CG_NONE, CG_V1, CG_V2, CG_HYBRID };

#define CG_MAX_DIRS 8

struct ctr_cgroup {
	enum cg_mode mode;
	char *dirs[CG_MAX_DIRS];	/* the cgroup folders made, one per v1 controller */
	bool holds_limits[CG_MAX_DIRS]; /* a v2 parent of a delegated leaf: no processes */
	size_t n;
};

/* Which cgroup layout the machine has. */
enum cg_mode cg_detect(const char *root);
const char *cg_mode_name(enum cg_mode m);

/*
 * Makes the cgroup `name` with cpus (CPU quota, and a cpuset of that many
 * CPUs when there are enough) and memory (bytes) limits. self_cgroup is
 * the text of /proc/self/cgroup (NULL: read it).
 */
int cg_create(const char *root, const char *self_cgroup, const char *name, unsigned cpus,
	      uint64_t memory, struct ctr_cgroup *cg, struct den_err *err);

/*
 * After cg_create: a cgroup2 folder the container's own init (systemd)
 * may manage, mounted writable at its /sys/fs/cgroup. On v2 it is a child
 * of the limited cgroup, so the limits stay out of the container's reach;
 * on hybrid it is the container's folder in unified/ (no controllers
 * there: the v1 ones hold the limits). v1 alone has no cgroup2: an error.
 */
int cg_delegate(const char *root, const char *self_cgroup, const char *name, struct ctr_cgroup *cg,
		struct den_err *err);

/*
 * After cg_delegate: the delegated folder (and the files that delegate
 * it, as cgroup v2 asks) given to the container's root, host ids uid:gid.
 */
int cg_give(const struct ctr_cgroup *cg, uid_t uid, gid_t gid, struct den_err *err);
/* The same for a delegated cgroup2 folder by its path (as mounted inside, say). */
int cg_give_dir(const char *dir, uid_t uid, gid_t gid, struct den_err *err);

/* Moves pid into the cgroup (children follow). */
int cg_attach(const struct ctr_cgroup *cg, pid_t pid, struct den_err *err);

/*
 * Removes the cgroup folders, with whatever the container's init made
 * below them (empty once the container's processes are gone).
 */
void cg_destroy(struct ctr_cgroup *cg);

#endif
