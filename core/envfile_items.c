/* SPDX-License-Identifier: MIT */
/*
 * One item of a machine's lists: a forwarded port ("8080:80" or a map), a
 * synced folder, a private network.
 */
#include "core/envfile-internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

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

int envfile_parse_port(struct ectx *c, yaml_node_t *v, struct forwarded_port *p)
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

/*
 * Keys that only one type of folder has: every provider understands only
 * "ro" and "rw" of mount options, on mounted (native) folders; rsync_exclude
 * only means something to an rsync copy. Refused, never ignored.
 */
static int check_folder_type_keys(struct ectx *c, const struct synced_folder *f,
				  yaml_node_t *opts_node, yaml_node_t *exclude_node)
{
	if (f->n_mount_options > 0 && f->type == SYNC_RSYNC)
		return ectx_error(c, opts_node,
				  "mount_options in %s: an rsync folder is copied, not mounted; "
				  "remove mount_options or use type: native",
				  c->where);
	for (size_t j = 0; j < f->n_mount_options; j++)
		if (strcmp(f->mount_options[j], "ro") != 0 &&
		    strcmp(f->mount_options[j], "rw") != 0)
			return ectx_error(c, opts_node,
					  "mount option '%s' in %s is not one den applies; use ro "
					  "or rw (owner and group are keys of the folder)",
					  f->mount_options[j], c->where);
	if (f->n_rsync_exclude > 0 && f->type != SYNC_RSYNC)
		return ectx_error(c, exclude_node,
				  "rsync_exclude in %s: only an rsync folder is copied; add "
				  "type: rsync or remove rsync_exclude",
				  c->where);
	return 0;
}

int envfile_parse_folder(struct ectx *c, yaml_node_t *v, struct synced_folder *f)
{
	static const char *const known[] = { "host",	      "guest", "type",	"disabled",
					     "create",	      "owner", "group", "mount_options",
					     "rsync_exclude", NULL };
	static const char *const types[] = { "native", "rsync", NULL };
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val, *guest_node = NULL, *opts_node = NULL, *exclude_node = NULL;
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
			opts_node = val;
		} else if (strcmp(key, "rsync_exclude") == 0) {
			rc |= ectx_string_list(c, val, "rsync_exclude", true, &f->rsync_exclude,
					       &f->n_rsync_exclude);
			exclude_node = val;
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
	return check_folder_type_keys(c, f, opts_node, exclude_node);
}

int envfile_parse_network(struct ectx *c, yaml_node_t *v, struct private_network *n)
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
