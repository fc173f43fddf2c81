/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_SUGGEST_H
#define DEN_CORE_SUGGEST_H

/* "did you mean ...?" for keys, commands, providers and templates. */

#include <stddef.h>

/*
 * Edit distance counting an adjacent swap as one edit ("memroy" ->
 * "memory" is 1), case-insensitive.
 */
size_t suggest_distance(const char *a, const char *b);

/*
 * The candidate nearest to word, or NULL when none is close enough to be
 * a likely typo. candidates is NULL-terminated.
 */
const char *suggest_nearest(const char *word, const char *const *candidates);

#endif
