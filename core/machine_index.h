/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_MACHINE_INDEX_H
#define DEN_CORE_MACHINE_INDEX_H

/*
 * $DEN_HOME/index.json: every project den has made machines in, for
 * `den global-status` and `den box remove`:
 *	{"projects": [{"root": "/abs/project", "envfile": "/abs/project/Envfile"}, ...]}
 * This module is its only reader and writer. Every change is a
 * read-modify-write under $DEN_HOME/locks/index.lock (flock(2)), written to
 * a temporary file and renamed over the old one: readers need no lock, and
 * a `den up` in one project never loses its entry to a prune in another.
 * The file is untrusted input: a link or another user's file is refused,
 * a file that is not the JSON above is an error, and an entry that is not
 * an object with an absolute "root" (and, when present, an absolute
 * "envfile") without control characters is skipped.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct machine_index_entry {
	char *root;    /* the project's folder: absolute, no control characters */
	char *envfile; /* its Envfile, absolute; NULL when the entry names none (ROOT/Envfile) */
};

struct machine_index {
	struct machine_index_entry *v; /* the usable entries, in the file's order */
	size_t n;		       /* how many */
	size_t skipped;		       /* entries left out as damaged */
};

/* Reads the index (home is $DEN_HOME); no file is an empty index. Free with machine_index_free. */
int machine_index_list(const char *home, struct machine_index *idx, struct den_err *err);

void machine_index_free(struct machine_index *idx);

/*
 * Records a project whose machine was just made (`den up`); nothing to do
 * when its root is there already. A damaged index.json is moved aside to
 * index.json.damaged, with a warning, and a new one begun.
 */
int machine_index_add(const char *home, const char *root, const char *envfile, struct den_err *err);

/*
 * Called for each usable entry, in order, with the index locked; returns
 * false when the project has no machine left.
 */
typedef bool (*machine_index_keep_fn)(const struct machine_index_entry *e, void *arg);

/*
 * Drops the entries keep() refuses and the damaged ones (`den
 * global-status --prune`); *dropped (may be NULL) says how many. A `den up`
 * meanwhile waits on the lock, so its project is either seen by keep() or
 * added after the prune. No index: nothing to do, nothing created.
 */
int machine_index_prune(const char *home, machine_index_keep_fn keep, void *arg, size_t *dropped,
			struct den_err *err);

#endif
