/* SPDX-License-Identifier: MIT */
/*
 * The keys of a machine (and of `defaults:`), one handler each, and how
 * defaults merge into machines: a machine's own value wins; lists of
 * forwarded ports, private networks and provisioners are defaults' first,
 * then the machine's; a machine's synced folder replaces the default one
 * with the same guest path (so it can disable it), as in Vagrant.
 */
#include "core/envfile-internal.h"
#include "core/size.h"
#include "core/version.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *const envfile_provider_names[] = { "kvm", "qemu", "container", NULL };
static const char *const net_names[] = { "user", "host", NULL };
static const char *const accel_names[] = { "auto", "kvm", "tcg", NULL };

#define SET(m, k) ((m)->set |= KEYBIT(k))

#define STRING_KEY(fn, field, key, what)                                                           \
	static int fn(struct ectx *c, yaml_node_t *v, struct machine *m)                           \
	{                                                                                          \
		if (ectx_string(c, v, what, &m->field) < 0)                                        \
			return -1;                                                                 \
		SET(m, key);                                                                       \
		return 0;                                                                          \
	}

STRING_KEY(k_box, box, KEY_BOX, "box")
STRING_KEY(k_box_url, box_url, KEY_BOX_URL, "box_url")

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
	SET(m, KEY_BOX_VERSION);
	return 0;
}

static int k_provider(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	int i;

	if (ectx_enum(c, v, "provider", envfile_provider_names, &i) < 0)
		return -1;
	m->provider = envfile_provider_names[i];
	SET(m, KEY_PROVIDER);
	return 0;
}

static int k_cpus(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	uint64_t n;

	if (ectx_uint(c, v, "cpus", 1, 255, &n) < 0)
		return -1;
	m->cpus = (unsigned)n;
	SET(m, KEY_CPUS);
	return 0;
}

static int k_memory(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	if (ectx_size(c, v, "memory", DEN_MIB, 16 * DEN_MIB, 4 * DEN_TIB, &m->memory) < 0)
		return -1;
	SET(m, KEY_MEMORY);
	return 0;
}

static int k_disk_size(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	if (ectx_size(c, v, "disk_size", DEN_MIB, 64 * DEN_MIB, 64 * DEN_TIB, &m->disk_size) < 0)
		return -1;
	SET(m, KEY_DISK_SIZE);
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
	SET(m, KEY_HOSTNAME);
	return 0;
}

#define BOOL_KEY(fn, field, key, what)                                                             \
	static int fn(struct ectx *c, yaml_node_t *v, struct machine *m)                           \
	{                                                                                          \
		if (ectx_bool(c, v, what, &m->field) < 0)                                          \
			return -1;                                                                 \
		SET(m, key);                                                                       \
		return 0;                                                                          \
	}

BOOL_KEY(k_primary, primary, KEY_PRIMARY, "primary")
BOOL_KEY(k_autostart, autostart, KEY_AUTOSTART, "autostart")

static int k_boot_timeout(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	uint64_t n;

	if (ectx_uint(c, v, "boot_timeout", 1, 86400, &n) < 0)
		return -1;
	m->boot_timeout = (unsigned)n;
	SET(m, KEY_BOOT_TIMEOUT);
	return 0;
}

static int k_halt_timeout(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	uint64_t n;

	if (ectx_uint(c, v, "graceful_halt_timeout", 0, 86400, &n) < 0)
		return -1;
	m->graceful_halt_timeout = (unsigned)n;
	SET(m, KEY_HALT_TIMEOUT);
	return 0;
}

static int k_network(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	int i;

	if (ectx_enum(c, v, "network", net_names, &i) < 0)
		return -1;
	m->network = (enum net_mode)i;
	SET(m, KEY_NETWORK);
	return 0;
}

static int k_accel(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	int i;

	if (ectx_enum(c, v, "accel", accel_names, &i) < 0)
		return -1;
	m->accel = (enum accel_mode)i;
	SET(m, KEY_ACCEL);
	return 0;
}

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
			rc |= ectx_string(c, val, "ssh username", &m->ssh.username);
			SET(m, KEY_SSH_USERNAME);
		} else if (strcmp(key, "private_key_path") == 0) {
			const char *p;
			if (ectx_string(c, val, "ssh private_key_path", &p) < 0) {
				rc = -1;
				continue;
			}
			m->ssh.private_key_path = ectx_host_path(c, p);
			SET(m, KEY_SSH_KEY);
		} else if (strcmp(key, "insert_key") == 0) {
			rc |= ectx_bool(c, val, "ssh insert_key", &m->ssh.insert_key);
			SET(m, KEY_SSH_INSERT_KEY);
		} else {
			rc = ectx_unknown_key(c, k, known);
		}
	}
	return rc;
}

static bool valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "8080:80" or "8080:80/udp": host first, as in docker -p. */
static int port_shorthand(struct ectx *c, yaml_node_t *v, struct forwarded_port *p)
{
	const char *s = (const char *)v->data.scalar.value;
	unsigned host, guest;
	char proto[8] = "tcp";
	int used = 0;

	if ((sscanf(s, "%5u:%5u%n", &host, &guest, &used) != 2) ||
	    (s[used] != '\0' && sscanf(s + used, "/%3s", proto) != 1) || host < 1 || host > 65535 ||
	    guest < 1 || guest > 65535 || (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0))
		return ectx_error(
			c, v,
			"forwarded port '%s' in %s: expected HOST:GUEST such as "
			"\"8080:80\" (or \"8080:80/udp\"), or a map { guest: 80, host: 8080 }",
			s, c->where);
	p->host = (uint16_t)host;
	p->guest = (uint16_t)guest;
	p->protocol = strcmp(proto, "udp") == 0 ? FWD_UDP : FWD_TCP;
	return 0;
}

static int parse_port(struct ectx *c, yaml_node_t *v, struct forwarded_port *p)
{
	static const char *const known[] = { "guest",	     "host", "protocol", "host_ip",
					     "auto_correct", "id",   NULL };
	static const char *const protos[] = { "tcp", "udp", NULL };
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val;
	const char *key;
	bool have_guest = false, have_host = false;
	int rc = 0, i;

	p->pos = ectx_pos(v);
	p->host_ip = "127.0.0.1";
	if (v->type == YAML_SCALAR_NODE && !ectx_is_null(v))
		return port_shorthand(c, v, p);
	if (ectx_mapping(c, v, "forwarded port", false) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		if (strcmp(key, "guest") == 0) {
			rc |= ectx_port(c, val, "forwarded port guest", &p->guest);
			have_guest = true;
		} else if (strcmp(key, "host") == 0) {
			rc |= ectx_port(c, val, "forwarded port host", &p->host);
			have_host = true;
		} else if (strcmp(key, "protocol") == 0) {
			if (ectx_enum(c, val, "protocol", protos, &i) < 0)
				rc = -1;
			else
				p->protocol = (enum fwd_proto)i;
		} else if (strcmp(key, "host_ip") == 0) {
			if (ectx_string(c, val, "host_ip", &p->host_ip) < 0)
				rc = -1;
			else if (!valid_ip(p->host_ip))
				rc = ectx_error(c, val,
						"host_ip '%s' in %s is not an IP address; expected "
						"something like 127.0.0.1",
						p->host_ip, c->where);
		} else if (strcmp(key, "auto_correct") == 0) {
			rc |= ectx_bool(c, val, "auto_correct", &p->auto_correct);
		} else if (strcmp(key, "id") == 0) {
			rc |= ectx_string(c, val, "id", &p->id);
		} else {
			rc = ectx_unknown_key(c, k, known);
		}
	}
	if (rc == 0 && !have_guest)
		return ectx_error(c, v, "forwarded port in %s has no 'guest' port; add guest: PORT",
				  c->where);
	if (rc == 0 && !have_host)
		return ectx_error(c, v, "forwarded port in %s has no 'host' port; add host: PORT",
				  c->where);
	return rc;
}

static int parse_folder(struct ectx *c, yaml_node_t *v, struct synced_folder *f)
{
	static const char *const known[] = { "host",	      "guest", "type",	"disabled",
					     "create",	      "owner", "group", "mount_options",
					     "rsync_exclude", NULL };
	static const char *const types[] = { "native", "rsync", NULL };
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val, *guest_node = NULL;
	const char *key;
	int rc = 0, i;

	f->pos = ectx_pos(v);
	if (ectx_mapping(c, v, "synced folder", false) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		if (strcmp(key, "host") == 0) {
			if (ectx_string(c, val, "synced folder host", &f->host) < 0)
				rc = -1;
			else
				f->host_path = ectx_host_path(c, f->host);
		} else if (strcmp(key, "guest") == 0) {
			rc |= ectx_string(c, val, "synced folder guest", &f->guest);
			guest_node = val;
		} else if (strcmp(key, "type") == 0) {
			if (ectx_enum(c, val, "synced folder type", types, &i) < 0)
				rc = -1;
			else
				f->type = (enum sync_type)i;
		} else if (strcmp(key, "disabled") == 0) {
			rc |= ectx_bool(c, val, "disabled", &f->disabled);
		} else if (strcmp(key, "create") == 0) {
			rc |= ectx_bool(c, val, "create", &f->create);
		} else if (strcmp(key, "owner") == 0) {
			rc |= ectx_string(c, val, "owner", &f->owner);
		} else if (strcmp(key, "group") == 0) {
			rc |= ectx_string(c, val, "group", &f->group);
		} else if (strcmp(key, "mount_options") == 0) {
			rc |= ectx_string_list(c, val, "mount_options", true, &f->mount_options,
					       &f->n_mount_options);
		} else if (strcmp(key, "rsync_exclude") == 0) {
			rc |= ectx_string_list(c, val, "rsync_exclude", true, &f->rsync_exclude,
					       &f->n_rsync_exclude);
		} else {
			rc = ectx_unknown_key(c, k, known);
		}
	}
	if (rc < 0)
		return -1;
	if (f->host == NULL)
		return ectx_error(c, v, "synced folder in %s has no 'host' path; add host: PATH",
				  c->where);
	if (f->guest == NULL)
		return ectx_error(c, v, "synced folder in %s has no 'guest' path; add guest: /PATH",
				  c->where);
	if (f->guest[0] != '/')
		return ectx_error(
			c, guest_node,
			"synced folder guest path '%s' in %s must be absolute, such as /work",
			f->guest, c->where);
	return 0;
}

static int parse_network(struct ectx *c, yaml_node_t *v, struct private_network *n)
{
	static const char *const known[] = { "ip", "netmask", NULL };
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val, *ip_node = NULL;
	const char *key, *ip = NULL;
	unsigned char buf[4];
	int rc = 0;

	n->pos = ectx_pos(v);
	n->prefix = 24;
	if (ectx_mapping(c, v, "private network", false) < 0)
		return -1;
	while ((key = ectx_next(c, &it, &k, &val)) != NULL) {
		if (strcmp(key, "ip") == 0) {
			rc |= ectx_string(c, val, "private network ip", &ip);
			ip_node = val;
		} else if (strcmp(key, "netmask") == 0) {
			uint64_t p;
			const char *s = (const char *)val->data.scalar.value;
			if (val->type == YAML_SCALAR_NODE && inet_pton(AF_INET, s, buf) == 1) {
				uint32_t mask = ntohl(*(uint32_t *)buf);
				n->prefix = (unsigned)__builtin_popcount(mask);
				if (mask != (n->prefix ? ~0u << (32 - n->prefix) : 0))
					rc = ectx_error(c, val,
							"netmask '%s' in %s is not a "
							"contiguous mask",
							s, c->where);
			} else if (ectx_uint(c, val, "netmask", 1, 30, &p) < 0) {
				rc = -1;
			} else {
				n->prefix = (unsigned)p;
			}
		} else {
			rc = ectx_unknown_key(c, k, known);
		}
	}
	if (rc < 0)
		return -1;
	if (ip == NULL)
		return ectx_error(c, v, "private network in %s has no 'ip'; add ip: 192.168.56.10",
				  c->where);
	if (inet_pton(AF_INET, ip, buf) != 1)
		return ectx_error(c, ip_node,
				  "private network ip '%s' in %s is not an IPv4 address", ip,
				  c->where);
	n->ip = ip;
	return 0;
}

/* Parses a list whose items each go through parse(), into an arena array. */
#define LIST_KEY(fn, type, arr, count, key, what, parse)                                           \
	static int fn(struct ectx *c, yaml_node_t *v, struct machine *m)                           \
	{                                                                                          \
		size_t n;                                                                          \
		int rc = 0;                                                                        \
		if (ectx_is_null(v)) {                                                             \
			SET(m, key);                                                               \
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
		SET(m, key);                                                                       \
		return rc;                                                                         \
	}

LIST_KEY(k_ports, struct forwarded_port, ports, n_ports, KEY_PORTS, "forwarded_ports", parse_port)
LIST_KEY(k_folders, struct synced_folder, folders, n_folders, KEY_FOLDERS, "synced_folders",
	 parse_folder)
LIST_KEY(k_networks, struct private_network, networks, n_networks, KEY_NETWORKS, "private_networks",
	 parse_network)

static int k_provision(struct ectx *c, yaml_node_t *v, struct machine *m)
{
	SET(m, KEY_PROVISION);
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
	{ "accel", k_accel, false },
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
	"accel",
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
