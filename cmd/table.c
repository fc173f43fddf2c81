/* SPDX-License-Identifier: MIT */
#include "cmd/table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, size_t cols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
}

void table_add(struct table *t, const char *const *row)
{
	if (t->rows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		const char **p = realloc(t->cells, cap * t->cols * sizeof(*p));
		if (p == NULL) {
			t->failed = true;
			return;
		}
		t->cells = p;
		t->cap = cap;
	}
	for (size_t c = 0; c < t->cols; c++)
		t->cells[t->rows * t->cols + c] = row[c] ? row[c] : "";
	t->rows++;
}

const char *table_addf(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (t->n_owned == t->cap_owned) {
		size_t cap = t->cap_owned ? t->cap_owned * 2 : 16;
		char **p = realloc(t->owned, cap * sizeof(*p));
		if (p == NULL) {
			t->failed = true;
			return "";
		}
		t->owned = p;
		t->cap_owned = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL) {
		t->failed = true;
		return "";
	}
	t->owned[t->n_owned++] = s;
	return s;
}

void table_print(const struct table *t, FILE *out, bool color)
{
	size_t width[TABLE_MAX_COLS] = { 0 };

	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->cols && c < TABLE_MAX_COLS; c++) {
			size_t w = strlen(t->cells[r * t->cols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->rows; r++) {
		if (r == 0 && color)
			fputs("\033[1m", out);
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = t->cells[r * t->cols + c];
			if (c + 1 == t->cols)
				fputs(s, out);
			else
				fprintf(out, "%-*s  ", (int)width[c], s);
		}
		if (r == 0 && color)
			fputs("\033[0m", out);
		fputc('\n', out);
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n_owned; i++)
		free(t->owned[i]);
	free(t->owned);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
