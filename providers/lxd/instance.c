/* SPDX-License-Identifier: MIT */
/*
 * A machine as an LXD instance: its name, what it is made with (image,
 * profiles, limits, den's marks), its devices (proxy devices for SSH and
 * forwarded ports, disk devices for synced folders) and the files den puts
 * in before it boots (host key, authorized_keys, sshd settings, host name).
 */
#include "providers/lxd/lxd-internal.h"
#include "core/cleanup.h"
#include "core/digest.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/passwd.h"
#include "providers/guest_files.h"
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* This host, for instance names and marks: /etc/machine-id, else the host name. */
static void host_id(char *out, size_t n)
{
	cleanup_free char *id = NULL;
	struct den_err ignored = { 0 };

	if (den_read_file("/etc/machine-id", 256, &id, NULL, &ignored) == 0) {
		id[strcspn(id, "\n")] = '\0';
		if (id[0] != '\0') {
			snprintf(out, n, "%s", id);
			return;
		}
	}
	if (gethostname(out, n) < 0)
		snprintf(out, n, "localhost");
	out[n - 1] = '\0';
}

int lxd_instance_owner(const struct den_machine *dm, char *out, size_t n)
{
	char host[256];

	host_id(host, sizeof(host));
	return snprintf(out, n, "%s:%s", host, dm->root) >= (int)n ? -1 : 0;
}

int lxd_instance_name(const struct den_machine *dm, char *out, size_t n, struct den_err *err)
{
	char owner[4200], hex[DIGEST_HEX_MAX], part[41];
	struct digest *d = digest_new(DIGEST_SHA256);
	size_t k = 0;

	if (d == NULL || lxd_instance_owner(dm, owner, sizeof(owner)) < 0) {
		digest_free(d);
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	}
	/* The project (on this host) and the machine: stable across ups, apart between projects. */
	digest_update(d, owner, strlen(owner) + 1);
	digest_update(d, dm->cfg->name, strlen(dm->cfg->name));
	digest_final_hex(d, hex);
	digest_free(d);
	for (const char *p = dm->cfg->name; *p != '\0' && k < sizeof(part) - 1; p++)
		part[k++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					    (*p >= '0' && *p <= '9')
				    ? *p
				    : '-';
	part[k] = '\0';
	/* den-NAME-HASH: a letter first, '-' never doubled at the ends, at most 63. */
	snprintf(out, n, "den-%s-%.10s", part, hex);
	return 0;
}

/* The box's own /etc/passwd or /etc/group (never the guest's, never the host's). */
static FILE *box_etc(const char *box_dir, const char *name, struct den_err *err)
{
	cleanup_free char *root = NULL;

	if (asprintf(&root, "%s/rootfs", box_dir) < 0) {
		den_err_set(err, ENOMEM, "box %s", name);
		return NULL;
	}
	return passwd_open_in(root, name, err);
}

/* A user of the box: the login user, or a synced folder's owner. */
static int box_user(const char *box_dir, const char *name, struct passwd_user *u,
		    struct den_err *err)
{
	FILE *f = box_etc(box_dir, "etc/passwd", err);
	int rc = f != NULL ? passwd_find_user(f, name, u, err) : -1;

	if (f != NULL)
		fclose(f);
	return rc;
}

static int box_group(const char *box_dir, const char *name, gid_t *gid, struct den_err *err)
{
	FILE *f = box_etc(box_dir, "etc/group", err);
	int rc = f != NULL ? passwd_find_group(f, name, gid, err) : -1;

	if (f != NULL)
		fclose(f);
	return rc;
}

/* Does /etc/subUID (or subgid) let root hand id to a container? LXD's rule for raw.idmap. */
static bool delegated(const char *file, unsigned long id)
{
	char line[256];
	FILE *f = fopen(file, "re");
	bool ok = false;

	while (!ok && f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long start, count;
		char who[64];
		if (sscanf(line, "%63[^:]:%lu:%lu", who, &start, &count) == 3 &&
		    strcmp(who, "root") == 0 && id >= start && id - start < count)
			ok = true;
	}
	if (f != NULL)
		fclose(f);
	return ok;
}

/*
 * raw.idmap for the native synced folders: each folder's host owner shown
 * as its owner inside (the login user unless owner:/group: say), as
 * Vagrant's LXD plugin does. A folder of host root's is never mapped (it
 * would make the machine's root the host's on it): it is bound as it is.
 */
static int folder_idmap(const struct den_machine *dm, const char *box_dir, char **out,
			struct den_err *err)
{
	char *map = strdup("");

	*out = NULL;
	for (size_t i = 0; map != NULL && i < dm->cfg->n_folders; i++) {
		const struct synced_folder *f = &dm->cfg->folders[i];
		struct passwd_user u;
		struct stat st;
		gid_t gid;
		char *more = NULL;

		if (f->disabled || f->type != SYNC_NATIVE || stat(f->host_path, &st) < 0)
			continue;
		if (st.st_uid == 0) {
			den_warn("machine %s: synced folder %s belongs to root on the host, so it "
				 "is not mapped to a user inside (chown it to a user to write "
				 "from the machine)",
				 dm->cfg->name, f->host_path);
			continue;
		}
		if (box_user(box_dir, f->owner ? f->owner : dm->rec.ssh_user, &u, err) < 0) {
			free(map);
			return den_err_wrap(err, "synced folder %s", f->host);
		}
		gid = u.gid;
		if (f->group != NULL && box_group(box_dir, f->group, &gid, err) < 0) {
			free(map);
			return den_err_wrap(err, "synced folder %s", f->host);
		}
		if (!delegated("/etc/subuid", st.st_uid) || !delegated("/etc/subgid", st.st_gid)) {
			free(map);
			return den_err_set(
				err, 0,
				"synced folder %s belongs to %u:%u, and LXD maps a "
				"host user into a container only when root may hand it out: add "
				"`root:%u:1` to /etc/subuid and `root:%u:1` to /etc/subgid, then "
				"restart LXD (or use type: rsync for this folder)",
				f->host_path, (unsigned)st.st_uid, (unsigned)st.st_gid,
				(unsigned)st.st_uid, (unsigned)st.st_gid);
		}
		char line[128];
		snprintf(line, sizeof(line), "uid %u %u\ngid %u %u\n", (unsigned)st.st_uid,
			 (unsigned)u.uid, (unsigned)st.st_gid, (unsigned)gid);
		/* One mapping per host id: a second folder of the same owner needs none. */
		if (strstr(map, line) != NULL)
			continue;
		char uid_part[32];
		snprintf(uid_part, sizeof(uid_part), "uid %u ", (unsigned)st.st_uid);
		if (strstr(map, uid_part) != NULL) {
			free(map);
			return den_err_set(err, 0,
					   "synced folders of host user %u are shown "
					   "as two different owners inside; give them the same "
					   "owner: and group:",
					   (unsigned)st.st_uid);
		}
		if (asprintf(&more, "%s%s", map, line) < 0)
			more = NULL;
		free(map);
		map = more;
	}
	if (map == NULL)
		return den_err_set(err, ENOMEM, "synced folders");
	*out = map;
	return 0;
}

/* "tcp:127.0.0.1:8080", "udp:[::1]:53" for a proxy device. */
static char *proxy_address(const char *proto, const char *ip, int port)
{
	char *s = NULL;
	bool v6 = strchr(ip, ':') != NULL;

	return asprintf(&s, "%s:%s%s%s:%d", proto, v6 ? "[" : "", ip, v6 ? "]" : "", port) < 0
		       ? NULL
		       : s;
}

static void add_proxy(json_t *devices, const char *name, const char *listen, const char *connect)
{
	json_object_set_new(devices, name,
			    json_pack("{s:s, s:s, s:s, s:s}", "type", "proxy", "listen", listen,
				      "connect", connect, "bind", "host"));
}

json_t *lxd_instance_devices(const struct lxd_client *c, const struct den_machine *dm, int ssh_port,
			     const int *hosts)
{
	const struct machine *m = dm->cfg;
	json_t *devices = json_object();
	cleanup_free char *ssh = proxy_address("tcp", c->host, ssh_port);

	if (devices == NULL || ssh == NULL) {
		json_decref(devices);
		return NULL;
	}
	add_proxy(devices, "den-ssh", ssh, "tcp:127.0.0.1:22");
	for (size_t i = 0; i < m->n_ports; i++) {
		const char *proto = m->ports[i].protocol == FWD_UDP ? "udp" : "tcp";
		/* A remote LXD listens on its own address: 127.0.0.1 there is not this host's. */
		const char *ip = c->socket == NULL ? c->host : m->ports[i].host_ip;
		cleanup_free char *listen = proxy_address(proto, ip, hosts[i]),
				  *connect = proxy_address(proto, "127.0.0.1", m->ports[i].guest);
		char name[32];
		if (listen == NULL || connect == NULL) {
			json_decref(devices);
			return NULL;
		}
		snprintf(name, sizeof(name), "den-port-%zu", i);
		add_proxy(devices, name, listen, connect);
	}
	for (size_t i = 0; i < m->n_folders; i++) {
		const struct synced_folder *f = &m->folders[i];
		bool ro = false;
		char name[32];
		if (f->disabled || f->type != SYNC_NATIVE)
			continue;
		for (size_t j = 0; j < f->n_mount_options; j++)
			ro |= strcmp(f->mount_options[j], "ro") == 0;
		snprintf(name, sizeof(name), "den-folder-%zu", i);
		json_object_set_new(devices, name,
				    json_pack("{s:s, s:s, s:s, s:s}", "type", "disk", "source",
					      f->host_path, "path", f->guest, "readonly",
					      ro ? "true" : "false"));
	}
	if (m->lxd.storage_pool != NULL)
		json_object_set_new(devices, "root",
				    json_pack("{s:s, s:s, s:s}", "type", "disk", "path", "/",
					      "pool", m->lxd.storage_pool));
	return devices;
}

int lxd_instance_config(const struct den_machine *dm, const char *box_dir, json_t **out,
			struct den_err *err)
{
	const struct machine *m = dm->cfg;
	cleanup_free char *idmap = NULL;
	char owner[4200], cpus[16], mem[32];

	*out = NULL;
	if (lxd_instance_owner(dm, owner, sizeof(owner)) < 0)
		return den_err_set(err, ENAMETOOLONG, "the project's folder");
	if (folder_idmap(dm, box_dir, &idmap, err) < 0)
		return -1;
	snprintf(cpus, sizeof(cpus), "%u", m->cpus);
	snprintf(mem, sizeof(mem), "%lluMiB", (unsigned long long)(m->memory >> 20));
	*out = json_pack("{s:s, s:s, s:s, s:s}", "limits.cpu", cpus, "limits.memory", mem,
			 "user.den.owner", owner, "user.den.machine", m->name);
	if (*out == NULL)
		return den_err_set(err, ENOMEM, "instance config");
	if (idmap[0] != '\0')
		json_object_set_new(*out, "raw.idmap", json_string(idmap));
	return 0;
}

struct text_reader {
	const char *p;
	size_t left;
};

static long read_text(void *arg, char *buf, size_t len)
{
	struct text_reader *t = arg;
	size_t n = t->left < len ? t->left : len;

	memcpy(buf, t->p, n);
	t->p += n;
	t->left -= n;
	return (long)n;
}

/* One file (or folder) into the instance, made or replaced, with mode and owner. */
static int push(struct lxd_client *c, const char *name, const char *path, const char *text,
		unsigned uid, unsigned gid, unsigned mode, bool dir, struct den_err *err)
{
	cleanup_free char *ename = lxd_escape(name), *epath = lxd_escape(path), *url = NULL,
			  *query = NULL;
	char h_uid[48], h_gid[48], h_mode[48];
	const char *headers[] = { h_uid,
				  h_gid,
				  h_mode,
				  dir ? "X-LXD-type: directory" : "X-LXD-type: file",
				  "X-LXD-write: overwrite",
				  "Content-Type: application/octet-stream",
				  NULL };
	struct text_reader tr = { text ? text : "", text ? strlen(text) : 0 };

	snprintf(h_uid, sizeof(h_uid), "X-LXD-uid: %u", uid);
	snprintf(h_gid, sizeof(h_gid), "X-LXD-gid: %u", gid);
	snprintf(h_mode, sizeof(h_mode), "X-LXD-mode: %04o", mode);
	if (ename == NULL || epath == NULL ||
	    asprintf(&url, "/1.0/instances/%s/files", ename) < 0 ||
	    asprintf(&query, "path=%s", epath) < 0)
		return den_err_set(err, ENOMEM, "machine file");
	struct lxd_request r = { .method = "POST",
				 .path = url,
				 .query = query,
				 .read = read_text,
				 .read_arg = &tr,
				 .headers = headers };
	int rc = lxd_run(c, &r, NULL, err);
	return rc < 0 ? den_err_wrap(err, "cannot put %s into %s", path, name) : 0;
}

int lxd_instance_put_credentials(struct lxd_client *c, const char *name,
				 const struct den_machine *dm, const char *box_dir,
				 struct den_err *err)
{
	cleanup_free char *host_key = NULL, *host_pub = NULL, *client_pub = NULL, *kpath = NULL,
			  *ppath = NULL, *hostname = NULL, *hosts = NULL, *ssh_dir = NULL,
			  *auth = NULL, *auth_line = NULL;
	struct passwd_user u;

	if (box_user(box_dir, dm->rec.ssh_user, &u, err) < 0)
		return -1;
	if (asprintf(&kpath, "%s/" KEYS_HOST, dm->dir) < 0 ||
	    asprintf(&ppath, "%s/" KEYS_HOST ".pub", dm->dir) < 0 ||
	    asprintf(&hostname, "%s\n", dm->cfg->hostname) < 0 ||
	    asprintf(&hosts, GUEST_HOSTS_FORMAT, dm->cfg->hostname) < 0 ||
	    asprintf(&ssh_dir, "%s/.ssh", strcmp(u.home, "/") == 0 ? "" : u.home) < 0 ||
	    asprintf(&auth, "%s/authorized_keys", ssh_dir) < 0)
		return den_err_set(err, ENOMEM, "den's files for %s", name);
	if (den_read_file(kpath, 16384, &host_key, NULL, err) < 0 ||
	    den_read_file(ppath, 16384, &host_pub, NULL, err) < 0 ||
	    keys_public(dm->dir, KEYS_CLIENT, &client_pub, err) < 0 ||
	    asprintf(&auth_line, "%s\n", client_pub) < 0)
		return den_err_is_set(err) ? -1
					   : den_err_set(err, ENOMEM, "den's files for %s", name);
	if (push(c, name, "/etc/ssh/ssh_host_ed25519_key", host_key, 0, 0, 0600, false, err) < 0 ||
	    push(c, name, "/etc/ssh/ssh_host_ed25519_key.pub", host_pub, 0, 0, 0644, false, err) <
		    0 ||
	    push(c, name, "/etc/ssh/sshd_config.d/den.conf", GUEST_SSHD_HEADER GUEST_SSHD_SETTINGS,
		 0, 0, 0644, false, err) < 0 ||
	    push(c, name, "/etc/hostname", hostname, 0, 0, 0644, false, err) < 0 ||
	    push(c, name, "/etc/hosts", hosts, 0, 0, 0644, false, err) < 0 ||
	    push(c, name, ssh_dir, NULL, u.uid, u.gid, 0700, true, err) < 0 ||
	    push(c, name, auth, auth_line, u.uid, u.gid, 0600, false, err) < 0)
		return -1;
	return 0;
}
