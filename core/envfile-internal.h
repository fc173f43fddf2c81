/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_ENVFILE_INTERNAL_H
#define DEN_CORE_ENVFILE_INTERNAL_H

/*
 * Shared by the Envfile reader's files: envfile_yaml.c (the document and
 * typed getters), envfile_machine.c, envfile_provision.c,
 * envfile_matrix.c, envfile_check.c, envfile_json.c.
 */

#include <yaml.h>

#include "core/envfile.h"

#define ENVFILE_MAX_ERRORS 10
#define ENVFILE_MAX_VALUES 1000000 /* values visited, aliases counted each time */
#define ENVFILE_MAX_DEPTH 64	   /* nesting of free-form values (extra_vars) */
#define ENVFILE_MAX_LIST 4096	   /* items in one list or map */
#define ENVFILE_MAX_FLOW_DEPTH 100 /* nested [ ] and { } before libyaml sees them */

struct ectx {
	struct envfile *ef;
	yaml_document_t *doc;
	const char *where; /* "machine 'web'", "defaults": for messages */
	char *errors;	   /* accumulated "FILE:L:C: msg\n" lines */
	size_t errors_len, errors_cap;
	unsigned n_errors;
	unsigned long values; /* values visited, against alias bombs */
	bool oom;
};

/* Records a problem at node (NULL: 1:1). Returns -1. */
int ectx_error(struct ectx *c, const yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, at a position. Returns -1. */
int ectx_error_at(struct ectx *c, struct envfile_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The position of a node, 1-based. */
struct envfile_pos ectx_pos(const yaml_node_t *node);

/* A node by index; counts it against the value budget. NULL past it. */
yaml_node_t *ectx_node(struct ectx *c, int index);

/* Out of memory: recorded once, returns -1. */
int ectx_oom(struct ectx *c);

/* Text of a node's type for "expected X, got Y" messages. */
const char *ectx_type_name(const yaml_node_t *node);

bool ectx_is_null(const yaml_node_t *node);

/*
 * Typed getters: each checks the node and records a precise error. `what`
 * names the value in messages ("memory", "forwarded port guest").
 */
int ectx_string(struct ectx *c, yaml_node_t *n, const char *what, const char **out);
int ectx_bool(struct ectx *c, yaml_node_t *n, const char *what, bool *out);
int ectx_uint(struct ectx *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
	      uint64_t *out);
int ectx_size(struct ectx *c, yaml_node_t *n, const char *what, uint64_t bare_unit, uint64_t min,
	      uint64_t max, uint64_t *out);
int ectx_port(struct ectx *c, yaml_node_t *n, const char *what, uint16_t *out);
/* One of names (NULL-terminated); *out is the index. */
int ectx_enum(struct ectx *c, yaml_node_t *n, const char *what, const char *const *names, int *out);
/* A list of strings; a single string is a one-item list when allow_single. */
int ectx_string_list(struct ectx *c, yaml_node_t *n, const char *what, bool allow_single,
		     const char ***out, size_t *n_out);
/* A string or list of strings joined with sep. */
int ectx_joined(struct ectx *c, yaml_node_t *n, const char *what, const char *sep,
		const char **out);

/* A mapping node (or NULL treated as empty when allow_null); checks keys. */
int ectx_mapping(struct ectx *c, yaml_node_t *n, const char *what, bool allow_null);
int ectx_sequence(struct ectx *c, yaml_node_t *n, const char *what);

/*
 * Walks a mapping's pairs, checking that keys are strings and unique.
 * Returns the key text, or NULL at the end. Usage:
 *	struct ectx_iter it = ECTX_ITER(node);
 *	while ((key = ectx_next(c, &it, &knode, &vnode)) != NULL) ...
 */
struct ectx_iter {
	yaml_node_t *map;
	yaml_node_pair_t *pair;
	const char *where; /* c->where when the walk started, for key errors */
};
#define ECTX_ITER(node)                                                                            \
	{                                                                                          \
		(node), NULL, NULL                                                                 \
	}
const char *ectx_next(struct ectx *c, struct ectx_iter *it, yaml_node_t **key, yaml_node_t **val);

/* "unknown key 'x' in WHERE; did you mean 'y'? (expected one of: ...)". Returns -1. */
int ectx_unknown_key(struct ectx *c, yaml_node_t *key, const char *const *known);

/* A free-form value (extra_vars) as JSON text. */
int ectx_to_json(struct ectx *c, yaml_node_t *n, const char *what, const char **out);

/* Resolves a host path against the project root, ~/ against $HOME (arena string). */
const char *ectx_host_path(struct ectx *c, const char *p);

/* Machine keys (envfile_machine.c). */
int envfile_parse_machine(struct ectx *c, yaml_node_t *map, struct machine *m, bool is_defaults,
			  yaml_node_t **matrix);
int envfile_merge_defaults(struct ectx *c, struct machine *m, const struct machine *d);
int envfile_finish_machine(struct ectx *c, struct machine *m);
/* Applies one machine key; used for matrix values. */
int envfile_apply_key(struct ectx *c, const char *key, yaml_node_t *val, struct machine *m);

/* `lxd:` (envfile_lxd.c): parsed, and merged from defaults field by field. */
int envfile_parse_lxd(struct ectx *c, yaml_node_t *v, struct machine *m);
void envfile_merge_lxd(struct machine *m, const struct machine *d);

/* List items (envfile_items.c). */
int envfile_parse_port(struct ectx *c, yaml_node_t *v, struct forwarded_port *p);
int envfile_parse_folder(struct ectx *c, yaml_node_t *v, struct synced_folder *f);
int envfile_parse_network(struct ectx *c, yaml_node_t *v, struct private_network *n);

/* Provisioners (envfile_provision.c). */
int envfile_parse_provision(struct ectx *c, yaml_node_t *seq, struct machine *m);

/* Matrix expansion (envfile_matrix.c): appends the machines to *list. */
int envfile_expand_matrix(struct ectx *c, const struct machine *base, yaml_node_t *matrix,
			  struct machine **list, size_t *n, size_t *cap);

/* Checks across machines and the host (envfile_check.c). */
int envfile_check(struct ectx *c);

#endif
