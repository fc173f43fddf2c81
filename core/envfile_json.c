/* SPDX-License-Identifier: MIT */
/*
 * Free-form Envfile values (ansible extra_vars, groups) turned into JSON
 * text. Plain scalars get YAML 1.1 types as PyYAML (and so Ansible) reads
 * them: null, true/yes/on, integers, floats; quoted scalars stay strings.
 * Depth and size are bounded: aliases can make a small file huge.
 */
#include "core/envfile-internal.h"
#include "core/cleanup.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *scalar_to_json(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(v, len);
	if (ectx_is_null(n))
		return json_null();
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	for (int i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return json_true();
		if (strcasecmp(v, no[i]) == 0)
			return json_false();
	}
	/* Integers: optional sign, digits, or 0x hex. */
	char *end = NULL;
	errno = 0;
	if ((v[0] >= '0' && v[0] <= '9') ||
	    ((v[0] == '-' || v[0] == '+') && v[1] >= '0' && v[1] <= '9')) {
		long long ll = strtoll(v, &end, 0);
		if (*end == '\0' && errno == 0 && !(v[0] == '0' && v[1] >= '0' && v[1] <= '9'))
			return json_integer(ll);
		errno = 0;
		double d = strtod(v, &end);
		if (*end == '\0' && errno == 0 && isfinite(d) && strpbrk(v, "xX") == NULL)
			return json_real(d);
	}
	return json_stringn(v, len);
}

static json_t *to_json(struct ectx *c, yaml_node_t *n, const char *what, int depth)
{
	if (n == NULL)
		return NULL;
	if (depth > ENVFILE_MAX_DEPTH) {
		ectx_error(c, n, "%s in %s nests deeper than %d levels", what, c->where,
			   ENVFILE_MAX_DEPTH);
		return NULL;
	}
	if (n->type == YAML_SCALAR_NODE) {
		if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
			ectx_error(c, n, "%s in %s contains a NUL byte", what, c->where);
			return NULL;
		}
		json_t *j = scalar_to_json(n);
		if (j == NULL)
			ectx_error(c, n, "%s in %s: text is not valid UTF-8", what, c->where);
		return j;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		json_t *arr = json_array();
		if (arr == NULL || ectx_sequence(c, n, what) < 0) {
			json_decref(arr);
			return NULL;
		}
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			json_t *v = to_json(c, ectx_node(c, *i), what, depth + 1);
			if (v == NULL || json_array_append_new(arr, v) < 0) {
				json_decref(arr);
				return NULL;
			}
		}
		return arr;
	}
	if (n->type == YAML_MAPPING_NODE) {
		json_t *obj = json_object();
		struct ectx_iter it = ECTX_ITER(n);
		yaml_node_t *k, *v;
		const char *key;

		if (obj == NULL || ectx_mapping(c, n, what, false) < 0) {
			json_decref(obj);
			return NULL;
		}
		while ((key = ectx_next(c, &it, &k, &v)) != NULL) {
			json_t *jv = to_json(c, v, what, depth + 1);
			if (jv == NULL || json_object_set_new(obj, key, jv) < 0) {
				json_decref(obj);
				return NULL;
			}
		}
		return obj;
	}
	ectx_error(c, n, "%s in %s: unsupported value", what, c->where);
	return NULL;
}

int ectx_to_json(struct ectx *c, yaml_node_t *n, const char *what, const char **out)
{
	unsigned before = c->n_errors;
	json_t *j = to_json(c, n, what, 0);

	if (j == NULL || c->n_errors != before) {
		json_decref(j);
		return -1;
	}
	cleanup_free char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (text == NULL)
		return ectx_oom(c);
	*out = arena_strdup(&c->ef->arena, text);
	return *out == NULL ? ectx_oom(c) : 0;
}
