/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_VERSION_H
#define DEN_CORE_VERSION_H

/*
 * Box versions and version constraints, with Vagrant's meaning
 * (DESIGN.md §6): versions are dot-separated numbers compared part by
 * part (a missing part is 0: 1.2 == 1.2.0); constraints are `=`, `!=`,
 * `>`, `<`, `>=`, `<=`, `~>` joined by commas, all of which must hold.
 * `~> 1.2` allows >= 1.2 and < 2.0; `~> 1.2.3` allows >= 1.2.3 and < 1.3.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEN_VERSION_PARTS 8
#define DEN_CONSTRAINTS_MAX 16

struct den_version {
	unsigned n; /* parts given, 1..DEN_VERSION_PARTS */
	uint64_t part[DEN_VERSION_PARTS];
};

enum den_version_op { VOP_EQ, VOP_NE, VOP_GT, VOP_LT, VOP_GE, VOP_LE, VOP_PESSIMISTIC };

struct den_constraints {
	size_t n;
	struct {
		enum den_version_op op;
		struct den_version v;
	} c[DEN_CONSTRAINTS_MAX];
};

/* "1.2.3" -> version. Returns -1 with *why set when s is not one. */
int den_version_parse(const char *s, struct den_version *v, const char **why);

/* < 0, 0, > 0 as a is older than, equal to, newer than b. */
int den_version_cmp(const struct den_version *a, const struct den_version *b);

/* "~> 1.2, != 1.2.5" -> constraints. Returns -1 with *why set on a bad one. */
int den_constraints_parse(const char *s, struct den_constraints *out, const char **why);

/* True when v satisfies every constraint (an empty set allows all). */
bool den_constraints_match(const struct den_constraints *c, const struct den_version *v);

#endif
