/* SPDX-License-Identifier: MIT */
#include "core/log.h"
#include "core/cleanup.h"

#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static enum den_log_level level = DEN_LOG_INFO;
static bool use_color;

void den_log_setup(enum den_log_level l, bool color)
{
	level = l;
	use_color = color;
}

enum den_log_level den_log_level(void)
{
	return level;
}

bool den_log_color(void)
{
	return use_color;
}

static void vlog(const char *prefix, const char *color, const char *fmt, va_list ap)
{
	if (use_color)
		fprintf(stderr, "%s%s\033[0m", color, prefix);
	else
		fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define DEFINE_LOG(fn, min, prefix, color)                                                         \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		va_list ap;                                                                        \
		if (level < (min))                                                                 \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		vlog(prefix, color, fmt, ap);                                                      \
		va_end(ap);                                                                        \
	}

DEFINE_LOG(den_info, DEN_LOG_INFO, "==> ", "\033[1;32m")
DEFINE_LOG(den_warn, DEN_LOG_INFO, "warning: ", "\033[1;33m")
DEFINE_LOG(den_verbose, DEN_LOG_VERBOSE, "    ", "")
DEFINE_LOG(den_debug, DEN_LOG_DEBUG, "debug: ", "\033[2m")

void den_bug(const char *file, int line, const char *what)
{
	fprintf(stderr,
		"den: internal error at %s:%d: %s\n"
		"This is a bug in den; please report it with the command you ran.\n",
		file, line, what);
	abort();
}

void den_crash_point(const char *name)
{
	const char *at = getenv("DEN_CRASH_AT");

	if (at != NULL && strcmp(at, name) == 0)
		raise(SIGKILL);
}
