/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_UTF8_H
#define DEN_CORE_UTF8_H

/*
 * One UTF-8 character, for code that shows or passes on text a machine
 * wrote (console tails, values from its state): what is not valid,
 * shortest-form UTF-8 is treated as bytes, never as a character.
 */

#include <stddef.h>

/*
 * The code point at s (left > 0 bytes available), its length in *len;
 * -1 when s does not start a valid sequence.
 */
static inline long den_utf8_next(const unsigned char *s, size_t left, size_t *len)
{
	long cp;
	size_t n;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return -1;
	if (n > left)
		return -1;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = n;
	return cp;
}

/* C0, DEL and C1 controls (U+0080..U+009F: 8-bit CSI and friends). */
static inline int den_is_control(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

#endif
