/* SPDX-License-Identifier: MIT */
/*
 * `matrix:` expands one machine into one per combination of values:
 *	test:
 *	  matrix:
 *	    box: [den/debian-11, den/debian-12]
 *	    memory: [512M, 1G]
 * gives test-debian-11-512M, test-debian-11-1G, test-debian-12-512M and
 * test-debian-12-1G. A box value contributes the part after its last '/'.
 */
#include "core/envfile-internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MATRIX_MAX 256

static const char *const matrix_keys[] = { "box",    "box_version", "box_url", "provider", "cpus",
					   "memory", "disk_size",   "network", "accel",	   NULL };

struct axis {
	const char *key;
	yaml_node_t *key_node;
	yaml_node_t **values;
	size_t n;
};

static int grow(struct ectx *c, struct machine **list, size_t *n, size_t *cap)
{
	if (*n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	struct machine *p = realloc(*list, ncap * sizeof(*p));
	if (p == NULL)
		return ectx_oom(c);
	*list = p;
	*cap = ncap;
	return 0;
}

/* Appends "-value" (box: its last path part) with unsafe characters as '-'. */
static void add_suffix(char *name, size_t size, const char *key, const char *value)
{
	size_t len = strlen(name);
	const char *slash = strrchr(value, '/');

	if (strcmp(key, "box") == 0 && slash != NULL && slash[1] != '\0')
		value = slash + 1;
	if (len + 1 < size)
		name[len++] = '-';
	for (; *value != '\0' && len + 1 < size; value++)
		name[len++] =
			isalnum((unsigned char)*value) || strchr("_.-", *value) ? *value : '-';
	name[len] = '\0';
}

static int read_axes(struct ectx *c, const struct machine *base, yaml_node_t *matrix,
		     struct axis *axes, size_t *n_axes, size_t *combos)
{
	struct ectx_iter it = ECTX_ITER(matrix);
	yaml_node_t *k, *v;
	const char *key;
	int rc = 0;

	*combos = 1;
	while ((key = ectx_next(c, &it, &k, &v)) != NULL) {
		int idx;
		struct machine probe = { 0 };

		if (ectx_enum(c, k, "matrix key", matrix_keys, &idx) < 0) {
			rc = -1;
			continue;
		}
		if (ectx_sequence(c, v, "matrix values") < 0) {
			rc = -1;
			continue;
		}
		size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
		if (n == 0) {
			rc = ectx_error(c, v, "matrix '%s' in %s has no values", key, c->where);
			continue;
		}
		struct axis *a = &axes[(*n_axes)++];
		a->key = key;
		a->key_node = k;
		a->n = n;
		a->values = arena_calloc(&c->ef->arena, n, sizeof(*a->values));
		if (a->values == NULL)
			return ectx_oom(c);
		for (size_t i = 0; i < n; i++) {
			a->values[i] = ectx_node(c, v->data.sequence.items.start[i]);
			if (a->values[i] == NULL)
				return -1;
			if (a->values[i]->type != YAML_SCALAR_NODE || ectx_is_null(a->values[i]))
				rc = ectx_error(
					c, a->values[i],
					"matrix '%s' in %s: expected a single value, got %s", key,
					c->where, ectx_type_name(a->values[i]));
			else if (envfile_apply_key(c, key, a->values[i], &probe) < 0)
				rc = -1;
		}
		if (probe.set & base->set)
			rc = ectx_error(c, k, "'%s' is set on %s and in its matrix; keep one", key,
					c->where);
		if (*combos > MATRIX_MAX / n)
			*combos = MATRIX_MAX + 1;
		else
			*combos *= n;
	}
	return rc;
}

int envfile_expand_matrix(struct ectx *c, const struct machine *base, yaml_node_t *matrix,
			  struct machine **list, size_t *n, size_t *cap)
{
	struct axis axes[16];
	size_t n_axes = 0, combos;
	size_t pairs;

	if (ectx_mapping(c, matrix, "matrix", false) < 0)
		return -1;
	pairs = (size_t)(matrix->data.mapping.pairs.top - matrix->data.mapping.pairs.start);
	if (pairs == 0)
		return ectx_error(c, matrix,
				  "matrix in %s is empty; give it a key with a list of "
				  "values, such as box: [den/debian-11, den/debian-12]",
				  c->where);
	if (pairs > 16)
		return ectx_error(c, matrix, "matrix in %s has %zu keys; at most 16 are allowed",
				  c->where, pairs);
	if (read_axes(c, base, matrix, axes, &n_axes, &combos) < 0)
		return -1;
	if (combos > MATRIX_MAX)
		return ectx_error(c, matrix,
				  "matrix in %s expands to more than %d machines; split it",
				  c->where, MATRIX_MAX);

	size_t idx[16] = { 0 };
	for (size_t done = 0; done < combos; done++) {
		char name[256];

		if (grow(c, list, n, cap) < 0)
			return -1;
		struct machine *m = &(*list)[(*n)++];
		*m = *base;
		m->matrix_of = base->name;
		snprintf(name, sizeof(name), "%s", base->name);
		for (size_t a = 0; a < n_axes; a++) {
			yaml_node_t *v = axes[a].values[idx[a]];

			add_suffix(name, sizeof(name), axes[a].key,
				   (const char *)v->data.scalar.value);
			if (envfile_apply_key(c, axes[a].key, v, m) < 0)
				return -1;
		}
		m->name = arena_strdup(&c->ef->arena, name);
		if (m->name == NULL)
			return ectx_oom(c);
		/* Next combination: the last axis varies fastest. */
		for (size_t a = n_axes; a-- > 0;) {
			if (++idx[a] < axes[a].n)
				break;
			idx[a] = 0;
		}
	}
	return 0;
}
