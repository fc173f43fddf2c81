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

/* A netmask, dotted (255.255.255.0) or as a length (24), into *prefix. */
static int parse_netmask(struct ectx *c, yaml_node_t *val, unsigned *prefix)
{
	unsigned char buf[4];
	uint64_t p;
	const char *s = (const char *)val->data.scalar.value;

	if (val->type == YAML_SCALAR_NODE && inet_pton(AF_INET, s, buf) == 1) {
		uint32_t mask = ntohl(*(uint32_t *)buf);
		*prefix = (unsigned)__builtin_popcount(mask);
		if (mask != (*prefix ? ~0u << (32 - *prefix) : 0))
			return ectx_error(c, val, "netmask '%s' in %s is not a contiguous mask", s,
					  c->where);
		if (*prefix < 1 || *prefix > 30)
			return ectx_error(c, val,
					  "netmask '%s' in %s leaves no room for a network of "
					  "machines; expected /1 to /30",
					  s, c->where);
		return 0;
	}
	if (ectx_uint(c, val, "netmask", 1, 30, &p) < 0)
		return -1;
	*prefix = (unsigned)p;
	return 0;
}

/* `network: 192.168.60.0/24` (with dhcp: true): its address and prefix into n. */
static int parse_dhcp_network(struct ectx *c, yaml_node_t *val, struct private_network *n)
{
	const char *s = NULL;
	char addr[INET_ADDRSTRLEN];
	unsigned char buf[4];
	unsigned prefix;
	char end;

	if (ectx_string(c, val, "private network's network", &s) < 0)
		return -1;
	if (sscanf(s, "%15[0-9.]/%u%c", addr, &prefix, &end) != 2 ||
	    inet_pton(AF_INET, addr, buf) != 1 || prefix < 1 || prefix > 30)
		return ectx_error(c, val,
				  "network '%s' in %s is not an IPv4 network with a prefix from "
				  "/1 to /30, such as 192.168.60.0/24",
				  s, c->where);
	n->addr = ntohl(*(uint32_t *)buf);
	n->prefix = prefix;
	if (n->addr & ~envfile_netmask(prefix)) {
		uint32_t net = htonl(n->addr & envfile_netmask(prefix));
		inet_ntop(AF_INET, &net, addr, sizeof(addr));
		return ectx_error(c, val,
				  "network '%s' in %s has host bits set; did you mean %s/%u?", s,
				  c->where, addr, prefix);
	}
	return 0;
}

int envfile_parse_network(struct ectx *c, yaml_node_t *v, struct private_network *n)
{
	static const char *const known[] = { "ip", "netmask", "dhcp", "network", NULL };
	struct ectx_iter it = ECTX_ITER(v);
	yaml_node_t *k, *val, *ip_node = NULL, *mask_node = NULL, *net_node = NULL;
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
			rc |= parse_netmask(c, val, &n->prefix);
			mask_node = val;
		} else if (strcmp(key, "dhcp") == 0) {
			rc |= ectx_bool(c, val, "dhcp", &n->dhcp);
		} else if (strcmp(key, "network") == 0) {
			net_node = val;
		} else {
			rc = ectx_unknown_key(c, k, known);
		}
	}
	if (rc < 0)
		return -1;
	if (n->dhcp) {
		if (ip_node != NULL || mask_node != NULL)
			return ectx_error(c, ip_node != NULL ? ip_node : mask_node,
					  "private network in %s has dhcp: true and a fixed %s; "
					  "give one or the other (its network: ADDRESS/PREFIX "
					  "names where dhcp asks)",
					  c->where, ip_node != NULL ? "ip" : "netmask");
		if (net_node != NULL)
			return parse_dhcp_network(c, net_node, n);
		inet_pton(AF_INET, ENVFILE_DHCP_NETWORK, buf);
		n->addr = ntohl(*(uint32_t *)buf);
		n->prefix = ENVFILE_DHCP_PREFIX;
		return 0;
	}
	if (net_node != NULL)
		return ectx_error(c, net_node,
				  "private network in %s: network goes with dhcp: true; a fixed "
				  "address gives its network by ip and netmask",
				  c->where);
	if (ip == NULL)
		return ectx_error(c, v,
				  "private network in %s has no 'ip'; add ip: 192.168.56.10, or "
				  "dhcp: true",
				  c->where);
	if (inet_pton(AF_INET, ip, buf) != 1)
		return ectx_error(c, ip_node,
				  "private network ip '%s' in %s is not an IPv4 address", ip,
				  c->where);
	snprintf(n->ip, sizeof(n->ip), "%s", ip);
	n->addr = ntohl(*(uint32_t *)buf);
	/* The network's own address and its broadcast are no machine's. */
	uint32_t host = n->addr & ~envfile_netmask(n->prefix);
	if (host == 0 || host == ~envfile_netmask(n->prefix)) {
		char net[INET_ADDRSTRLEN], first[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];
		uint32_t base = n->addr & envfile_netmask(n->prefix);
		uint32_t a = htonl(base + 1), b = htonl(base + ~envfile_netmask(n->prefix) - 1);
		envfile_network_text(n, net);
		inet_ntop(AF_INET, &a, first, sizeof(first));
		inet_ntop(AF_INET, &b, last, sizeof(last));
		return ectx_error(c, ip_node,
				  "private network ip %s in %s is the %s address of %s/%u; give "
				  "the machine one from %s to %s",
				  ip, c->where, host == 0 ? "network's own" : "broadcast", net,
				  n->prefix, first, last);
	}
	return 0;
}

uint32_t envfile_dhcp_server(const struct private_network *n)
{
	return (n->addr | ~envfile_netmask(n->prefix)) - 1;
}

uint32_t envfile_netmask(unsigned prefix)
{
	return prefix == 0 ? 0 : ~0u << (32 - prefix);
}

void envfile_network_text(const struct private_network *n, char out[INET_ADDRSTRLEN])
{
	uint32_t net = htonl(n->addr & envfile_netmask(n->prefix));

	if (inet_ntop(AF_INET, &net, out, INET_ADDRSTRLEN) == NULL)
		snprintf(out, INET_ADDRSTRLEN, "?");
}
