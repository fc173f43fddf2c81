/* SPDX-License-Identifier: MIT */
/*
 * `lxd:`, the lxd provider's settings (docs/lxd.md): where LXD is
 * (remote), and where on it a machine goes (project, target, profiles,
 * storage_pool, type). Every name goes into LXD's URLs and JSON, so each
 * is held to LXD's own rules for names here, where the Envfile can say
 * which line is wrong.
 */
#include "core/envfile-internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const lxd_keys[] = { "remote",	"project", "target", "profiles",
					"storage_pool", "type",	   NULL };
static const char *const lxd_types[] = { "container", "vm", NULL };

bool envfile_lxd_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return strcmp(s, "..") != 0;
}

static int lxd_name(struct ectx *c, yaml_node_t *v, const char *what, const char **out)
{
	if (ectx_string(c, v, what, out) < 0)
		return -1;
	if (!envfile_lxd_name_ok(*out))
		return ectx_error(c, v,
				  "%s '%s' in %s is not an LXD name; use letters, digits, '-', "
				  "'_' and '.' (at most 63)",
				  what, *out, c->where);
	return 0;
}

/*
 * https://HOST[:PORT][/]: HOST a DNS name, an IPv4 address or [IPv6];
 * nothing else (no user, path or query: den adds LXD's paths itself).
 */
static bool remote_ok(const char *s)
{
	const char *h = s + strlen("https://"), *end;

	if (strncmp(s, "https://", 8) != 0 || *h == '\0')
		return false;
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || end == h + 1 ||
		    strspn(h + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - h - 1))
			return false;
		end++;
	} else {
		end = h +
		      strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (end == h || *h == '-' || *h == '.')
			return false;
	}
	if (*end == ':') {
		char *e;
		long port = strtol(end + 1, &e, 10);
		if (e == end + 1 || port < 1 || port > 65535)
			return false;
		end = e;
	}
	return strcmp(end, "") == 0 || strcmp(end, "/") == 0;
}

int envfile_parse_lxd(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	struct lxd_settings *l = &m->lxd;
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val;
	const char *key;
	int rc = 0, i;

	if (ectx_mapping(c, v, "lxd", true) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		if (strcmp(key, "remote") == 0) {
			if (ectx_string(c, val, "lxd remote", &l->remote) < 0) {
				rc = -1;
			} else if (!remote_ok(l->remote)) {
				rc = ectx_error(c, val,
						"lxd remote '%s' in %s is not an LXD server's "
						"address; write https://HOST:8443 (leave remote "
						"out for the local LXD)",
						l->remote, c->where);
			}
		} else if (strcmp(key, "project") == 0) {
			rc |= lxd_name(c, val, "lxd project", &l->project);
		} else if (strcmp(key, "target") == 0) {
			rc |= lxd_name(c, val, "lxd target", &l->target);
		} else if (strcmp(key, "storage_pool") == 0) {
			rc |= lxd_name(c, val, "lxd storage_pool", &l->storage_pool);
		} else if (strcmp(key, "profiles") == 0) {
			if (ectx_string_list(c, val, "lxd profiles", true, &l->profiles,
					     &l->n_profiles) < 0) {
				rc = -1;
				continue;
			}
			for (size_t j = 0; j < l->n_profiles; j++)
				if (!envfile_lxd_name_ok(l->profiles[j]))
					rc = ectx_error(c, val,
							"lxd profile '%s' in %s is not an LXD "
							"name; use letters, digits, '-', '_' and "
							"'.'",
							l->profiles[j], c->where);
		} else if (strcmp(key, "type") == 0) {
			if (ectx_enum(c, val, "lxd type", lxd_types, &i) < 0) {
				rc = -1;
				continue;
			}
			l->type = i == 0 ? LXD_CONTAINER : LXD_VM;
			l->type_set = true;
		} else {
			rc = ectx_unknown_key(c, k, lxd_keys);
		}
	}
	m->set |= KEYBIT(ENVFILE_KEY_LXD);
	m->key_pos[ENVFILE_KEY_LXD] = ectx_pos(v);
	return rc;
}

void envfile_merge_lxd(struct machine *m, const struct machine *d)
{
	struct lxd_settings *l = &m->lxd;
	const struct lxd_settings *dl = &d->lxd;

	if (!(d->set & KEYBIT(ENVFILE_KEY_LXD)))
		return;
	if (!(m->set & KEYBIT(ENVFILE_KEY_LXD))) {
		m->set |= KEYBIT(ENVFILE_KEY_LXD);
		m->key_pos[ENVFILE_KEY_LXD] = d->key_pos[ENVFILE_KEY_LXD];
	}
	if (l->remote == NULL)
		l->remote = dl->remote;
	if (l->project == NULL)
		l->project = dl->project;
	if (l->target == NULL)
		l->target = dl->target;
	if (l->storage_pool == NULL)
		l->storage_pool = dl->storage_pool;
	if (l->profiles == NULL) {
		l->profiles = dl->profiles;
		l->n_profiles = dl->n_profiles;
	}
	if (!l->type_set) {
		l->type = dl->type;
		l->type_set = dl->type_set;
	}
}
