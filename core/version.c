/* SPDX-License-Identifier: MIT */
#include "core/version.h"

#include <ctype.h>
#include <string.h>

int den_version_parse(const char *s, struct den_version *v, const char **why)
{
	memset(v, 0, sizeof(*v));
	for (;;) {
		uint64_t part = 0;
		bool digits = false;

		for (; isdigit((unsigned char)*s); s++, digits = true) {
			if (part > (UINT64_MAX - 9) / 10) {
				*why = "a version part is too large";
				return -1;
			}
			part = part * 10 + (uint64_t)(*s - '0');
		}
		if (!digits) {
			*why = "expected a version of numbers and dots, such as 1.2.3";
			return -1;
		}
		if (v->n == DEN_VERSION_PARTS) {
			*why = "a version has at most 8 parts";
			return -1;
		}
		v->part[v->n++] = part;
		if (*s == '\0')
			return 0;
		if (*s++ != '.') {
			*why = "expected a version of numbers and dots, such as 1.2.3";
			return -1;
		}
	}
}

int den_version_cmp(const struct den_version *a, const struct den_version *b)
{
	unsigned n = a->n > b->n ? a->n : b->n;

	for (unsigned i = 0; i < n; i++) {
		uint64_t x = i < a->n ? a->part[i] : 0, y = i < b->n ? b->part[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static const struct {
	const char *text;
	enum den_version_op op;
} ops[] = {
	/* Two-character operators first, so ">=" is not read as ">". */
	{ "~>", VOP_PESSIMISTIC }, { ">=", VOP_GE }, { "<=", VOP_LE }, { "!=", VOP_NE },
	{ "=", VOP_EQ },	   { ">", VOP_GT },  { "<", VOP_LT },
};

/* Parses one "OP VERSION" of len bytes. */
static int parse_one(const char *s, size_t len, struct den_constraints *out, const char **why)
{
	char buf[128];
	const char *p = buf;
	enum den_version_op op = VOP_EQ;

	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0) {
		*why = "an empty constraint (two commas, or one at an end)";
		return -1;
	}
	if (len >= sizeof(buf)) {
		*why = "a constraint is too long";
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].text);
		if (strncmp(p, ops[i].text, n) == 0) {
			op = ops[i].op;
			p += n;
			break;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	if (out->n == DEN_CONSTRAINTS_MAX) {
		*why = "at most 16 constraints";
		return -1;
	}
	if (den_version_parse(p, &out->c[out->n].v, why) < 0) {
		if (!isdigit((unsigned char)*p))
			*why = "expected an operator (=, !=, >, <, >=, <=, ~>) and a version, such "
			       "as \">= 1.0\" or \"~> 1.2\"";
		return -1;
	}
	out->c[out->n++].op = op;
	return 0;
}

int den_constraints_parse(const char *s, struct den_constraints *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (parse_one(s, len, out, why) < 0)
			return -1;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

/* ~> X.Y.Z: at least X.Y.Z, below X.(Y+1); ~> X: at least X, below X+1. */
static bool pessimistic(const struct den_version *want, const struct den_version *v)
{
	struct den_version upper = *want;

	if (den_version_cmp(v, want) < 0)
		return false;
	if (upper.n > 1)
		upper.n--;
	upper.part[upper.n - 1]++;
	return den_version_cmp(v, &upper) < 0;
}

bool den_constraints_match(const struct den_constraints *c, const struct den_version *v)
{
	for (size_t i = 0; i < c->n; i++) {
		int cmp = den_version_cmp(v, &c->c[i].v);
		bool ok = false;

		switch (c->c[i].op) {
		case VOP_EQ:
			ok = cmp == 0;
			break;
		case VOP_NE:
			ok = cmp != 0;
			break;
		case VOP_GT:
			ok = cmp > 0;
			break;
		case VOP_LT:
			ok = cmp < 0;
			break;
		case VOP_GE:
			ok = cmp >= 0;
			break;
		case VOP_LE:
			ok = cmp <= 0;
			break;
		case VOP_PESSIMISTIC:
			ok = pessimistic(&c->c[i].v, v);
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}
