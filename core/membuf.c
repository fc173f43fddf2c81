/* SPDX-License-Identifier: MIT */
/* An answer read into memory, up to a cap (core/membuf.h). */
#include "core/membuf.h"

#include <stdlib.h>
#include <string.h>

size_t den_membuf_write(char *data, size_t size, size_t n, void *membuf)
{
	struct den_membuf *m = membuf;
	size_t len = size * n;

	if (len > m->max || m->len > m->max - len) {
		m->too_big = true;
		return 0;
	}
	if (m->len + len + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->len + len + 1)
			cap *= 2;
		char *b = realloc(m->data, cap);
		if (b == NULL)
			return 0;
		m->data = b;
		m->cap = cap;
	}
	memcpy(m->data + m->len, data, len);
	m->len += len;
	m->data[m->len] = '\0';
	return len;
}
