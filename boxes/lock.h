/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_LOCK_H
#define DEN_BOXES_LOCK_H

/*
 * Envfile.lock (DESIGN.md §5): beside the Envfile, committed with it. For
 * each box the project uses, the exact version, provider, architecture,
 * URL and checksum it resolved to, so a team gets the same bytes. JSON,
 * sorted, written atomically and only when something changed.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define LOCK_FILE "Envfile.lock"

struct lock_entry {
	char *name, *constraint, *version, *provider, *arch;
	char *url, *checksum_type, *checksum;
};

struct boxlock {
	char *path;
	struct lock_entry *e;
	size_t n;
	bool changed;
};

/*
 * Reads ENVFILE.lock (Envfile.lock beside the Envfile); a missing file is an
 * empty lock. A damaged file, an entry without name, version, provider or
 * architecture, or one of those that is not a plain name fails with the
 * entry and what to do; l then holds nothing (freeing it is harmless).
 */
int boxlock_read(const char *envfile, struct boxlock *l, struct den_err *err);

/* Writes it back when changed. */
int boxlock_write(struct boxlock *l, struct den_err *err);

/* The entry for a box, provider and architecture, or NULL. */
struct lock_entry *boxlock_find(struct boxlock *l, const char *name, const char *provider,
				const char *arch);

/* Adds or replaces the entry with e's name, provider and architecture (copies e). */
int boxlock_set(struct boxlock *l, const struct lock_entry *e, struct den_err *err);

void boxlock_free(struct boxlock *l);

#endif
