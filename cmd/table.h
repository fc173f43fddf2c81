/* SPDX-License-Identifier: MIT */
#ifndef DEN_CMD_TABLE_H
#define DEN_CMD_TABLE_H

/* Column-aligned text tables for people (status, box list, exec summaries). */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8

struct table {
	size_t cols;
	size_t rows, cap;
	const char **cells; /* rows * cols, not owned */
	char **owned;	    /* cells table_addf() allocated */
	size_t n_owned, cap_owned;
	bool failed; /* out of memory on the way */
};

void table_init(struct table *t, size_t cols);
/* Adds a row of t->cols strings (not copied: they must outlive the table). */
void table_add(struct table *t, const char *const *row);
/* A formatted cell whose memory the table owns. */
const char *table_addf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the rows; the first row is the header (bold when color). */
void table_print(const struct table *t, FILE *out, bool color);
void table_free(struct table *t);

#endif
