/* SPDX-License-Identifier: MIT */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int vset(struct den_err *err, enum den_err_kind kind, int errno_, const char *fmt,
		va_list ap)
{
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);

	err->kind = kind;
	err->errno_ = errno_;
	err->in_report = false;
	if (errno_ != 0 && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errno_));
	return -1;
}

int den_err_set(struct den_err *err, int errno_, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, DEN_ERR_FAILED, errno_, fmt, ap);
	va_end(ap);
	return -1;
}

int den_err_usage(struct den_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, DEN_ERR_USAGE, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int den_err_kind_set(struct den_err *err, enum den_err_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, kind, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int den_err_wrap(struct den_err *err, const char *fmt, ...)
{
	char prefix[512];
	char old[DEN_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the message stays a valid, shorter string. */
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t rest = sizeof(err->msg) - n - 3;
	size_t olen = strnlen(old, rest);
	memcpy(err->msg + n + 2, old, olen);
	err->msg[n + 2 + olen] = '\0';
	if (err->kind == 0)
		err->kind = DEN_ERR_FAILED;
	return -1;
}

void den_err_clear(struct den_err *err)
{
	err->kind = 0;
	err->errno_ = 0;
	err->in_report = false;
	err->msg[0] = '\0';
}
