/* SPDX-License-Identifier: MIT */
/*
 * What differs on a remote LXD (docs/lxd.md, "A remote LXD"): its
 * machines' folders must be copied in, and their SSH and ports listen on
 * the server's address (on a cluster, the address of the member each
 * machine is on), which state.json records for ssh-config, `den port`
 * and Ansible's inventory.
 */
#include "providers/lxd/lxd-internal.h"
#include "core/cleanup.h"
#include "core/keys.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A remote LXD cannot see this host's folders: each synced folder must be
 * copied in (type: rsync). Its ports listen on the server's address, so a
 * host_ip naming one of this host's is refused. Said before anything is made.
 */
int lxd_check_remote(const struct den_machine *dm, struct den_err *err)
{
	for (size_t i = 0; dm->cfg->lxd.remote != NULL && i < dm->cfg->n_ports; i++) {
		const struct forwarded_port *p = &dm->cfg->ports[i];
		if (strcmp(p->host_ip, "127.0.0.1") != 0)
			return den_err_set(err, 0,
					   "machine %s: forwarded port %u (line %d): host_ip %s is "
					   "this host's address, and on LXD at %s ports listen on "
					   "the server's; leave host_ip out",
					   dm->cfg->name, p->guest, p->pos.line, p->host_ip,
					   dm->cfg->lxd.remote);
	}
	for (size_t i = 0; dm->cfg->lxd.remote != NULL && i < dm->cfg->n_folders; i++) {
		const struct synced_folder *f = &dm->cfg->folders[i];
		if (!f->disabled && f->type == SYNC_NATIVE)
			return den_err_set(err, 0,
					   "machine %s: synced folder %s (line %d): LXD at %s "
					   "cannot see this host's files; give it type: rsync (den "
					   "copies it in at up and with `den rsync`)",
					   dm->cfg->name, f->guest, f->pos.line,
					   dm->cfg->lxd.remote);
	}
	return 0;
}

/*
 * Where SSH and the forwarded ports are reached: the local LXD's proxy
 * devices listen on 127.0.0.1, a remote's on its own address, which
 * state.json, known_hosts and `den port` then say.
 */
int lxd_record_address(struct den_machine *dm, const struct lxd_client *c, int port,
		       struct den_err *err)
{
	bool remote = c->socket == NULL;

	free(dm->rec.ssh_host);
	dm->rec.ssh_host = remote ? strdup(c->host) : NULL;
	if (remote && dm->rec.ssh_host == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (!remote)
		return 0;
	json_t *ports = dm->rec.ports_json ? json_loads(dm->rec.ports_json, 0, NULL) : NULL, *p;
	size_t i;
	json_array_foreach(ports, i, p)
	{
		json_object_set_new(p, "host_ip", json_string(c->host));
	}
	if (ports != NULL) {
		free(dm->rec.ports_json);
		dm->rec.ports_json = json_dumps(ports, JSON_COMPACT);
		json_decref(ports);
	}
	return keys_write_known_hosts(dm->dir, c->host, port, err);
}

/*
 * On a cluster, the instance's proxy devices listen on the address of the
 * member it is on (LXD picks one when the Envfile gives no target), which
 * is known once it is made: when that is not the address den dialled, the
 * devices move there and state.json says so.
 */
int lxd_place_on_member(struct lxd_machine *m, struct den_machine *dm, int port, const int *hosts,
			json_t *config, struct den_err *err)
{
	json_t *inst = NULL, *member = NULL, *devices = NULL;
	cleanup_free char *path = NULL, *addr = NULL;
	struct lxd_url u;
	int rc;

	if (m->c.socket != NULL)
		return 0;
	rc = lxd_get_instance(m, dm, &inst, err);
	const char *where = json_string_value(json_object_get(inst, "location"));
	if (rc < 0 || inst == NULL || where == NULL || where[0] == '\0' ||
	    strcmp(where, "none") == 0) { /* not a cluster */
		json_decref(inst);
		return rc;
	}
	if (!envfile_lxd_name_ok(where) || asprintf(&path, "/1.0/cluster/members/%s", where) < 0)
		rc = den_err_set(err, 0, "%s placed %s on a member den cannot name", m->c.where,
				 m->name);
	else
		rc = lxd_call(&m->c, "GET", path, NULL, &member, "cannot find its cluster member",
			      err);
	const char *url = json_string_value(json_object_get(member, "url"));
	if (rc == 0 && (url == NULL || lxd_url_parse(url, &u, err) < 0)) {
		den_err_clear(err);
		rc = den_err_set(err, 0, "%s gives cluster member %s no address den can use",
				 m->c.where, where);
	}
	if (rc == 0)
		addr = lxd_numeric_host(u.host, err);
	if (rc == 0 && addr == NULL)
		rc = -1;
	if (rc == 0 && strcmp(addr, m->c.host) != 0) {
		den_info("%s: on cluster member %s (%s)", dm->cfg->name, where, addr);
		free(m->c.host);
		m->c.host = addr;
		addr = NULL;
		if ((devices = lxd_instance_devices(&m->c, dm, port, hosts)) == NULL)
			rc = den_err_set(err, ENOMEM, "instance %s", m->name);
		if (rc == 0)
			rc = lxd_record_address(dm, &m->c, port, err);
		if (rc == 0)
			rc = machine_save(dm, err);
		if (rc == 0)
			rc = lxd_update(m, dm, inst, config, devices, err);
	}
	json_decref(devices);
	json_decref(member);
	json_decref(inst);
	return rc;
}
