/* SPDX-License-Identifier: MIT */
/*
 * The lxd provider (docs/lxd.md): a machine is an LXD instance made from
 * its den box, uploaded once as an LXD image. LXD is the supervisor: den
 * starts no process of its own for the machine, and every state is asked
 * of LXD. SSH and forwarded ports go through LXD proxy devices listening
 * on 127.0.0.1, so no bridge or address of LXD's is needed; den's keys go
 * in through LXD's file API before each start, so den's strict host-key
 * check holds from the first connection.
 */
#include "providers/lxd/lxd-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/log.h"
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int machine_open_lxd(const struct den_machine *dm, struct lxd_machine *m,
			    struct den_err *err)
{
	if (lxd_open(&dm->cfg->lxd, &m->c, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	m->c.progress = isatty(STDERR_FILENO) && den_log_level() >= DEN_LOG_INFO;
	if (lxd_instance_name(dm, m->name, sizeof(m->name), err) < 0) {
		lxd_close(&m->c);
		return -1;
	}
	snprintf(m->path, sizeof(m->path), "/1.0/instances/%s", m->name);
	return 0;
}

int lxd_get_instance(struct lxd_machine *m, const struct den_machine *dm, json_t **inst,
		     struct den_err *err)
{
	char owner[4200];

	*inst = NULL;
	if (lxd_call(&m->c, "GET", m->path, NULL, inst, NULL, err) < 0) {
		if (err->errno_ != ENOENT)
			return -1;
		den_err_clear(err);
		return 0;
	}
	const char *mark = json_string_value(
		json_object_get(json_object_get(*inst, "config"), "user.den.owner"));
	if (lxd_instance_owner(dm, owner, sizeof(owner)) < 0 || mark == NULL ||
	    strcmp(mark, owner) != 0) {
		json_decref(*inst);
		*inst = NULL;
		return den_err_set(err, 0,
				   "%s has an instance %s that this project did not make; den "
				   "leaves it alone (rename or delete it in LXD)",
				   m->c.where, m->name);
	}
	return 0;
}

static int change_state(struct lxd_machine *m, const char *action, int timeout, bool force,
			struct den_err *err)
{
	char what[128];
	json_t *body =
		json_pack("{s:s, s:i, s:b}", "action", action, "timeout", timeout, "force", force);
	cleanup_free char *path = NULL;

	snprintf(what, sizeof(what), "cannot %s %s", action, m->name);
	if (body == NULL || asprintf(&path, "%s/state", m->path) < 0) {
		json_decref(body);
		return den_err_set(err, ENOMEM, "%s", what);
	}
	int rc = lxd_call(&m->c, "PUT", path, body, NULL, what, err);
	json_decref(body);
	return rc;
}

static int probe(struct den_err *err)
{
	/* Where LXD is depends on the machine's lxd: settings: up asks it, and says. */
	(void)err;
	return 0;
}

/* The Envfile's profiles (absent: LXD's "default"). */
static json_t *profiles_of(const struct lxd_settings *s)
{
	json_t *profiles = json_array();

	if (s->profiles == NULL)
		json_array_append_new(profiles, json_string("default"));
	for (size_t i = 0; s->profiles != NULL && i < s->n_profiles; i++)
		json_array_append_new(profiles, json_string(s->profiles[i]));
	return profiles;
}

/* The instance made from the box's image, stopped. */
static int create(struct lxd_machine *m, struct den_machine *dm,
		  const struct provider_up_args *args, json_t *config, json_t *devices,
		  struct den_err *err)
{
	char fp[65];
	cleanup_free char *path = NULL;

	if (lxd_image_ensure(&m->c, args->box_dir, dm->rec.box, dm->rec.box_version, fp, err) < 0)
		return -1;
	json_t *body =
		json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:O, s:O}", "name", m->name, "type",
			  "container", "source", "type", "image", "fingerprint", fp, "profiles",
			  profiles_of(&dm->cfg->lxd), "config", config, "devices", devices);
	if (body == NULL ||
	    (m->c.target != NULL && asprintf(&path, "/1.0/instances?target=%s", m->c.target) < 0)) {
		json_decref(body);
		return den_err_set(err, ENOMEM, "instance %s", m->name);
	}
	den_info("%s: making instance %s on %s", dm->cfg->name, m->name, m->c.where);
	int rc = lxd_call(&m->c, "POST", path ? path : "/1.0/instances", body, NULL, NULL, err);
	json_decref(body);
	return rc < 0 ? den_err_wrap(err, "cannot make instance %s", m->name) : 0;
}

/*
 * An instance made before: den's config, devices and profiles as this up
 * has them, LXD's volatile keys and the user's own devices kept.
 */
int lxd_update(struct lxd_machine *m, struct den_machine *dm, json_t *inst, json_t *config,
	       json_t *devices, struct den_err *err)
{
	json_t *old_config = json_object_get(inst, "config"), *v;
	json_t *body = json_object();
	const char *k;

	/* LXD's volatile keys and the user's own stay; den's are set again. */
	json_t *merged = json_deep_copy(old_config ? old_config : json_object());
	json_object_del(merged, "raw.idmap");
	json_object_update(merged, config);
	json_t *devs = json_object();
	json_object_foreach(json_object_get(inst, "devices"), k, v)
	{
		if (strncmp(k, "den-", 4) != 0 && strcmp(k, "root") != 0)
			json_object_set(devs, k, v);
	}
	json_object_update(devs, devices);
	json_object_set_new(body, "config", merged);
	json_object_set_new(body, "devices", devs);
	json_object_set_new(body, "profiles", profiles_of(&dm->cfg->lxd));
	json_object_set(body, "description", json_object_get(inst, "description"));
	json_object_set_new(body, "ephemeral", json_false());
	int rc = lxd_call(&m->c, "PUT", m->path, body, NULL, NULL, err);
	json_decref(body);
	return rc < 0 ? den_err_wrap(err, "cannot set up instance %s", m->name) : 0;
}

static int up(struct den_machine *dm, const struct provider_up_args *args, struct den_err *err)
{
	struct lxd_machine m;
	cleanup_free int *hosts = NULL;
	json_t *inst = NULL, *config = NULL, *devices = NULL;
	int port, rc;

	if (dm->cfg->lxd.type == LXD_VM)
		return den_err_set(err, 0,
				   "machine %s: lxd type: vm is not done yet (den's boxes become "
				   "LXD container images); use type: container",
				   dm->cfg->name);
	if (!args->box_system_init)
		return den_err_set(err, 0,
				   "machine %s: LXD boots a container's own init, and box %s %s "
				   "has none (its metadata has no \"init\": \"system\"); use a "
				   "box that boots systemd, such as den/debian-12-systemd",
				   dm->cfg->name, dm->rec.box, dm->rec.box_version);
	if (lxd_check_remote(dm, err) < 0)
		return -1;
	for (size_t i = 0; i < dm->cfg->n_folders; i++)
		if (provider_create_folder(dm, &dm->cfg->folders[i], err) < 0)
			return -1;
	if (keys_ensure(dm->dir, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	if (machine_open_lxd(dm, &m, err) < 0)
		return -1;
	rc = lxd_get_instance(&m, dm, &inst, err);
	if (rc == 0)
		rc = lxd_instance_config(dm, args->box_dir, &config, err);
	/* state.json says running (and which ports) before LXD is asked to start anything. */
	if (rc == 0)
		rc = provider_record_start(dm, "lxd", &port, &hosts, err);
	if (rc == 0)
		rc = lxd_record_address(dm, &m.c, port, err);
	if (rc == 0 && (devices = lxd_instance_devices(&m.c, dm, port, hosts)) == NULL)
		rc = den_err_set(err, ENOMEM, "instance %s", m.name);
	if (rc == 0) {
		free(dm->rec.id);
		dm->rec.id = strdup(m.name);
		rc = machine_save(dm, err);
	}
	den_crash_point("up:before-instance");
	if (rc == 0)
		rc = inst ? lxd_update(&m, dm, inst, config, devices, err)
			  : create(&m, dm, args, config, devices, err);
	if (rc == 0)
		rc = lxd_place_on_member(&m, dm, port, hosts, config, err);
	if (rc == 0)
		rc = lxd_instance_put_credentials(&m.c, m.name, dm, args->box_dir, err);
	den_crash_point("up:before-start");
	if (rc == 0)
		rc = change_state(&m, "start", 0, false, err);
	json_decref(inst);
	json_decref(config);
	json_decref(devices);
	lxd_close(&m.c);
	return rc < 0 ? den_err_wrap(err, "machine %s", dm->cfg->name) : 0;
}

static int state(struct den_machine *dm, enum machine_state *out, struct den_err *err)
{
	struct lxd_machine m;
	cleanup_free char *path = NULL;
	json_t *st = NULL;

	*out = MACHINE_NOT_CREATED;
	if (machine_open_lxd(dm, &m, err) < 0)
		return -1;
	if (asprintf(&path, "%s/state", m.path) < 0) {
		lxd_close(&m.c);
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	}
	int rc = lxd_call(&m.c, "GET", path, NULL, &st, NULL, err);
	lxd_close(&m.c);
	if (rc < 0) {
		if (err->errno_ != ENOENT)
			return den_err_wrap(err, "machine %s", dm->cfg->name);
		den_err_clear(err);
		return 0;
	}
	const char *status = json_string_value(json_object_get(st, "status"));
	if (status != NULL && strcmp(status, "Running") == 0)
		*out = MACHINE_RUNNING;
	else if (status != NULL && strcmp(status, "Frozen") == 0)
		*out = MACHINE_SUSPENDED;
	else if (status != NULL && strcmp(status, "Stopped") == 0)
		*out = MACHINE_STOPPED;
	else
		*out = MACHINE_UNKNOWN;
	json_decref(st);
	return 0;
}

static int halt(struct den_machine *dm, bool force, struct den_err *err)
{
	struct lxd_machine m;
	json_t *inst = NULL;
	int rc;

	if (machine_open_lxd(dm, &m, err) < 0)
		return -1;
	rc = lxd_get_instance(&m, dm, &inst, err);
	const char *status = json_string_value(json_object_get(inst, "status"));
	if (rc == 0 && inst != NULL && status != NULL && strcmp(status, "Stopped") != 0) {
		if (!force)
			rc = change_state(&m, "stop", (int)dm->cfg->graceful_halt_timeout, false,
					  err);
		if (!force && rc < 0) {
			den_warn("machine %s did not stop within %u s (%s); forcing it",
				 dm->cfg->name, dm->cfg->graceful_halt_timeout, err->msg);
			den_err_clear(err);
		}
		if (force || rc < 0)
			rc = change_state(&m, "stop", -1, true, err);
	}
	json_decref(inst);
	lxd_close(&m.c);
	if (rc < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	return provider_record_halt(dm, err);
}

static int destroy(struct den_machine *dm, struct den_err *err)
{
	struct lxd_machine m;
	json_t *inst = NULL;
	char fp[65] = "";
	int rc;

	if (machine_open_lxd(dm, &m, err) < 0)
		return -1;
	rc = lxd_get_instance(&m, dm, &inst, err);
	if (rc == 0 && inst != NULL) {
		const char *base = json_string_value(
			json_object_get(json_object_get(inst, "config"), "volatile.base_image"));
		snprintf(fp, sizeof(fp), "%s", base ? base : "");
		const char *status = json_string_value(json_object_get(inst, "status"));
		if (status != NULL && strcmp(status, "Stopped") != 0)
			rc = change_state(&m, "stop", -1, true, err);
		if (rc == 0)
			rc = lxd_call(&m.c, "DELETE", m.path, NULL, NULL, "cannot delete instance",
				      err);
		/* The box's image goes with its last instance (LXD keeps the bytes otherwise). */
		if (rc == 0 && fp[0] != '\0' && lxd_image_release(&m.c, fp, err) < 0) {
			den_warn("machine %s: %s", dm->cfg->name, err->msg);
			den_err_clear(err);
		}
	}
	json_decref(inst);
	lxd_close(&m.c);
	if (rc < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	return provider_destroy(dm, halt, state, den_rm_rf, err);
}

static int ssh_info(struct den_machine *dm, struct ssh_info *out, struct den_err *err)
{
	return provider_ssh_info(dm, NULL, out, err);
}

/* One state change of the instance (freeze, unfreeze) as a command of its own. */
static int change_state_of(struct den_machine *dm, const char *action, struct den_err *err)
{
	struct lxd_machine m;

	if (machine_open_lxd(dm, &m, err) < 0)
		return -1;
	int rc = change_state(&m, action, 0, false, err);
	lxd_close(&m.c);
	return rc;
}

static int suspend(struct den_machine *dm, struct den_err *err)
{
	return change_state_of(dm, "freeze", err);
}

static int resume(struct den_machine *dm, struct den_err *err)
{
	return change_state_of(dm, "unfreeze", err);
}

/* Where a snapshot request goes: the instance's snapshots, one of them, the instance. */
enum snap_on { SNAP_LIST, SNAP_ONE, SNAP_INSTANCE };

/*
 * One request about snapshot name (body, when not NULL, is taken). The
 * name is held to LXD's rule for snapshot names first, which also keeps
 * it fit for a URL.
 */
static int snapshot_request(struct den_machine *dm, const char *name, const char *method,
			    enum snap_on on, json_t *body, const char *what, struct den_err *err)
{
	struct lxd_machine m;
	cleanup_free char *path = NULL;
	int rc;

	if (!envfile_lxd_name_ok(name)) {
		json_decref(body);
		return den_err_set(err, 0,
				   "snapshot name '%s': use letters, digits, '-', '_' and '.' (at "
				   "most 63)",
				   name);
	}
	if (machine_open_lxd(dm, &m, err) < 0) {
		json_decref(body);
		return -1;
	}
	if (asprintf(&path, "%s%s%s", m.path,
		     on == SNAP_LIST  ? "/snapshots"
		     : on == SNAP_ONE ? "/snapshots/"
				      : "",
		     on == SNAP_ONE ? name : "") < 0)
		rc = den_err_set(err, ENOMEM, "snapshot %s", name);
	else
		rc = lxd_call(&m.c, method, path, body, NULL, what, err);
	json_decref(body);
	lxd_close(&m.c);
	return rc;
}

static int snapshot_save(struct den_machine *dm, const char *name, struct den_err *err)
{
	return snapshot_request(dm, name, "POST", SNAP_LIST,
				json_pack("{s:s, s:b}", "name", name, "stateful", false),
				"cannot save the snapshot", err);
}

/* LXD restores a running container by stopping and starting it again. */
static int snapshot_restore(struct den_machine *dm, const char *name, struct den_err *err)
{
	return snapshot_request(dm, name, "PUT", SNAP_INSTANCE, json_pack("{s:s}", "restore", name),
				"cannot restore the snapshot", err);
}

static int snapshot_delete(struct den_machine *dm, const char *name, struct den_err *err)
{
	return snapshot_request(dm, name, "DELETE", SNAP_ONE, NULL, "cannot delete the snapshot",
				err);
}

static int snapshot_list(struct den_machine *dm, char **names, struct den_err *err)
{
	struct lxd_machine m;
	cleanup_free char *path = NULL;
	json_t *list = NULL, *v;
	size_t i, len = 0;
	char *out = strdup("");

	*names = NULL;
	if (out == NULL || machine_open_lxd(dm, &m, err) < 0) {
		free(out);
		return den_err_is_set(err) ? -1 : den_err_set(err, ENOMEM, "snapshots");
	}
	if (asprintf(&path, "%s/snapshots?recursion=1", m.path) < 0 ||
	    lxd_call(&m.c, "GET", path, NULL, &list, "cannot list snapshots", err) < 0) {
		lxd_close(&m.c);
		free(out);
		return den_err_is_set(err) ? -1 : den_err_set(err, ENOMEM, "snapshots");
	}
	lxd_close(&m.c);
	json_array_foreach(list, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		/* LXD's name, shown on a terminal: only the characters a name may have. */
		if (name == NULL ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
				 "Z0123456789-_.") != strlen(name))
			continue;
		char *more = realloc(out, len + strlen(name) + 2);
		if (more == NULL)
			break;
		out = more;
		len += (size_t)sprintf(out + len, "%s\n", name);
	}
	json_decref(list);
	*names = out;
	return 0;
}

const struct provider_ops provider_lxd = {
	.name = "lxd",
	.probe = probe,
	.up = up,
	.halt = halt,
	.destroy = destroy,
	.state = state,
	.ssh_info = ssh_info,
	.suspend = suspend,
	.resume = resume,
	.snapshot_save = snapshot_save,
	.snapshot_restore = snapshot_restore,
	.snapshot_list = snapshot_list,
	.snapshot_delete = snapshot_delete,
	.snapshot_keeps = "its files; a restored machine boots again",
};
