/* SPDX-License-Identifier: MIT */
#ifndef DEN_CMD_PARALLEL_H
#define DEN_CMD_PARALLEL_H

/*
 * Machines of one command, side by side (docs/envfile.md, "Many
 * machines"): each machine's part runs in a child process of its own, at
 * most --jobs at once, its output lines prefixed with its name (a colour
 * each on a terminal); one failing stops none of the others, and the end
 * says, for each machine, ok or its error. --no-parallel runs them here,
 * one after another, with the same rule and the same end.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct parallel_opts {
	bool serial;   /* --no-parallel */
	unsigned jobs; /* --jobs N: at most N at once; 0: no cap */
	bool color;    /* colour the prefixes */
};

/* One machine's part: job(arg, i) for machine i. */
typedef int parallel_job_fn(void *arg, size_t i, struct den_err *err);

/*
 * Runs job for each of the n machines named names[i]. With one machine,
 * or serial, here; else each in a child. Returns 0 when every one
 * succeeded; else -1 with err the failure (one machine's own error when
 * only one failed, else which failed). ok[i] (may be NULL) says which did.
 */
int parallel_run(const struct parallel_opts *o, const char *const *names, size_t n,
		 parallel_job_fn *job, void *arg, bool *ok, struct den_err *err);

/* Whether this process is a machine's child of parallel_run. */
bool parallel_in_child(void);

#endif
