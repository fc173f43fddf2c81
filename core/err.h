/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_ERR_H
#define DEN_CORE_ERR_H

/*
 * Errors, crun's shape: a function that fails returns < 0 and fills the
 * struct den_err passed as its last argument. Only cmd/main.c prints an
 * error and chooses the exit code, from err->kind.
 *
 *	if (fd < 0)
 *		return den_err_set(err, errno, "cannot open %s", path);
 */

#include <stdbool.h>
#include <stddef.h>

enum den_err_kind {
	DEN_ERR_FAILED = 1, /* the operation failed: exit 1 */
	DEN_ERR_USAGE = 2,  /* bad command line: exit 2 */
	DEN_ERR_ENVFILE = 3 /* bad Envfile: exit 2, message lines are "FILE:LINE:COL: ..." */
};

#define DEN_ERR_MSG_MAX 16384

struct den_err {
	enum den_err_kind kind;	   /* what kind of failure; decides the exit code */
	int errno_;		   /* errno of the failing call, 0 when none */
	char msg[DEN_ERR_MSG_MAX]; /* what failed, on what, what to do ("" when unset) */
	bool in_report;		   /* --json: the command's report on stdout already says it */
};

#define DEN_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Records a failure; appends strerror(errno_) when errno_ != 0. Returns -1. */
int den_err_set(struct den_err *err, int errno_, const char *fmt, ...) DEN_PRINTF(3, 4);

/* Records a command-line mistake (exit 2). Returns -1. */
int den_err_usage(struct den_err *err, const char *fmt, ...) DEN_PRINTF(2, 3);

/* Records an error of the given kind without errno. Returns -1. */
int den_err_kind_set(struct den_err *err, enum den_err_kind kind, const char *fmt, ...)
	DEN_PRINTF(3, 4);

/* Prefixes the message with context ("box den/debian-12: "). Returns -1. */
int den_err_wrap(struct den_err *err, const char *fmt, ...) DEN_PRINTF(2, 3);

/* Forgets a recorded error, so err can be reused after a handled failure. */
void den_err_clear(struct den_err *err);

/* True when an error has been recorded. */
static inline int den_err_is_set(const struct den_err *err)
{
	return err->msg[0] != '\0';
}

#endif
