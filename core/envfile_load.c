/* SPDX-License-Identifier: MIT */
/*
 * Reading an Envfile: the file, the YAML document (libyaml), the top-level
 * keys, then each machine with defaults merged and matrices expanded, and
 * last the checks across machines. Problems are collected (up to
 * ENVFILE_MAX_ERRORS) so one `den validate` shows them all.
 */
#include "core/envfile-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <ctype.h>
#include <jansson.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int read_envfile(const char *path, const char *shown, char **out, size_t *len,
			struct den_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	if (!S_ISREG(st.st_mode))
		return den_err_kind_set(err, DEN_ERR_ENVFILE, "%s:1:1: not a regular file", shown);
	if (st.st_size > ENVFILE_MAX_BYTES)
		return den_err_kind_set(err, DEN_ERR_ENVFILE,
					"%s:1:1: the Envfile is %lld bytes; an Envfile may be at "
					"most %u bytes (1 MiB)",
					shown, (long long)st.st_size, ENVFILE_MAX_BYTES);
	return den_read_file(path, ENVFILE_MAX_BYTES, out, len, err);
}

/* Line and column of a byte offset, for libyaml's reader errors. */
static struct envfile_pos offset_pos(const char *data, size_t len, size_t off)
{
	struct envfile_pos p = { 1, 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (data[i] == '\n') {
			p.line++;
			p.col = 1;
		} else {
			p.col++;
		}
	}
	return p;
}

/* Turns libyaml's terse problems into a sentence about what to fix. */
static const char *yaml_hint(const yaml_parser_t *p, const char *data, size_t len)
{
	const char *problem = p->problem ? p->problem : "";
	const char *context = p->context ? p->context : "";
	size_t at = p->problem_mark.index;

	if ((strstr(problem, "cannot start any token") || strstr(problem, "tab")) && at < len &&
	    data[at] == '\t')
		return "a tab is used for indentation; YAML needs spaces";
	if (strstr(problem, "tab"))
		return "a tab is used for indentation; YAML needs spaces";
	if (strstr(context, "quoted scalar"))
		return "a quoted string is never closed";
	if (strstr(problem, "mapping values are not allowed"))
		return "check the indentation, or put quotes around a value that contains ': '";
	if (strstr(problem, "did not find expected key") ||
	    strstr(problem, "did not find expected '-'"))
		return "this line is not indented like the keys above it";
	if (strstr(problem, "control characters") || strstr(problem, "UTF-8") ||
	    strstr(problem, "invalid") || strstr(problem, "NUL"))
		return "the file is not UTF-8 text; an Envfile is YAML";
	if (strstr(problem, "undefined alias"))
		return "an alias (*name) is used without a matching anchor (&name) before it";
	if (strstr(context, "flow"))
		return "a [list] or {map} is never closed, or a comma is missing";
	return "";
}

static int yaml_error(struct ectx *c, const yaml_parser_t *p, const char *data, size_t len)
{
	struct envfile_pos pos,
		start = { (int)p->context_mark.line + 1, (int)p->context_mark.column + 1 };
	const char *hint = yaml_hint(p, data, len);
	const char *context = p->context ? p->context : "";
	char where[96] = "";

	if (p->error == YAML_READER_ERROR)
		pos = offset_pos(data, len, p->problem_offset);
	else
		pos = (struct envfile_pos){ (int)p->problem_mark.line + 1,
					    (int)p->problem_mark.column + 1 };
	/* An unclosed quote is reported at the end of the file: point at its start. */
	if (strstr(context, "quoted scalar") != NULL && p->error == YAML_SCANNER_ERROR)
		pos = start;
	else if (strstr(context, "flow") != NULL || strstr(context, "block") != NULL)
		snprintf(where, sizeof(where), " (it starts at line %d, column %d)", start.line,
			 start.col);
	return ectx_error_at(c, pos, "invalid YAML: %s%s%s%s%s%s",
			     p->problem ? p->problem : "cannot parse", context[0] ? " " : "",
			     context, where, hint[0] ? "; " : "", hint);
}

static bool valid_machine_name(const char *s)
{
	if (!isalnum((unsigned char)s[0]) || strlen(s) > 63)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

struct machines_acc {
	struct machine *list;
	size_t n, cap;
};

static int add_machine(struct ectx *c, struct machines_acc *acc, const struct machine *m)
{
	if (acc->n == acc->cap) {
		size_t cap = acc->cap ? acc->cap * 2 : 16;
		struct machine *p = realloc(acc->list, cap * sizeof(*p));
		if (p == NULL)
			return ectx_oom(c);
		acc->list = p;
		acc->cap = cap;
	}
	acc->list[acc->n++] = *m;
	return 0;
}

static int read_machines(struct ectx *c, yaml_node_t *map, const struct machine *defaults,
			 struct machines_acc *acc)
{
	struct ectx_iter it = ECTX_ITER(map);
	yaml_node_t *k, *v;
	const char *key;
	int rc = 0;

	c->where = "machines";
	if (ectx_mapping(c, map, "machines", false) < 0)
		return -1;
	if (map->data.mapping.pairs.top == map->data.mapping.pairs.start)
		return ectx_error(c, map,
				  "machines is empty; add at least one machine, such as "
				  "`web: { box: den/debian-12 }`");
	while ((key = ectx_next(c, &it, &k, &v)) != NULL) {
		struct machine m = { 0 };
		yaml_node_t *matrix = NULL;
		char where[128];
		size_t first = acc->n;

		c->where = "machines";
		if (!valid_machine_name(key)) {
			rc = ectx_error(
				c, k,
				"machine name '%.64s' is not allowed; use letters, digits, "
				"'-', '_' and '.', starting with a letter or digit, at most "
				"63 characters",
				key);
			continue;
		}
		snprintf(where, sizeof(where), "machine '%s'", key);
		c->where = arena_strdup(&c->ef->arena, where);
		m.name = arena_strdup(&c->ef->arena, key);
		m.pos = ectx_pos(k);
		if (c->where == NULL || m.name == NULL)
			return ectx_oom(c);
		if (envfile_parse_machine(c, v, &m, false, &matrix) < 0) {
			rc = -1;
			continue;
		}
		if (matrix != NULL) {
			if (envfile_expand_matrix(c, &m, matrix, &acc->list, &acc->n, &acc->cap) <
			    0) {
				rc = -1;
				continue;
			}
		} else if (add_machine(c, acc, &m) < 0) {
			return -1;
		}
		if (acc->n > ENVFILE_MAX_MACHINES)
			return ectx_error(c, k, "the Envfile has more than %d machines",
					  ENVFILE_MAX_MACHINES);
		for (size_t i = first; i < acc->n; i++) {
			snprintf(where, sizeof(where), "machine '%s'", acc->list[i].name);
			c->where = arena_strdup(&c->ef->arena, where);
			if (c->where == NULL)
				return ectx_oom(c);
			if (envfile_merge_defaults(c, &acc->list[i], defaults) < 0 ||
			    envfile_finish_machine(c, &acc->list[i]) < 0)
				rc = -1;
		}
	}
	return rc;
}

static int read_top(struct ectx *c, yaml_node_t *root)
{
	static const char *const known[] = { "den", "name", "defaults", "machines", NULL };
	struct ectx_iter it = ECTX_ITER(root);
	struct machines_acc acc = { 0 };
	struct machine defaults = { 0 };
	yaml_node_t *k, *v, *machines = NULL;
	const char *key;
	bool have_den = false;
	int rc = 0;

	c->where = "the Envfile";
	if (root->type != YAML_MAPPING_NODE)
		return ectx_error(c, root,
				  "the Envfile must be a map with `den: 1` and `machines:`, got %s",
				  ectx_type_name(root));
	while ((key = ectx_next(c, &it, &k, &v)) != NULL) {
		c->where = "the Envfile";
		if (strcmp(key, "den") == 0) {
			uint64_t ver;
			have_den = true;
			if (ectx_uint(c, v, "den (the Envfile format version)", 1, UINT32_MAX,
				      &ver) < 0)
				rc = -1;
			else if (ver != 1)
				rc = ectx_error(
					c, v,
					"this Envfile is format %llu; this den reads format 1 "
					"(upgrade den)",
					(unsigned long long)ver);
		} else if (strcmp(key, "name") == 0) {
			rc |= ectx_string(c, v, "name", &c->ef->name);
		} else if (strcmp(key, "defaults") == 0) {
			yaml_node_t *matrix = NULL;
			c->where = "defaults";
			rc |= envfile_parse_machine(c, v, &defaults, true, &matrix);
		} else if (strcmp(key, "machines") == 0) {
			machines = v;
		} else {
			rc = ectx_unknown_key(c, k, known);
		}
	}
	if (!have_den)
		rc = ectx_error(c, root,
				"the Envfile has no `den: 1` line (the format version); "
				"add it at the top");
	if (machines == NULL)
		return ectx_error(c, root,
				  "the Envfile has no `machines:`; add at least one "
				  "machine");
	if (rc < 0)
		return -1; /* defaults must be sound before they are merged */
	rc = read_machines(c, machines, &defaults, &acc);
	if (rc == 0 && acc.n > 0) {
		c->ef->machines = arena_calloc(&c->ef->arena, acc.n, sizeof(*acc.list));
		if (c->ef->machines == NULL)
			rc = ectx_oom(c);
		else
			memcpy(c->ef->machines, acc.list, acc.n * sizeof(*acc.list));
		c->ef->n_machines = acc.n;
	}
	free(acc.list);
	if (rc == 0)
		rc = envfile_check(c);
	return rc;
}

/*
 * libyaml checks every open [list] or {map} level for each token, which is
 * quadratic in the nesting depth: 100000 '[' take minutes. Refuse deep
 * flow nesting before parsing. Quoted strings and comments are skipped; an
 * opener counts only where YAML can start a collection (after ':', '-',
 * ',', '[', '{', '?' or at the start of a line), so `a[0]` in a plain
 * value is not one.
 */
static int check_flow_depth(struct ectx *c, const char *data, size_t len)
{
	int depth = 0;
	char prev = '\n'; /* last character that was not a space */

	for (size_t i = 0; i < len; i++) {
		char ch = data[i];

		if (ch == '\'' || ch == '"') {
			for (i++; i < len && data[i] != ch; i++)
				if (ch == '"' && data[i] == '\\')
					i++;
			prev = ch;
			continue;
		}
		if (ch == '#' &&
		    (i == 0 || data[i - 1] == ' ' || data[i - 1] == '\t' || data[i - 1] == '\n')) {
			while (i < len && data[i] != '\n')
				i++;
			prev = '\n';
			continue;
		}
		if ((ch == '[' || ch == '{') && strchr(":-,[{?\n", prev) != NULL) {
			if (++depth > ENVFILE_MAX_FLOW_DEPTH)
				return ectx_error_at(
					c, offset_pos(data, len, i),
					"[lists] and {maps} nest deeper than %d levels "
					"here; an Envfile needs only a few",
					ENVFILE_MAX_FLOW_DEPTH);
		} else if ((ch == ']' || ch == '}') && depth > 0) {
			depth--;
		}
		if (ch != ' ' && ch != '\t' && ch != '\r')
			prev = ch;
	}
	return 0;
}

typedef int (*walk_fn)(struct ectx *c, yaml_node_t *root, void *arg);

static int walk_envfile(struct ectx *c, yaml_node_t *root, void *arg)
{
	(void)arg;
	return read_top(c, root);
}

static int parse_document(struct ectx *c, const char *data, size_t len, walk_fn walk, void *arg)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	int rc;

	if (check_flow_depth(c, data, len) < 0)
		return -1;
	if (!yaml_parser_initialize(&parser))
		return ectx_oom(c);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_error(c, &parser, data, len);
		yaml_parser_delete(&parser);
		return rc;
	}
	c->doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		rc = ectx_error(c, NULL,
				"the %s is empty; start with `den: 1` and a "
				"`machines:` map (`den init` writes one)",
				walk == walk_envfile ? "Envfile" : "file");
	} else if (!yaml_parser_load(&parser, &extra)) {
		rc = yaml_error(c, &parser, data, len);
	} else {
		yaml_node_t *second = yaml_document_get_root_node(&extra);
		if (second != NULL)
			rc = ectx_error(c, second,
					"a second YAML document starts here; an Envfile holds one "
					"(remove the extra `---`)");
		else
			rc = walk(c, root, arg);
		yaml_document_delete(&extra);
	}
	c->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/* Turns collected problems into err: one line each, then a count of the rest. */
static int finish_errors(struct ectx *c, const char *shown, struct den_err *err)
{
	if (c->n_errors > ENVFILE_MAX_ERRORS) {
		char more[96];
		int n = snprintf(more, sizeof(more), "%s: ... and %u more problems\n", shown,
				 c->n_errors - ENVFILE_MAX_ERRORS);
		char *p = realloc(c->errors, c->errors_len + (size_t)n + 1);
		if (p != NULL) {
			memcpy(p + c->errors_len, more, (size_t)n + 1);
			c->errors = p;
			c->errors_len += (size_t)n;
		}
	}
	if (c->errors_len > 0 && c->errors[c->errors_len - 1] == '\n')
		c->errors[--c->errors_len] = '\0';
	den_err_kind_set(err, DEN_ERR_ENVFILE, "%s", c->errors ? c->errors : "out of memory");
	free(c->errors);
	c->errors = NULL;
	return -1;
}

static int walk_json(struct ectx *c, yaml_node_t *root, void *arg)
{
	const char *text = NULL;

	c->where = "the file";
	if (ectx_to_json(c, root, "the file", &text) < 0)
		return -1;
	*(json_t **)arg = json_loads(text, JSON_DECODE_ANY, NULL);
	return *(json_t **)arg == NULL ? ectx_oom(c) : 0;
}

int yaml_load_json(const char *data, size_t len, const char *shown, json_t **out,
		   struct den_err *err)
{
	struct envfile scratch = { .path = shown, .root = "/" };
	struct ectx c = { .ef = &scratch };
	json_t *j = NULL;

	if (len > ENVFILE_MAX_BYTES)
		return den_err_kind_set(err, DEN_ERR_ENVFILE, "%s:1:1: larger than 1 MiB", shown);
	parse_document(&c, data, len, walk_json, &j);
	arena_release(&scratch.arena);
	if (c.n_errors > 0 || c.oom) {
		json_decref(j);
		return finish_errors(&c, shown, err);
	}
	*out = j;
	return 0;
}

int envfile_load_buffer(const char *data, size_t len, const char *shown, const char *root,
			struct envfile **out, struct den_err *err)
{
	struct envfile *ef = calloc(1, sizeof(*ef));
	struct ectx c = { 0 };

	if (ef == NULL)
		return den_err_set(err, ENOMEM, "cannot read %s", shown);
	c.ef = ef;
	ef->path = arena_strdup(&ef->arena, shown);
	ef->root = arena_strdup(&ef->arena, root);
	if (ef->path == NULL || ef->root == NULL) {
		envfile_free(ef);
		return den_err_set(err, ENOMEM, "cannot read %s", shown);
	}
	if (len > ENVFILE_MAX_BYTES) {
		envfile_free(ef);
		return den_err_kind_set(
			err, DEN_ERR_ENVFILE,
			"%s:1:1: the Envfile is %zu bytes; an Envfile may be at most "
			"%u bytes (1 MiB)",
			shown, len, ENVFILE_MAX_BYTES);
	}
	parse_document(&c, data, len, walk_envfile, NULL);
	if (c.n_errors > 0 || c.oom) {
		finish_errors(&c, shown, err);
		envfile_free(ef);
		return -1;
	}
	free(c.errors);
	if (ef->name == NULL)
		ef->name = basename_of(ef->root);
	*out = ef;
	return 0;
}

int envfile_load(const char *path, const char *shown, const char *root, struct envfile **out,
		 struct den_err *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;

	if (read_envfile(path, shown, &data, &len, err) < 0)
		return -1;
	return envfile_load_buffer(data, len, shown, root, out, err);
}

void envfile_free(struct envfile *ef)
{
	if (ef == NULL)
		return;
	arena_release(&ef->arena);
	free(ef);
}
