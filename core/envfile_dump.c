/* SPDX-License-Identifier: MIT */
/*
 * The Envfile model as JSON, as den sees it after merging defaults and
 * expanding matrices (`den validate --json`).
 */
#include "core/envfile_dump.h"
#include "core/size.h"

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *strings(const char *const *a, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_string(a[i]));
	return arr;
}

static json_t *raw_json(const char *text)
{
	return text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : json_null();
}

json_t *envfile_step_to_json(const struct prov_step *s)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o}", "type", envfile_prov_kind_name(s->kind),
			      "name", s->name, "run", envfile_run_name(s->run), "before",
			      str_or_null(s->before), "after", str_or_null(s->after));
	json_t *o = NULL;

	if (j == NULL)
		return NULL;
	switch (s->kind) {
	case PROV_SHELL: {
		json_t *env = json_object();
		for (size_t i = 0; env != NULL && i < s->shell.n_env; i++)
			json_object_set_new(env, s->shell.env[i].name,
					    json_string(s->shell.env[i].value));
		o = json_pack("{s:o, s:o, s:o, s:o, s:b, s:o, s:b, s:b}", "inline",
			      str_or_null(s->shell.inline_script), "path",
			      str_or_null(s->shell.path_abs), "args",
			      strings(s->shell.args, s->shell.n_args), "env", env, "privileged",
			      s->shell.privileged, "upload_path", str_or_null(s->shell.upload_path),
			      "reboot", s->shell.reboot, "keep_color", s->shell.keep_color);
		break;
	}
	case PROV_FILE:
		o = json_pack("{s:s, s:s}", "source", s->file.source_abs, "destination",
			      s->file.destination);
		break;
	case PROV_ANSIBLE:
	case PROV_ANSIBLE_LOCAL: {
		const struct prov_ansible *a = &s->ansible;
		o = json_pack(
			"{s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:i, s:o, s:o, s:o}", "playbook",
			a->playbook_abs ? a->playbook_abs : a->playbook, "extra_vars",
			raw_json(a->extra_vars_json), "groups", raw_json(a->groups_json), "limit",
			str_or_null(a->limit), "tags", str_or_null(a->tags), "skip_tags",
			str_or_null(a->skip_tags), "become", a->become, "verbose", (int)a->verbose,
			"galaxy_role_file", str_or_null(a->galaxy_role_file), "inventory_path",
			str_or_null(a->inventory_path), "config_file", str_or_null(a->config_file));
		if (o != NULL && s->kind == PROV_ANSIBLE_LOCAL) {
			json_object_set_new(o, "install", json_boolean(a->install));
			json_object_set_new(o, "provisioning_path",
					    str_or_null(a->provisioning_path));
		}
		break;
	}
	}
	if (o != NULL)
		json_object_update(j, o);
	json_decref(o);
	return j;
}

static json_t *machine_json(const struct machine *m)
{
	static const char *const nets[] = { "user", "host" };
	static const char *const accels[] = { "auto", "kvm", "tcg" };
	char mem[32], disk[32];
	json_t *ports = json_array(), *folders = json_array(), *networks = json_array();
	json_t *steps = json_array();

	den_size_format(m->memory, mem, sizeof(mem));
	den_size_format(m->disk_size, disk, sizeof(disk));
	for (size_t i = 0; i < m->n_ports; i++) {
		const struct forwarded_port *p = &m->ports[i];
		json_array_append_new(ports, json_pack("{s:i, s:i, s:s, s:s, s:b, s:o}", "guest",
						       p->guest, "host", p->host, "protocol",
						       envfile_proto_name(p->protocol), "host_ip",
						       p->host_ip, "auto_correct", p->auto_correct,
						       "id", str_or_null(p->id)));
	}
	for (size_t i = 0; i < m->n_folders; i++) {
		const struct synced_folder *f = &m->folders[i];
		json_array_append_new(
			folders,
			json_pack("{s:s, s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o}", "host",
				  f->host_path, "guest", f->guest, "type",
				  f->type == SYNC_RSYNC ? "rsync" : "native", "disabled",
				  f->disabled, "create", f->create, "owner", str_or_null(f->owner),
				  "group", str_or_null(f->group), "mount_options",
				  strings(f->mount_options, f->n_mount_options), "rsync_exclude",
				  strings(f->rsync_exclude, f->n_rsync_exclude)));
	}
	for (size_t i = 0; i < m->n_networks; i++)
		json_array_append_new(
			networks, json_pack("{s:s, s:i, s:b}", "ip", m->networks[i].ip, "prefix",
					    m->networks[i].prefix, "dhcp", m->networks[i].dhcp));
	for (size_t i = 0; i < m->n_steps; i++)
		json_array_append_new(steps, envfile_step_to_json(&m->steps[i]));
	json_t *lxd = json_null();
	if (m->set & KEYBIT(ENVFILE_KEY_LXD))
		lxd = json_pack("{s:o, s:o, s:o, s:o, s:o, s:s}", "remote",
				str_or_null(m->lxd.remote), "project", str_or_null(m->lxd.project),
				"target", str_or_null(m->lxd.target), "storage_pool",
				str_or_null(m->lxd.storage_pool), "profiles",
				m->lxd.profiles ? strings(m->lxd.profiles, m->lxd.n_profiles)
						: json_null(),
				"type", m->lxd.type == LXD_VM ? "vm" : "container");

	json_t *j = json_pack(
		"{s:s, s:o, s:s, s:o, s:o, s:o, s:i, s:s, s:I, s:o, s:s, s:b, s:b, s:i, "
		"s:i, s:s, s:b, s:b, s:s, s:{s:o, s:o, s:b}, s:o, s:o, s:o, s:o}",
		"name", m->name, "matrix_of", str_or_null(m->matrix_of), "box", m->box,
		"box_version", str_or_null(m->box_version), "box_url", str_or_null(m->box_url),
		"provider", str_or_null(m->provider), "cpus", (int)m->cpus, "memory", mem,
		"memory_bytes", (json_int_t)m->memory, "disk_size",
		m->disk_size ? json_string(disk) : json_null(), "hostname", m->hostname, "primary",
		m->primary, "autostart", m->autostart, "boot_timeout", (int)m->boot_timeout,
		"graceful_halt_timeout", (int)m->graceful_halt_timeout, "network", nets[m->network],
		"no_new_privs", m->no_new_privs, "host_loopback", m->host_loopback, "accel",
		accels[m->accel], "ssh", "username", str_or_null(m->ssh.username),
		"private_key_path", str_or_null(m->ssh.private_key_path), "insert_key",
		m->ssh.insert_key, "forwarded_ports", ports, "synced_folders", folders,
		"private_networks", networks, "provision", steps);
	json_object_set_new(j, "lxd", lxd);
	return j;
}

json_t *envfile_to_json(const struct envfile *ef)
{
	json_t *machines = json_array();

	for (size_t i = 0; machines != NULL && i < ef->n_machines; i++)
		json_array_append_new(machines, machine_json(&ef->machines[i]));
	return json_pack("{s:s, s:s, s:o}", "name", ef->name, "root", ef->root, "machines",
			 machines);
}
