/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_CLEANUP_H
#define DEN_CORE_CLEANUP_H

/*
 * Scope-bound resources (crun's idiom): a variable declared
 *	cleanup_free char *buf = NULL;
 *	cleanup_close int fd = -1;
 * is released when it goes out of scope. Hand ownership out with
 * steal_pointer() / steal_fd(). Always initialise.
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

static inline void den_free_ptr(void *p)
{
	free(*(void **)p);
}

static inline void den_close_fd(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void den_fclose_ptr(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}

#define cleanup_free __attribute__((cleanup(den_free_ptr)))
#define cleanup_close __attribute__((cleanup(den_close_fd)))
#define cleanup_fclose __attribute__((cleanup(den_fclose_ptr)))

#define steal_pointer(pp)                                                                          \
	({                                                                                         \
		__typeof__(*(pp)) stolen_ = *(pp);                                                 \
		*(pp) = NULL;                                                                      \
		stolen_;                                                                           \
	})

static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* For broken invariants only: a bug in den, never bad input. */
#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (__builtin_expect(!!(cond), 0))                                                 \
			den_bug(__FILE__, __LINE__, #cond);                                        \
	} while (0)

__attribute__((noreturn)) void den_bug(const char *file, int line, const char *what);

#define DEN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
