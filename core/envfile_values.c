/* SPDX-License-Identifier: MIT */
/*
 * Typed reading of YAML nodes for the Envfile: every getter checks the
 * node's type and value and records an error that names the file, line,
 * column, what was expected and what was found.
 */
#include "core/envfile-internal.h"
#include "core/size.h"
#include "core/suggest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct envfile_pos ectx_pos(const yaml_node_t *node)
{
	struct envfile_pos p = { 1, 1 };

	if (node != NULL) {
		p.line = (int)node->start_mark.line + 1;
		p.col = (int)node->start_mark.column + 1;
	}
	return p;
}

static void append(struct ectx *c, const char *s, size_t n)
{
	if (c->errors_len + n + 1 > c->errors_cap) {
		size_t cap = (c->errors_cap + n + 1) * 2;
		char *p = realloc(c->errors, cap);

		if (p == NULL) {
			c->oom = true;
			return;
		}
		c->errors = p;
		c->errors_cap = cap;
	}
	memcpy(c->errors + c->errors_len, s, n);
	c->errors_len += n;
	c->errors[c->errors_len] = '\0';
}

static int verror(struct ectx *c, struct envfile_pos pos, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	c->n_errors++;
	if (c->n_errors > ENVFILE_MAX_ERRORS)
		return -1;
	n = snprintf(line, sizeof(line), "%s:%d:%d: ", c->ef->path, pos.line, pos.col);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	append(c, line, strlen(line));
	append(c, "\n", 1);
	return -1;
}

int ectx_error_at(struct ectx *c, struct envfile_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, pos, fmt, ap);
	va_end(ap);
	return -1;
}

int ectx_error(struct ectx *c, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, ectx_pos(node), fmt, ap);
	va_end(ap);
	return -1;
}

int ectx_oom(struct ectx *c)
{
	if (!c->oom)
		ectx_error(c, NULL, "out of memory while reading the Envfile");
	c->oom = true;
	return -1;
}

yaml_node_t *ectx_node(struct ectx *c, int index)
{
	yaml_node_t *n = yaml_document_get_node(c->doc, index);

	if (++c->values > ENVFILE_MAX_VALUES) {
		if (c->values == ENVFILE_MAX_VALUES + 1)
			ectx_error(c, n,
				   "the Envfile expands to more than %d values here (aliases are "
				   "counted each time they are used); simplify it",
				   ENVFILE_MAX_VALUES);
		return NULL;
	}
	return n;
}

bool ectx_is_null(const yaml_node_t *n)
{
	if (n == NULL)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *ectx_type_name(const yaml_node_t *n)
{
	if (ectx_is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a single value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a map";
	default:
		return "nothing";
	}
}

/* Shows a scalar in a message: quoted, shortened, control bytes escaped. */
static const char *show(const yaml_node_t *n, char *buf, size_t size)
{
	const unsigned char *v = n->data.scalar.value;
	size_t len = n->data.scalar.length, o = 0;

	buf[o++] = '\'';
	for (size_t i = 0; i < len && o + 8 < size; i++) {
		if (i == 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (v[i] < 0x20 || v[i] == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", v[i]);
		else
			buf[o++] = (char)v[i];
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

static int want_scalar(struct ectx *c, yaml_node_t *n, const char *what, const char *expected)
{
	if (n == NULL)
		return -1;
	if (n->type == YAML_SCALAR_NODE && !ectx_is_null(n)) {
		if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
			return ectx_error(c, n, "%s in %s contains a NUL byte", what, c->where);
		return 0;
	}
	return ectx_error(c, n, "%s in %s: expected %s, got %s", what, c->where, expected,
			  ectx_type_name(n));
}

int ectx_string(struct ectx *c, yaml_node_t *n, const char *what, const char **out)
{
	if (want_scalar(c, n, what, "a string") < 0)
		return -1;
	*out = arena_strndup(&c->ef->arena, (const char *)n->data.scalar.value,
			     n->data.scalar.length);
	return *out == NULL ? ectx_oom(c) : 0;
}

int ectx_bool(struct ectx *c, yaml_node_t *n, const char *what, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	char buf[64];

	if (want_scalar(c, n, what, "true or false") < 0)
		return -1;
	const char *v = (const char *)n->data.scalar.value;
	for (int i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return ectx_error(c, n, "%s in %s: expected true or false, got %s", what, c->where,
			  show(n, buf, sizeof(buf)));
}

int ectx_uint(struct ectx *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
	      uint64_t *out)
{
	char buf[64];
	uint64_t v;

	if (want_scalar(c, n, what, "a whole number") < 0)
		return -1;
	if (!den_parse_u64((const char *)n->data.scalar.value, &v))
		return ectx_error(c, n,
				  "%s in %s: expected a whole number from %" PRIu64 " to %" PRIu64
				  ", got %s",
				  what, c->where, min, max, show(n, buf, sizeof(buf)));
	if (v < min || v > max)
		return ectx_error(c, n,
				  "%s in %s: %s is out of range; expected %" PRIu64 " to %" PRIu64,
				  what, c->where, show(n, buf, sizeof(buf)), min, max);
	*out = v;
	return 0;
}

int ectx_size(struct ectx *c, yaml_node_t *n, const char *what, uint64_t bare_unit, uint64_t min,
	      uint64_t max, uint64_t *out)
{
	char buf[64], lo[32], hi[32];
	const char *why = NULL;
	uint64_t v;

	if (want_scalar(c, n, what, "a size such as 512M or 2G") < 0)
		return -1;
	if (den_size_parse((const char *)n->data.scalar.value, bare_unit, &v, &why) < 0)
		return ectx_error(c, n, "%s in %s: bad size %s: %s", what, c->where,
				  show(n, buf, sizeof(buf)), why);
	if (v < min || v > max) {
		den_size_format(min, lo, sizeof(lo));
		den_size_format(max, hi, sizeof(hi));
		return ectx_error(c, n, "%s in %s: %s is out of range; expected %s to %s", what,
				  c->where, show(n, buf, sizeof(buf)), lo, hi);
	}
	*out = v;
	return 0;
}

int ectx_port(struct ectx *c, yaml_node_t *n, const char *what, uint16_t *out)
{
	uint64_t v = 0;

	if (ectx_uint(c, n, what, 1, 65535, &v) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int ectx_enum(struct ectx *c, yaml_node_t *n, const char *what, const char *const *names, int *out)
{
	char buf[64], list[256] = "";
	size_t o = 0;

	if (want_scalar(c, n, what, "a name") < 0)
		return -1;
	const char *v = (const char *)n->data.scalar.value;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", names[i]);
		if (o >= sizeof(list))
			o = sizeof(list) - 1;
	}
	const char *near = suggest_nearest(v, names);
	if (near != NULL)
		return ectx_error(c, n, "unknown %s %s in %s; did you mean '%s'?", what,
				  show(n, buf, sizeof(buf)), c->where, near);
	return ectx_error(c, n, "unknown %s %s in %s; expected one of: %s", what,
			  show(n, buf, sizeof(buf)), c->where, list);
}

int ectx_sequence(struct ectx *c, yaml_node_t *n, const char *what)
{
	if (n == NULL)
		return -1;
	if (n->type != YAML_SEQUENCE_NODE)
		return ectx_error(c, n, "%s in %s: expected a list, got %s", what, c->where,
				  ectx_type_name(n));
	size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count > ENVFILE_MAX_LIST)
		return ectx_error(c, n, "%s in %s has %zu items; at most %d are allowed", what,
				  c->where, count, ENVFILE_MAX_LIST);
	return 0;
}

int ectx_mapping(struct ectx *c, yaml_node_t *n, const char *what, bool allow_null)
{
	if (n == NULL)
		return -1;
	if (allow_null && ectx_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return ectx_error(c, n, "%s: expected a map of keys and values, got %s", what,
				  ectx_type_name(n));
	size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (count > ENVFILE_MAX_LIST)
		return ectx_error(c, n, "%s has %zu keys; at most %d are allowed", what, count,
				  ENVFILE_MAX_LIST);
	return 0;
}

int ectx_string_list(struct ectx *c, yaml_node_t *n, const char *what, bool allow_single,
		     const char ***out, size_t *n_out)
{
	if (n == NULL)
		return -1;
	if (allow_single && n->type == YAML_SCALAR_NODE && !ectx_is_null(n)) {
		const char **a = arena_calloc(&c->ef->arena, 1, sizeof(*a));

		if (a == NULL)
			return ectx_oom(c);
		if (ectx_string(c, n, what, &a[0]) < 0)
			return -1;
		*out = a;
		*n_out = 1;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return ectx_error(c, n, "%s in %s: expected a list of strings, got %s", what,
				  c->where, ectx_type_name(n));
	if (ectx_sequence(c, n, what) < 0)
		return -1;
	size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	const char **a = arena_calloc(&c->ef->arena, count ? count : 1, sizeof(*a));
	int rc = 0;

	if (a == NULL)
		return ectx_oom(c);
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = ectx_node(c, n->data.sequence.items.start[i]);

		if (item == NULL)
			return -1;
		if (ectx_string(c, item, what, &a[i]) < 0)
			rc = -1;
	}
	*out = a;
	*n_out = count;
	return rc;
}

int ectx_joined(struct ectx *c, yaml_node_t *n, const char *what, const char *sep, const char **out)
{
	const char **items;
	size_t count, len = 0;

	if (ectx_string_list(c, n, what, true, &items, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		len += strlen(items[i]) + strlen(sep);
	char *s = arena_alloc(&c->ef->arena, len + 1);
	if (s == NULL)
		return ectx_oom(c);
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			strcat(s, sep);
		strcat(s, items[i]);
	}
	*out = s;
	return 0;
}

const char *ectx_next(struct ectx *c, struct ectx_iter *it, yaml_node_t **key, yaml_node_t **val)
{
	yaml_node_t *map = it->map;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (;;) {
		if (it->pair == NULL) {
			it->pair = map->data.mapping.pairs.start;
			it->where = c->where;
		} else
			it->pair++;
		if (it->pair >= map->data.mapping.pairs.top)
			return NULL;
		*key = ectx_node(c, it->pair->key);
		*val = ectx_node(c, it->pair->value);
		if (*key == NULL || *val == NULL)
			return NULL;
		if ((*key)->type != YAML_SCALAR_NODE || ectx_is_null(*key)) {
			ectx_error(c, *key, "keys in %s must be names, got %s", it->where,
				   ectx_type_name(*key));
			continue;
		}
		const char *k = (const char *)(*key)->data.scalar.value;
		/* Duplicate keys: YAML forbids them, libyaml does not check. */
		bool dup = false;
		for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < it->pair; p++) {
			yaml_node_t *pk = yaml_document_get_node(c->doc, p->key);

			if (pk != NULL && pk->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)pk->data.scalar.value, k) == 0) {
				ectx_error(c, *key, "duplicate key '%s' in %s (first at line %d)",
					   k, it->where, (int)pk->start_mark.line + 1);
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		return k;
	}
}

int ectx_unknown_key(struct ectx *c, yaml_node_t *key, const char *const *known)
{
	const char *k = (const char *)key->data.scalar.value;
	const char *near = suggest_nearest(k, known);
	char buf[64];

	if (strcmp(k, "<<") == 0)
		return ectx_error(c, key,
				  "YAML merge keys (<<) are not supported in %s; put shared "
				  "settings in `defaults:`, or use an alias for a whole value",
				  c->where);
	if (near != NULL)
		return ectx_error(c, key, "unknown key %s in %s; did you mean '%s'?",
				  show(key, buf, sizeof(buf)), c->where, near);
	char list[512] = "";
	size_t o = 0;
	for (int i = 0; known[i] != NULL && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", known[i]);
	return ectx_error(c, key, "unknown key %s in %s; expected one of: %s",
			  show(key, buf, sizeof(buf)), c->where, list);
}

const char *ectx_host_path(struct ectx *c, const char *p)
{
	const char *r;

	const char *home = getenv("HOME");

	if (p[0] == '/')
		r = arena_strdup(&c->ef->arena, p);
	else if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home != NULL && home[0] == '/')
		r = arena_printf(&c->ef->arena, "%s%s", home, p + 1);
	else if (strcmp(p, ".") == 0)
		r = arena_strdup(&c->ef->arena, c->ef->root);
	else
		r = arena_printf(&c->ef->arena, "%s/%s", c->ef->root,
				 strncmp(p, "./", 2) == 0 ? p + 2 : p);
	if (r == NULL)
		ectx_oom(c);
	return r;
}
