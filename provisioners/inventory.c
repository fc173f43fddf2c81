/* SPDX-License-Identifier: MIT */
/*
 * den's Ansible inventory, in YAML: the inventory is built as a JSON tree
 * (all: {hosts, vars, children}), then written with libyaml's emitter.
 * Strings are quoted unless they are plain words that YAML 1.1 (PyYAML,
 * so Ansible) reads back as the same string; numbers, booleans and nulls
 * from the Envfile's group vars keep their types. Quoting is not enough
 * for what den read back from a machine: Ansible templates every inventory
 * value, so an SSH user "{{ lookup('pipe', ...) }}" would run a command on
 * the host. The hosts' own variables are tagged !unsafe: never templated.
 */
#include "provisioners/inventory.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/machine.h"
#include "core/shquote.h"
#include "core/yamlout.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define HEADER "# Made by den for the ansible provisioner: every machine that exists.\n"

struct emit {
	struct yamlout y;
	json_t *hosts; /* all.hosts: the variables of each are den's, emitted !unsafe */
};

static void ev(struct emit *m, yaml_event_t *event, int made)
{
	yamlout_event(&m->y, event, made);
}

/*
 * Can s go unquoted and be read back as this same string? Only a word of
 * ASCII letters, digits, '_' and '-' that starts with a letter and is not
 * one of YAML 1.1's booleans or null (digits first could be a number or
 * a date; anything else could be syntax).
 */
static bool plain_ok(const char *s, size_t len)
{
	static const char *const words[] = { "y",  "n",	  "yes",   "no",   "true",
					     "on", "off", "false", "null", NULL };
	static const char word[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_-";

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) ||
	    strspn(s, word) != len)
		return false;
	for (size_t i = 0; words[i] != NULL; i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	return true;
}

/*
 * A string: plain when plain_ok, else double-quoted (every control
 * character escaped); tagged !unsafe (literal for Ansible's templating).
 */
static void str(struct emit *m, const char *s, size_t len, bool unsafe)
{
	yaml_event_t e;
	bool plain = !unsafe && plain_ok(s, len);

	/* plain_implicit 0 keeps libyaml from choosing plain on its own. */
	ev(m, &e,
	   yaml_scalar_event_initialize(
		   &e, NULL, (yaml_char_t *)(unsafe ? "!unsafe" : YAML_STR_TAG), (yaml_char_t *)s,
		   (int)len, plain, !unsafe,
		   plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE));
}

/* A number, boolean or null: plain, read back with its type. */
static void typed(struct emit *m, const char *tag, const char *s)
{
	yaml_event_t e;

	ev(m, &e,
	   yaml_scalar_event_initialize(&e, NULL, (yaml_char_t *)tag, (yaml_char_t *)s,
					(int)strlen(s), 1, 0, YAML_PLAIN_SCALAR_STYLE));
}

/* A float YAML 1.1 reads as one: with a '.' before any exponent ("1.0", "1.0e+300"). */
static void real(struct emit *m, double d)
{
	char buf[64], out[72];
	size_t at;

	snprintf(buf, sizeof(buf), "%.17g", d);
	at = strcspn(buf, ".e");
	if (buf[at] == '.')
		snprintf(out, sizeof(out), "%s", buf);
	else
		snprintf(out, sizeof(out), "%.*s.0%s", (int)at, buf, buf + at);
	typed(m, YAML_FLOAT_TAG, out);
}

/* v as YAML; its strings !unsafe when unsafe (the values, not the keys). */
static void value(struct emit *m, json_t *v, bool unsafe)
{
	yaml_event_t e;
	char num[32];
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		ev(m, &e,
		   yaml_mapping_start_event_initialize(&e, NULL, NULL, 1,
						       YAML_BLOCK_MAPPING_STYLE));
		json_object_foreach(v, k, x)
		{
			str(m, k, strlen(k), false);
			value(m, x, unsafe || v == m->hosts);
		}
		ev(m, &e, yaml_mapping_end_event_initialize(&e));
		break;
	case JSON_ARRAY:
		ev(m, &e,
		   yaml_sequence_start_event_initialize(&e, NULL, NULL, 1,
							YAML_BLOCK_SEQUENCE_STYLE));
		json_array_foreach(v, i, x) value(m, x, unsafe);
		ev(m, &e, yaml_sequence_end_event_initialize(&e));
		break;
	case JSON_STRING:
		str(m, json_string_value(v), json_string_length(v), unsafe);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		typed(m, YAML_INT_TAG, num);
		break;
	case JSON_REAL:
		real(m, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		typed(m, YAML_BOOL_TAG, json_is_true(v) ? "true" : "false");
		break;
	case JSON_NULL:
		typed(m, YAML_NULL_TAG, "null");
		break;
	}
}

/* tree as one YAML document after HEADER, hosts' variables !unsafe; *out malloc'd. */
static int emit_tree(json_t *tree, json_t *hosts, char **out, struct den_err *err)
{
	struct emit m = { .hosts = hosts };

	if (!yamlout_begin(&m.y, HEADER))
		return den_err_set(err, ENOMEM, "cannot write the Ansible inventory");
	value(&m, tree, false);
	*out = yamlout_finish(&m.y);
	if (*out == NULL)
		return den_err_set(err, 0,
				   "cannot write the Ansible inventory (a value libyaml cannot "
				   "write, or no memory)");
	return 0;
}

/* The object at key in o, made empty when missing. */
static json_t *child(json_t *o, const char *key)
{
	json_t *c = json_object_get(o, key);

	if (c == NULL && json_object_set_new(o, key, c = json_object()) < 0)
		return NULL;
	return c;
}

/* Group name's entry: the root group for "all", else under all's children. */
static json_t *group(json_t *all, const char *name)
{
	return strcmp(name, "all") == 0 ? all : child(child(all, "children"), name);
}

/* Members (hosts or child groups) as keys of section; a host's own vars stay. */
static int add_members(json_t *section, json_t *v)
{
	json_t *item;
	size_t i;

	if (json_is_string(v))
		return json_object_get(section, json_string_value(v))
			       ? 0
			       : json_object_set_new(section, json_string_value(v), json_null());
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item) || json_object_get(section, json_string_value(item)))
			continue;
		if (json_object_set_new(section, json_string_value(item), json_null()) < 0)
			return -1;
	}
	return 0;
}

/* The step's groups: "G" members, "G:vars" variables, "G:children" groups. */
static int add_groups(json_t *all, const char *groups_json, struct den_err *err)
{
	json_t *groups = json_loads(groups_json, 0, NULL), *v;
	const char *key;
	int rc = 0;

	if (!json_is_object(groups)) {
		json_decref(groups);
		return den_err_set(err, 0, "cannot read the step's ansible groups");
	}
	json_object_foreach(groups, key, v)
	{
		size_t len = strlen(key);
		const char *kind = "hosts";
		cleanup_free char *name = NULL;

		if (len > 5 && strcmp(key + len - 5, ":vars") == 0)
			kind = "vars", name = strndup(key, len - 5);
		else if (len > 9 && strcmp(key + len - 9, ":children") == 0)
			kind = "children", name = strndup(key, len - 9);
		else
			name = strdup(key);
		json_t *section = name ? child(group(all, name), kind) : NULL;
		if (section == NULL)
			rc = -1;
		else if (strcmp(kind, "vars") == 0)
			rc = json_is_object(v) ? json_object_update(section, v) : 0;
		else
			rc = add_members(section, v);
		if (rc < 0)
			break;
	}
	json_decref(groups);
	return rc < 0 ? den_err_set(err, ENOMEM, "cannot write the Ansible inventory") : 0;
}

/* A host's variables; the ssh arguments are split by Ansible like a shell line. */
static json_t *host_vars(const struct prov_inv_host *h)
{
	cleanup_free char *qkh = shell_quote(h->known_hosts), *args = NULL;

	if (qkh == NULL ||
	    asprintf(&args,
		     "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
		     qkh) < 0)
		return NULL;
	return json_pack("{s:s, s:i, s:s, s:s, s:s}", "ansible_host",
			 h->host ? h->host : "127.0.0.1", "ansible_port", h->port, "ansible_user",
			 h->user, "ansible_ssh_private_key_file", h->key_path,
			 "ansible_ssh_common_args", args);
}

int prov_inventory_yaml(const struct prov_inv_host *hosts, size_t n, const char *groups_json,
			char **out, struct den_err *err)
{
	json_t *tree = json_object(), *all = child(tree, "all"), *list = child(all, "hosts");
	int rc = 0;

	if (list == NULL)
		rc = den_err_set(err, ENOMEM, "cannot write the Ansible inventory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *vars = host_vars(&hosts[i]);
		if (vars == NULL || json_object_set_new(list, hosts[i].name, vars) < 0)
			rc = den_err_set(err, 0,
					 "cannot write machine %s into the Ansible inventory (a "
					 "value is not UTF-8, or out of memory)",
					 hosts[i].name);
	}
	if (rc == 0 && groups_json != NULL)
		rc = add_groups(all, groups_json, err);
	if (rc == 0)
		rc = emit_tree(tree, list, out, err);
	json_decref(tree);
	return rc;
}

/* What an inventory host keeps of a machine: its strings. */
struct owned_host {
	char *user, *key, *known_hosts, *host;
};

int prov_inventory_write(struct envfile *ef, const char *groups_json, const char *path,
			 struct den_err *err)
{
	struct prov_inv_host *hosts = calloc(ef->n_machines + 1, sizeof(*hosts));
	struct owned_host *own = calloc(ef->n_machines + 1, sizeof(*own));
	cleanup_free char *text = NULL;
	size_t n = 0;
	int rc = 0;

	if (hosts == NULL || own == NULL)
		rc = den_err_set(err, ENOMEM, "cannot write %s", path);
	for (size_t i = 0; rc == 0 && i < ef->n_machines; i++) {
		struct den_machine dm;
		struct den_err ignored = { 0 };
		if (machine_open(ef->root, &ef->machines[i], &dm, &ignored) < 0)
			continue;
		if (dm.exists && dm.rec.ssh_port > 0) {
			struct owned_host *o = &own[n];
			o->user = strdup(dm.rec.ssh_user ? dm.rec.ssh_user : "den");
			if (asprintf(&o->key, "%s/" KEYS_CLIENT, dm.dir) < 0)
				o->key = NULL;
			if (asprintf(&o->known_hosts, "%s/known_hosts", dm.dir) < 0)
				o->known_hosts = NULL;
			o->host = dm.rec.ssh_host ? strdup(dm.rec.ssh_host) : NULL;
			hosts[n] = (struct prov_inv_host){
				ef->machines[i].name, dm.rec.ssh_port, o->user, o->key,
				o->known_hosts,	      o->host
			};
			n++;
			if (!o->user || !o->key || !o->known_hosts)
				rc = den_err_set(err, ENOMEM, "cannot write %s", path);
		}
		machine_close(&dm);
	}
	if (rc == 0)
		rc = prov_inventory_yaml(hosts, n, groups_json, &text, err);
	if (rc == 0)
		rc = den_write_file_atomic(path, text, 0600, err);
	for (size_t i = 0; own != NULL && i < n; i++)
		free(own[i].user), free(own[i].key), free(own[i].known_hosts), free(own[i].host);
	free(hosts);
	free(own);
	return rc;
}
