/* SPDX-License-Identifier: MIT */
#include "core/machine.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/project.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define STATE_FILE "state.json"
#define STATE_MAX (64 * 1024)

static const char *const state_names[] = {
	[MACHINE_NOT_CREATED] = "not created", [MACHINE_RUNNING] = "running",
	[MACHINE_STOPPED] = "stopped",	       [MACHINE_SUSPENDED] = "suspended",
	[MACHINE_ABORTED] = "aborted",	       [MACHINE_UNKNOWN] = "unknown",
};

static const char *const state_ids[] = {
	[MACHINE_NOT_CREATED] = "not_created", [MACHINE_RUNNING] = "running",
	[MACHINE_STOPPED] = "stopped",	       [MACHINE_SUSPENDED] = "suspended",
	[MACHINE_ABORTED] = "aborted",	       [MACHINE_UNKNOWN] = "unknown",
};

const char *machine_state_name(enum machine_state s)
{
	return state_names[s];
}

const char *machine_state_id(enum machine_state s)
{
	return state_ids[s];
}

static char *dup_string(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s != NULL ? strdup(s) : NULL;
}

static int parse_record(const char *path, const char *text, struct machine_record *r,
			struct den_err *err)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return den_err_set(err, 0,
				   "%s is damaged (%s at line %d); run `den destroy` for this "
				   "machine to start it afresh",
				   path, j ? "not an object" : jerr.text, jerr.line);
	}
	r->provider = dup_string(j, "provider");
	r->id = dup_string(j, "id");
	r->box = dup_string(j, "box");
	r->box_version = dup_string(j, "box_version");
	r->ssh_port = (int)json_integer_value(json_object_get(j, "ssh_port"));
	r->supervisor = (pid_t)json_integer_value(json_object_get(j, "supervisor_pid"));
	r->created = json_integer_value(json_object_get(j, "created"));
	r->ssh_user = dup_string(j, "ssh_user");
	r->ssh_key = dup_string(j, "ssh_key");
	r->running = json_is_true(json_object_get(j, "running"));
	json_t *ports = json_object_get(j, "ports");
	r->ports_json = json_is_array(ports) ? json_dumps(ports, JSON_COMPACT) : NULL;
	json_decref(j);
	return 0;
}

int machine_open(const char *root, const struct machine *cfg, struct den_machine *m,
		 struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;

	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->root = root;
	m->dir = project_machine_dir(root, cfg->name);
	if (m->dir == NULL || asprintf(&path, "%s/" STATE_FILE, m->dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", cfg->name);
	if (den_read_file(path, STATE_MAX, &text, NULL, err) < 0) {
		if (err->errno_ == ENOENT) {
			den_err_clear(err);
			return 0;
		}
		return -1;
	}
	if (parse_record(path, text, &m->rec, err) < 0)
		return -1;
	m->exists = true;
	return 0;
}

int machine_save(struct den_machine *m, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	json_t *j;

	if (den_mkdir_p(m->dir, 0755, err) < 0)
		return -1;
	if (asprintf(&path, "%s/" STATE_FILE, m->dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	j = json_pack("{s:i, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:I, s:s?, s:b}", "version", 1,
		      "provider", m->rec.provider, "id", m->rec.id, "box", m->rec.box,
		      "box_version", m->rec.box_version, "ssh_port", m->rec.ssh_port,
		      "supervisor_pid", (int)m->rec.supervisor, "created",
		      (json_int_t)m->rec.created, "ssh_user", m->rec.ssh_user, "running",
		      m->rec.running);
	if (j == NULL)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	if (m->rec.ssh_key != NULL)
		json_object_set_new(j, "ssh_key", json_string(m->rec.ssh_key));
	if (m->rec.ports_json != NULL)
		json_object_set_new(j, "ports", json_loads(m->rec.ports_json, 0, NULL));
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (text == NULL)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	if (den_write_file_atomic(path, text, 0644, err) < 0)
		return -1;
	m->exists = true;
	return 0;
}

void machine_close(struct den_machine *m)
{
	free(m->dir);
	free(m->rec.provider);
	free(m->rec.id);
	free(m->rec.box);
	free(m->rec.box_version);
	free(m->rec.ssh_user);
	free(m->rec.ssh_key);
	free(m->rec.ports_json);
	memset(m, 0, sizeof(*m));
}
