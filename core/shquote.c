/* SPDX-License-Identifier: MIT */
#include "core/shquote.h"

#include <stdlib.h>
#include <string.h>

char *shell_quote(const char *s)
{
	size_t n = 2;

	for (const char *p = s; *p != '\0'; p++)
		n += *p == '\'' ? 4 : 1;
	char *q = malloc(n + 1), *o = q;
	if (q == NULL)
		return NULL;
	*o++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}
