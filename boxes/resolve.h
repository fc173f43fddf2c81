/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_RESOLVE_H
#define DEN_BOXES_RESOLVE_H

/*
 * Which box a machine gets (`den up`, `den box add` in a project, `den box
 * update`): the version Envfile.lock names, else the newest installed
 * version the constraint allows, else the newest the catalog offers. The
 * answer is recorded in the lock; a locked box is fetched with exactly the
 * locked URL and checksum.
 */

#include <stdbool.h>

#include "boxes/lock.h"
#include "boxes/store.h"
#include "core/err.h"

struct box_want {
	const char *name;	/* "den/debian-12" */
	const char *constraint; /* box_version, or NULL */
	const char *provider;	/* box provider: "container", "kvm", "qemu" */
	const char *server;	/* box_url or $DEN_BOX_SERVER, or NULL */
	const char *base_dir;	/* the Envfile's folder: where box_url's image paths are */
};

struct resolve_opts {
	const char *home;
	bool update;   /* ignore the lock and installed boxes: newest the catalog allows */
	bool offline;  /* never download: only what the store has */
	bool progress; /* progress bars on stderr */
};

/* Finds or fetches the box; *out is the store's copy. Updates lock. */
int box_resolve(const struct resolve_opts *o, const struct box_want *w, struct boxlock *lock,
		struct store_entry *out, struct den_err *err);

#endif
