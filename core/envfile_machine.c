/* SPDX-License-Identifier: MIT */
/*
 * The keys of a machine (and of `defaults:`), one handler each, and how
 * defaults merge into machines: a machine's own value wins; lists of
 * forwarded ports, private networks and provisioners are defaults' first,
 * then the machine's; a machine's synced folder replaces the default one
 * with the same guest path (so it can disable it), as in Vagrant.
 */
#include "core/envfile-internal.h"
#include "core/machine.h"
#include "core/size.h"
#include "core/version.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *const envfile_provider_names[] = { "kvm", "qemu", "container", "lxd", NULL };
static const char *const net_names[] = { "user", "host", NULL };
static const char *const accel_names[] = { "auto", "kvm", "tcg", NULL };

/* Records that m got key k from the value at node v. */
#define SET(m, k, v) ((m)->set |= KEYBIT(k), (m)->key_pos[k] = ectx_pos(v))

#define STRING_KEY(fn, field, key, what)                                                           \
	static int fn(struct ectx *c, yaml_node_t *v, struct machine *m)                           \
	{                                                                                          \
		if (ectx_string(c, v, what, &m->field) < 0)                                        \
			return -1;                                                                 \
		SET(m, key, v);                                                                    \
		return 0;                                                                          \
	}

STRING_KEY(k_box, box, ENVFILE_KEY_BOX, "box")
STRING_KEY(k_box_url, box_url, ENVFILE_KEY_BOX_URL, "box_url")

static int k_box_version(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	struct den_constraints cons;
	const char *why = NULL;

	/* A bare number (box_version: 1.2) is read as the string it looks like. */
	if (ectx_string(c, v, "box_version", &m->box_version) < 0)
		return -1;
	if (den_constraints_parse(m->box_version, &cons, &why) < 0)
		return ectx_error(c, v, "box_version '%s' in %s is not a version constraint: %s",
				  m->box_version, c->where, why);
	SET(m, ENVFILE_KEY_BOX_VERSION, v);
	return 0;
}

/* A whole-number key within [min, max]. */
#define UINT_KEY(fn, field, key, what, min, max)                                                   \
	static int fn(struct ectx *c, yaml_node_t *v, struct machine *m)                           \
	{                                                                                          \
		uint64_t n_;                                                                       \
		if (ectx_uint(c, v, what, min, max, &n_) < 0)                                      \
			return -1;                                                                 \
		m->field = (unsigned)n_;                                                           \
		SET(m, key, v);                                                                    \
		return 0;                                                                          \
	}

/* A key whose value is one of names; field gets the index, converted by conv. */
#define ENUM_KEY(fn, field, key, what, names, conv)                                                \
	static int fn(struct ectx *c, yaml_node_t *v, struct machine *m)                           \
	{                                                                                          \
		int i_;                                                                            \
		if (ectx_enum(c, v, what, names, &i_) < 0)                                         \
			return -1;                                                                 \
		m->field = conv(i_);                                                               \
		SET(m, key, v);                                                                    \
		return 0;                                                                          \
	}

#define PROVIDER_NAME(i) envfile_provider_names[i]
#define NET_MODE(i) ((enum net_mode)(i))
#define ACCEL_MODE(i) ((enum accel_mode)(i))

UINT_KEY(k_cpus, cpus, ENVFILE_KEY_CPUS, "cpus", 1, 255)
UINT_KEY(k_boot_timeout, boot_timeout, ENVFILE_KEY_BOOT_TIMEOUT, "boot_timeout", 1, 86400)
UINT_KEY(k_halt_timeout, graceful_halt_timeout, ENVFILE_KEY_HALT_TIMEOUT, "graceful_halt_timeout",
	 0, 86400)
ENUM_KEY(k_provider, provider, ENVFILE_KEY_PROVIDER, "provider", envfile_provider_names,
	 PROVIDER_NAME)
ENUM_KEY(k_network, network, ENVFILE_KEY_NETWORK, "network", net_names, NET_MODE)
ENUM_KEY(k_accel, accel, ENVFILE_KEY_ACCEL, "accel", accel_names, ACCEL_MODE)

static int k_memory(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	if (ectx_size(c, v, "memory", DEN_MIB, 16 * DEN_MIB, 4 * DEN_TIB, &m->memory) < 0)
		return -1;
	SET(m, ENVFILE_KEY_MEMORY, v);
	return 0;
}

static int k_disk_size(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	if (ectx_size(c, v, "disk_size", DEN_MIB, 64 * DEN_MIB, 64 * DEN_TIB, &m->disk_size) < 0)
		return -1;
	SET(m, ENVFILE_KEY_DISK_SIZE, v);
	return 0;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-'. */
static bool valid_hostname(const char *h)
{
	size_t label = 0, total = strlen(h);

	if (total == 0 || total > 253)
		return false;
	for (const char *p = h;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
		if (label == 0 && *p == '-')
			return false;
		label++;
	}
}

static int k_hostname(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	if (ectx_string(c, v, "hostname", &m->hostname) < 0)
		return -1;
	if (!valid_hostname(m->hostname))
		return ectx_error(c, v,
				  "hostname '%s' in %s is not a valid host name; use letters, "
				  "digits and '-' in dot-separated parts of at most 63 characters",
				  m->hostname, c->where);
	SET(m, ENVFILE_KEY_HOSTNAME, v);
	return 0;
}

#define BOOL_KEY(fn, field, key, what)                                                             \
	static int fn(struct ectx *c, yaml_node_t *v, struct machine *m)                           \
	{                                                                                          \
		if (ectx_bool(c, v, what, &m->field) < 0)                                          \
			return -1;                                                                 \
		SET(m, key, v);                                                                    \
		return 0;                                                                          \
	}

BOOL_KEY(k_primary, primary, ENVFILE_KEY_PRIMARY, "primary")
BOOL_KEY(k_autostart, autostart, ENVFILE_KEY_AUTOSTART, "autostart")
BOOL_KEY(k_no_new_privs, no_new_privs, ENVFILE_KEY_NO_NEW_PRIVS, "no_new_privs")
BOOL_KEY(k_host_loopback, host_loopback, ENVFILE_KEY_HOST_LOOPBACK, "host_loopback")

static int k_ssh(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	static const char *const known[] = { "username", "private_key_path", "insert_key", NULL };
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val;
	const char *key;
	int rc = 0;

	if (ectx_mapping(c, v, "ssh", false) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		if (strcmp(key, "username") == 0) {
			if (ectx_string(c, val, "ssh username", &m->ssh.username) < 0) {
				rc = -1;
				continue;
			}
			/* It names a user in the machine, on command lines and in sudoers. */
			const char *u = m->ssh.username;
			if (!machine_is_user_name(u))
				rc = ectx_error(c, val,
						"ssh username '%s' in %s is not a user name; use "
						"letters, digits, '_', '.' and '-'",
						u, c->where);
			SET(m, ENVFILE_KEY_SSH_USERNAME, val);
		} else if (strcmp(key, "private_key_path") == 0) {
			const char *p;
			if (ectx_string(c, val, "ssh private_key_path", &p) < 0) {
				rc = -1;
				continue;
			}
			m->ssh.private_key_path = ectx_host_path(c, p);
			SET(m, ENVFILE_KEY_SSH_KEY, val);
		} else if (strcmp(key, "insert_key") == 0) {
			rc |= ectx_bool(c, val, "ssh insert_key", &m->ssh.insert_key);
			SET(m, ENVFILE_KEY_SSH_INSERT_KEY, val);
		} else {
			rc = ectx_unknown_key(c, k, known);
		}
	}
	return rc;
}

/* Parses a list whose items each go through parse(), into an arena array. */
#define LIST_KEY(fn, type, arr, count, key, what, parse)                                           \
	static int fn(struct ectx *c, yaml_node_t *v, struct machine *m)                           \
	{                                                                                          \
		size_t n;                                                                          \
		int rc = 0;                                                                        \
		if (ectx_is_null(v)) {                                                             \
			SET(m, key, v);                                                            \
			return 0;                                                                  \
		}                                                                                  \
		if (ectx_sequence(c, v, what) < 0)                                                 \
			return -1;                                                                 \
		n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);           \
		m->arr = arena_calloc(&c->ef->arena, n ? n : 1, sizeof(type));                     \
		if (m->arr == NULL)                                                                \
			return ectx_oom(c);                                                        \
		for (size_t i = 0; i < n; i++) {                                                   \
			yaml_node_t *item = ectx_node(c, v->data.sequence.items.start[i]);         \
			if (item == NULL)                                                          \
				return -1;                                                         \
			rc |= parse(c, item, &m->arr[i]);                                          \
		}                                                                                  \
		m->count = n;                                                                      \
		SET(m, key, v);                                                                    \
		return rc;                                                                         \
	}

LIST_KEY(k_ports, struct forwarded_port, ports, n_ports, ENVFILE_KEY_PORTS, "forwarded_ports",
	 envfile_parse_port)
LIST_KEY(k_folders, struct synced_folder, folders, n_folders, ENVFILE_KEY_FOLDERS, "synced_folders",
	 envfile_parse_folder)
LIST_KEY(k_networks, struct private_network, networks, n_networks, ENVFILE_KEY_NETWORKS,
	 "private_networks", envfile_parse_network)

static int k_provision(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	SET(m, ENVFILE_KEY_PROVISION, v);
	if (ectx_is_null(v))
		return 0;
	return envfile_parse_provision(c, v, m);
}

static const struct machine_key {
	const char *name;
	int (*parse)(struct ectx *c, yaml_node_t *v, struct machine *m);
	bool machine_only; /* not allowed in defaults */
} machine_keys[] = {
	{ "box", k_box, false },
	{ "box_version", k_box_version, false },
	{ "box_url", k_box_url, false },
	{ "provider", k_provider, false },
	{ "cpus", k_cpus, false },
	{ "memory", k_memory, false },
	{ "disk_size", k_disk_size, false },
	{ "hostname", k_hostname, true },
	{ "primary", k_primary, true },
	{ "autostart", k_autostart, false },
	{ "boot_timeout", k_boot_timeout, false },
	{ "graceful_halt_timeout", k_halt_timeout, false },
	{ "network", k_network, false },
	{ "no_new_privs", k_no_new_privs, false },
	{ "host_loopback", k_host_loopback, false },
	{ "accel", k_accel, false },
	{ "lxd", envfile_parse_lxd, false },
	{ "ssh", k_ssh, false },
	{ "forwarded_ports", k_ports, false },
	{ "synced_folders", k_folders, false },
	{ "private_networks", k_networks, false },
	{ "provision", k_provision, false },
	{ "matrix", NULL, true },
};

static const char *const machine_key_names[] = {
	"box",
	"box_version",
	"box_url",
	"provider",
	"cpus",
	"memory",
	"disk_size",
	"hostname",
	"primary",
	"autostart",
	"boot_timeout",
	"graceful_halt_timeout",
	"network",
	"no_new_privs",
	"host_loopback",
	"accel",
	"lxd",
	"ssh",
	"forwarded_ports",
	"synced_folders",
	"private_networks",
	"provision",
	"matrix",
	NULL,
};

static const struct machine_key *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(machine_keys) / sizeof(machine_keys[0]); i++)
		if (strcmp(machine_keys[i].name, name) == 0)
			return &machine_keys[i];
	return NULL;
}

const char *envfile_key_name(enum envfile_key k)
{
	static const char *const names[ENVFILE_KEY_COUNT] = {
		[ENVFILE_KEY_BOX] = "box",
		[ENVFILE_KEY_BOX_VERSION] = "box_version",
		[ENVFILE_KEY_BOX_URL] = "box_url",
		[ENVFILE_KEY_PROVIDER] = "provider",
		[ENVFILE_KEY_CPUS] = "cpus",
		[ENVFILE_KEY_MEMORY] = "memory",
		[ENVFILE_KEY_DISK_SIZE] = "disk_size",
		[ENVFILE_KEY_HOSTNAME] = "hostname",
		[ENVFILE_KEY_PRIMARY] = "primary",
		[ENVFILE_KEY_AUTOSTART] = "autostart",
		[ENVFILE_KEY_BOOT_TIMEOUT] = "boot_timeout",
		[ENVFILE_KEY_HALT_TIMEOUT] = "graceful_halt_timeout",
		[ENVFILE_KEY_NETWORK] = "network",
		[ENVFILE_KEY_NO_NEW_PRIVS] = "no_new_privs",
		[ENVFILE_KEY_HOST_LOOPBACK] = "host_loopback",
		[ENVFILE_KEY_ACCEL] = "accel",
		[ENVFILE_KEY_LXD] = "lxd",
		[ENVFILE_KEY_SSH_USERNAME] = "ssh.username",
		[ENVFILE_KEY_SSH_KEY] = "ssh.private_key_path",
		[ENVFILE_KEY_SSH_INSERT_KEY] = "ssh.insert_key",
		[ENVFILE_KEY_PORTS] = "forwarded_ports",
		[ENVFILE_KEY_FOLDERS] = "synced_folders",
		[ENVFILE_KEY_NETWORKS] = "private_networks",
		[ENVFILE_KEY_PROVISION] = "provision",
		[ENVFILE_KEY_MATRIX] = "matrix",
	};

	return (unsigned)k < ENVFILE_KEY_COUNT && names[k] != NULL ? names[k] : "?";
}

int envfile_apply_key(struct ectx *c, const char *key, yaml_node_t *val, struct machine *m)
{
	const struct machine_key *mk = find_key(key);

	if (mk == NULL || mk->parse == NULL)
		return ectx_error(c, val, "'%s' cannot be varied by a matrix", key);
	return mk->parse(c, val, m);
}

int envfile_parse_machine(struct ectx *c, yaml_node_t *map, struct machine *m, bool is_defaults,
			  yaml_node_t **matrix)
{
	struct ectx_iter it = ECTX_ITER(map);
	yaml_node_t *k, *v;
	const char *key;
	int rc = 0;

	if (ectx_mapping(c, map, c->where, true) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &v)) != NULL) {
		const struct machine_key *mk = find_key(key);

		if (mk == NULL) {
			rc = ectx_unknown_key(c, k, machine_key_names);
		} else if (mk->machine_only && is_defaults) {
			rc = ectx_error(c, k, "'%s' cannot be set in defaults; set it on a machine",
					key);
		} else if (mk->parse == NULL) {
			*matrix = v;
		} else if (mk->parse(c, v, m) < 0) {
			rc = -1;
		}
	}
	return rc;
}
