/* SPDX-License-Identifier: MIT */
#include "core/size.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool den_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static const struct {
	const char *name;
	uint64_t mult;
} units[] = {
	{ "b", 1 },	    { "k", DEN_KIB },	{ "kb", DEN_KIB },  { "kib", DEN_KIB },
	{ "m", DEN_MIB },   { "mb", DEN_MIB },	{ "mib", DEN_MIB }, { "g", DEN_GIB },
	{ "gb", DEN_GIB },  { "gib", DEN_GIB }, { "t", DEN_TIB },   { "tb", DEN_TIB },
	{ "tib", DEN_TIB },
};

int den_size_parse(const char *s, uint64_t bare_unit, uint64_t *out, const char **why)
{
	const char *p = s;
	uint64_t v = 0, mult = bare_unit;
	bool digits = false;

	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			*why = "the number is too large";
			return -1;
		}
		v = v * 10 + d;
		digits = true;
	}
	if (!digits) {
		*why = "expected a size such as 512M or 2G";
		return -1;
	}
	if (*p == '.' || *p == ',') {
		*why = "expected a whole number with a unit, such as 1536M rather than 1.5G";
		return -1;
	}
	while (*p == ' ')
		p++;
	if (*p != '\0') {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcasecmp(p, units[i].name) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0])) {
			*why = "unknown unit; use K, M, G or T (powers of 1024), such as 512M or "
			       "2G";
			return -1;
		}
		mult = units[i].mult;
	}
	if (mult != 0 && v > UINT64_MAX / mult) {
		*why = "the size is too large";
		return -1;
	}
	*out = v * mult;
	return 0;
}

void den_size_format(uint64_t bytes, char *buf, size_t n)
{
	static const struct {
		char suffix;
		uint64_t mult;
	} f[] = { { 'T', DEN_TIB }, { 'G', DEN_GIB }, { 'M', DEN_MIB }, { 'K', DEN_KIB } };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (bytes != 0 && bytes % f[i].mult == 0) {
			snprintf(buf, n, "%" PRIu64 "%c", bytes / f[i].mult, f[i].suffix);
			return;
		}
	}
	snprintf(buf, n, "%" PRIu64 "B", bytes);
}
