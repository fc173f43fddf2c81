/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_ARENA_H
#define DEN_CORE_ARENA_H

/*
 * A bump allocator for data that lives and dies together, such as a parsed
 * Envfile: many small strings and structs, freed in one call. Allocations
 * are zeroed. Functions return NULL only when memory runs out.
 */

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* newest chunk first */
	size_t used;		  /* bytes handed out, for limits and tests */
};

/* Zeroed, 16-byte aligned storage for n bytes. */
void *arena_alloc(struct arena *a, size_t n);

/* Zeroed array of n elements of size sz (overflow-checked). */
void *arena_calloc(struct arena *a, size_t n, size_t sz);

/* Copies of strings. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees every allocation at once; the arena can be reused after. */
void arena_release(struct arena *a);

#endif
