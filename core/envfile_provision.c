/* SPDX-License-Identifier: MIT */
/*
 * `provision:` lists. Each item is one provisioner kind with its settings
 * beneath it:
 *	- shell: apt-get install -y nginx
 *	- shell: { path: scripts/setup.sh, args: [--dev], run: always }
 *	- file: { source: conf/app.conf, destination: /etc/app.conf }
 *	- ansible: { playbook: ansible/site.yml, extra_vars: { role: web } }
 * Host paths (script, file source, playbook) must exist when the Envfile
 * is read, so a typo fails at validate time, not halfway through an up.
 */
#include "core/envfile-internal.h"

#include <string.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

static const char *const kind_names[] = { "shell", "file", "ansible", "ansible_local", NULL };
static const char *const run_names[] = { "once", "always", "never", NULL };

const char *envfile_prov_kind_name(enum prov_kind k)
{
	return kind_names[k];
}

const char *envfile_run_name(enum prov_run r)
{
	return run_names[r];
}

const char *envfile_proto_name(enum fwd_proto p)
{
	return p == FWD_UDP ? "udp" : "tcp";
}

/* Resolves a host path and checks that it exists. */
static int host_file(struct ectx *c, yaml_node_t *v, const char *what, const char **written,
		     const char **abs)
{
	struct stat st;

	if (ectx_string(c, v, what, written) < 0)
		return -1;
	*abs = ectx_host_path(c, *written);
	if (*abs == NULL)
		return -1;
	if (stat(*abs, &st) < 0)
		return ectx_error(c, v, "%s '%s' in %s does not exist (looked for %s)", what,
				  *written, c->where, *abs);
	/*
	 * Provisioners send these files into machines: only the project's own
	 * (symlinks resolved), so a shared Envfile cannot reach ~/.ssh.
	 */
	char real[PATH_MAX], root[PATH_MAX];
	size_t n;
	bool inside = realpath(*abs, real) != NULL && realpath(c->ef->root, root) != NULL &&
		      (strcmp(root, "/") == 0 || (strncmp(real, root, (n = strlen(root))) == 0 &&
						  (real[n] == '/' || real[n] == '\0')));
	if (!inside)
		return ectx_error(c, v,
				  "%s '%s' in %s is outside the project (%s): provisioners "
				  "read only the project's files; copy it into the project",
				  what, *written, c->where, c->ef->root);
	return 0;
}

/* Keys every provisioner has. Returns 1 when key was one of them. */
static int common_key(struct ectx *c, const char *key, yaml_node_t *v, struct prov_step *s, int *rc)
{
	int i;

	if (strcmp(key, "name") == 0) {
		*rc |= ectx_string(c, v, "provisioner name", &s->name);
	} else if (strcmp(key, "run") == 0) {
		if (ectx_enum(c, v, "run", run_names, &i) < 0)
			*rc = -1;
		else
			s->run = (enum prov_run)i;
	} else if (strcmp(key, "before") == 0) {
		*rc |= ectx_string(c, v, "before", &s->before);
	} else if (strcmp(key, "after") == 0) {
		*rc |= ectx_string(c, v, "after", &s->after);
	} else {
		return 0;
	}
	return 1;
}

static int parse_env(struct ectx *c, yaml_node_t *v, struct prov_shell *sh)
{
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val;
	const char *key;
	int rc = 0;

	if (ectx_mapping(c, v, "shell env", false) < 0)
		return -1;
	size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	sh->env = arena_calloc(&c->ef->arena, n ? n : 1, sizeof(*sh->env));
	if (sh->env == NULL)
		return ectx_oom(c);
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		struct env_var *e = &sh->env[sh->n_env];

		if (ectx_string(c, k, "env name", &e->name) < 0) {
			rc = -1;
			continue;
		}
		if (strspn(key,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
			    strlen(key) ||
		    (key[0] >= '0' && key[0] <= '9')) {
			rc = ectx_error(c, k,
					"env name '%s' in %s is not a shell variable name; use "
					"letters, digits and '_'",
					key, c->where);
			continue;
		}
		if (ectx_is_null(val))
			e->value = "";
		else if (ectx_string(c, val, "env value", &e->value) < 0) {
			rc = -1;
			continue;
		}
		sh->n_env++;
	}
	return rc;
}

static int parse_shell(struct ectx *c, yaml_node_t *v, struct prov_step *s)
{
	static const char *const known[] = { "inline",	   "path",	  "args",   "env",
					     "privileged", "upload_path", "reboot", "keep_color",
					     "name",	   "run",	  "before", "after",
					     NULL };
	struct prov_shell *sh = &s->shell;
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val;
	const char *key;
	int rc = 0;

	sh->privileged = true;
	if (v->type == YAML_SCALAR_NODE || v->type == YAML_SEQUENCE_NODE)
		return ectx_joined(c, v, "shell inline", "\n", &sh->inline_script);
	if (ectx_mapping(c, v, "shell provisioner", false) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		if (common_key(c, key, val, s, &rc))
			continue;
		if (strcmp(key, "inline") == 0)
			rc |= ectx_joined(c, val, "shell inline", "\n", &sh->inline_script);
		else if (strcmp(key, "path") == 0)
			rc |= host_file(c, val, "shell script", &sh->path, &sh->path_abs);
		else if (strcmp(key, "args") == 0)
			rc |= ectx_string_list(c, val, "shell args", true, &sh->args, &sh->n_args);
		else if (strcmp(key, "env") == 0)
			rc |= parse_env(c, val, sh);
		else if (strcmp(key, "privileged") == 0)
			rc |= ectx_bool(c, val, "privileged", &sh->privileged);
		else if (strcmp(key, "upload_path") == 0)
			rc |= ectx_string(c, val, "upload_path", &sh->upload_path);
		else if (strcmp(key, "reboot") == 0)
			rc |= ectx_bool(c, val, "reboot", &sh->reboot);
		else if (strcmp(key, "keep_color") == 0)
			rc |= ectx_bool(c, val, "keep_color", &sh->keep_color);
		else
			rc = ectx_unknown_key(c, k, known);
	}
	if (rc < 0)
		return -1;
	if (sh->inline_script != NULL && sh->path != NULL)
		return ectx_error(c, v,
				  "shell provisioner in %s has both 'inline' and 'path'; "
				  "keep one",
				  c->where);
	if (sh->inline_script == NULL && sh->path == NULL)
		return ectx_error(c, v,
				  "shell provisioner in %s needs 'inline' (commands) or "
				  "'path' (a script on the host)",
				  c->where);
	return 0;
}

static int parse_file(struct ectx *c, yaml_node_t *v, struct prov_step *s)
{
	static const char *const known[] = { "source", "destination", "name", "run",
					     "before", "after",	      NULL };
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val;
	const char *key;
	int rc = 0;

	if (ectx_mapping(c, v, "file provisioner", false) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		if (common_key(c, key, val, s, &rc))
			continue;
		if (strcmp(key, "source") == 0)
			rc |= host_file(c, val, "file source", &s->file.source,
					&s->file.source_abs);
		else if (strcmp(key, "destination") == 0)
			rc |= ectx_string(c, val, "file destination", &s->file.destination);
		else
			rc = ectx_unknown_key(c, k, known);
	}
	if (rc < 0)
		return -1;
	if (s->file.source == NULL)
		return ectx_error(c, v, "file provisioner in %s has no 'source'", c->where);
	if (s->file.destination == NULL)
		return ectx_error(c, v, "file provisioner in %s has no 'destination'", c->where);
	return 0;
}

static int parse_verbose(struct ectx *c, yaml_node_t *v, unsigned *out)
{
	const char *s = (const char *)v->data.scalar.value;
	bool b;

	if (v->type == YAML_SCALAR_NODE && s[0] == 'v' && strspn(s, "v") == strlen(s) &&
	    strlen(s) <= 4) {
		*out = (unsigned)strlen(s);
		return 0;
	}
	if (v->type == YAML_SCALAR_NODE && s[0] >= '0' && s[0] <= '4' && s[1] == '\0') {
		*out = (unsigned)(s[0] - '0');
		return 0;
	}
	if (ectx_bool(c, v, "verbose (true, false, or v to vvvv)", &b) < 0)
		return -1;
	*out = b ? 1 : 0;
	return 0;
}

static int parse_groups(struct ectx *c, yaml_node_t *v, struct prov_ansible *a)
{
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val;
	const char *key;
	int rc = 0;

	if (ectx_mapping(c, v, "ansible groups", false) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		size_t len = strlen(key);
		const char **hosts;
		size_t n;

		if (len > 5 && strcmp(key + len - 5, ":vars") == 0) {
			if (ectx_mapping(c, val, "group vars", false) < 0)
				rc = -1;
		} else if (ectx_string_list(c, val, "group members", true, &hosts, &n) < 0) {
			rc = -1;
		}
	}
	if (rc < 0)
		return -1;
	return ectx_to_json(c, v, "ansible groups", &a->groups_json);
}

static int parse_ansible(struct ectx *c, yaml_node_t *v, struct prov_step *s)
{
	static const char *const known[] = {
		"playbook",
		"extra_vars",
		"groups",
		"limit",
		"tags",
		"skip_tags",
		"become",
		"verbose",
		"galaxy_role_file",
		"inventory_path",
		"config_file",
		"install",
		"provisioning_path",
		"name",
		"run",
		"before",
		"after",
		NULL,
	};
	bool local = s->kind == PROV_ANSIBLE_LOCAL;
	struct prov_ansible *a = &s->ansible;
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val, *playbook = NULL;
	const char *key, *ignored;
	int rc = 0;

	a->install = true;
	if (v->type == YAML_SCALAR_NODE && !ectx_is_null(v)) {
		playbook = v;
	} else {
		if (ectx_mapping(c, v, "ansible provisioner", false) < 0)
			return -1;
	}
	while (playbook != v && (key = ectx_next(c, &it, &k, &val)) != NULL) {
		if (common_key(c, key, val, s, &rc))
			continue;
		/* Host paths for ansible; paths in the guest for ansible_local. */
		if (strcmp(key, "playbook") == 0)
			playbook = val;
		else if (strcmp(key, "extra_vars") == 0)
			rc |= ectx_mapping(c, val, "extra_vars", false) < 0 ||
					      ectx_to_json(c, val, "extra_vars",
							   &a->extra_vars_json) < 0
				      ? -1
				      : 0;
		else if (strcmp(key, "groups") == 0)
			rc |= parse_groups(c, val, a);
		else if (strcmp(key, "limit") == 0)
			rc |= ectx_joined(c, val, "limit", ",", &a->limit);
		else if (strcmp(key, "tags") == 0)
			rc |= ectx_joined(c, val, "tags", ",", &a->tags);
		else if (strcmp(key, "skip_tags") == 0)
			rc |= ectx_joined(c, val, "skip_tags", ",", &a->skip_tags);
		else if (strcmp(key, "become") == 0)
			rc |= ectx_bool(c, val, "become", &a->become);
		else if (strcmp(key, "verbose") == 0)
			rc |= parse_verbose(c, val, &a->verbose);
		else if (strcmp(key, "galaxy_role_file") == 0)
			rc |= local ? ectx_string(c, val, key, &a->galaxy_role_file)
				    : host_file(c, val, key, &ignored, &a->galaxy_role_file);
		else if (strcmp(key, "inventory_path") == 0)
			rc |= local ? ectx_string(c, val, key, &a->inventory_path)
				    : host_file(c, val, key, &ignored, &a->inventory_path);
		else if (strcmp(key, "config_file") == 0)
			rc |= local ? ectx_string(c, val, key, &a->config_file)
				    : host_file(c, val, key, &ignored, &a->config_file);
		else if (local && strcmp(key, "install") == 0)
			rc |= ectx_bool(c, val, "install", &a->install);
		else if (local && strcmp(key, "provisioning_path") == 0)
			rc |= ectx_string(c, val, "provisioning_path", &a->provisioning_path);
		else if (strcmp(key, "install") == 0 || strcmp(key, "provisioning_path") == 0)
			rc = ectx_error(c, k,
					"'%s' is a setting of ansible_local, which runs "
					"inside the machine; ansible runs on the host",
					key);
		else
			rc = ectx_unknown_key(c, k, known);
	}
	if (rc < 0)
		return -1;
	if (playbook == NULL)
		return ectx_error(c, v, "%s provisioner in %s has no 'playbook'",
				  kind_names[s->kind], c->where);
	if (local)
		return ectx_string(c, playbook, "playbook", &a->playbook);
	return host_file(c, playbook, "playbook", &a->playbook, &a->playbook_abs);
}

static int parse_step(struct ectx *c, yaml_node_t *item, struct prov_step *s)
{
	struct ectx_iter it = ECTX_ITER(item);
	yaml_node_t *k, *v;
	const char *key;
	int kind;

	s->pos = ectx_pos(item);
	if (item->type != YAML_MAPPING_NODE ||
	    item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1) {
		if (item->type == YAML_MAPPING_NODE)
			return ectx_error(c, item,
					  "a provisioner in %s is one kind with its settings "
					  "beneath it, like `- shell: { inline: ..., name: x }`; "
					  "this item has %d keys",
					  c->where,
					  (int)(item->data.mapping.pairs.top -
						item->data.mapping.pairs.start));
		return ectx_error(c, item,
				  "provisioner in %s: expected a map such as `- shell: make`, got "
				  "%s",
				  c->where, ectx_type_name(item));
	}
	key = ectx_next(c, &it, &k, &v);
	if (key == NULL)
		return -1;
	if (ectx_enum(c, k, "provisioner", kind_names, &kind) < 0)
		return -1;
	s->kind = (enum prov_kind)kind;
	switch (s->kind) {
	case PROV_SHELL:
		return parse_shell(c, v, s);
	case PROV_FILE:
		return parse_file(c, v, s);
	case PROV_ANSIBLE:
	case PROV_ANSIBLE_LOCAL:
		return parse_ansible(c, v, s);
	}
	return -1;
}

int envfile_parse_provision(struct ectx *c, yaml_node_t *seq, struct machine *m)
{
	int rc = 0;

	if (ectx_sequence(c, seq, "provision") < 0)
		return -1;
	size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	m->steps = arena_calloc(&c->ef->arena, n ? n : 1, sizeof(*m->steps));
	if (m->steps == NULL)
		return ectx_oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = ectx_node(c, seq->data.sequence.items.start[i]);

		if (item == NULL)
			return -1;
		rc |= parse_step(c, item, &m->steps[i]);
	}
	m->n_steps = n;
	return rc;
}
