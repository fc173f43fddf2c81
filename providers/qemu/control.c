/* SPDX-License-Identifier: MIT */
/*
 * A running machine's QEMU asked over QMP (qmp.sock): its state, pause
 * and continue (suspend, resume), and snapshots of the whole machine,
 * disk and memory, kept inside its qcow2 (savevm, loadvm, delvm).
 */
#include "providers/qemu/disk.h"
#include "providers/qemu/qemu-internal.h"
#include "providers/qemu/qmp.h"
#include "providers/vm_ready.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/ssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QMP_TIMEOUT_MS 5000
#define SNAPSHOT_TIMEOUT_MS 600000 /* savevm writes all guest memory */

static int qmp_run(const struct den_machine *dm, const char *command, json_t *args, json_t **ret,
		   int timeout_ms, struct den_err *err)
{
	cleanup_free char *sock = provider_path(dm, "qmp.sock");
	struct qmp *q = NULL;
	int rc;

	if (sock == NULL) {
		json_decref(args);
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	}
	if (qmp_connect(sock, timeout_ms, &q, err) < 0) {
		json_decref(args);
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	}
	rc = qmp_execute(q, command, args, ret, err);
	qmp_close(q);
	return rc < 0 ? den_err_wrap(err, "machine %s", dm->cfg->name) : 0;
}

int qemu_qmp(const struct den_machine *dm, const char *command, json_t *args, json_t **ret,
	     struct den_err *err)
{
	return qmp_run(dm, command, args, ret, QMP_TIMEOUT_MS, err);
}

int qemu_hmp(const struct den_machine *dm, const char *line, char **out, struct den_err *err)
{
	json_t *ret = NULL;

	if (qmp_run(dm, "human-monitor-command", json_pack("{s:s}", "command-line", line), &ret,
		    SNAPSHOT_TIMEOUT_MS, err) < 0)
		return -1;
	*out = strdup(json_is_string(ret) ? json_string_value(ret) : "");
	json_decref(ret);
	return *out ? 0 : den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
}

int qemu_state(struct den_machine *dm, enum machine_state *out, struct den_err *err)
{
	json_t *ret = NULL;
	struct den_err quiet = { 0 };

	(void)err;
	if (qemu_qmp(dm, "query-status", NULL, &ret, &quiet) == 0) {
		const char *s = json_string_value(json_object_get(ret, "status"));
		if (s != NULL && (strcmp(s, "paused") == 0 || strcmp(s, "suspended") == 0))
			*out = MACHINE_SUSPENDED;
		else if (s != NULL &&
			 (strcmp(s, "shutdown") == 0 || strcmp(s, "guest-panicked") == 0 ||
			  strcmp(s, "internal-error") == 0))
			*out = MACHINE_ABORTED;
		else
			*out = MACHINE_RUNNING;
		json_decref(ret);
		return 0;
	}
	/* QMP silent but QEMU there: busy (a snapshot being written), still running. */
	if (qemu_running_pid(dm) > 0)
		*out = MACHINE_RUNNING;
	else
		*out = dm->rec.running ? MACHINE_ABORTED : MACHINE_STOPPED;
	return 0;
}

static int need_running(struct den_machine *dm, const char *what, struct den_err *err)
{
	enum machine_state st;

	qemu_state(dm, &st, err);
	if (st == MACHINE_RUNNING || st == MACHINE_SUSPENDED)
		return 0;
	return den_err_set(err, 0, "machine %s is %s: `den up %s` first, then %s", dm->cfg->name,
			   machine_state_name(st), dm->cfg->name, what);
}

int qemu_suspend(struct den_machine *dm, struct den_err *err)
{
	if (need_running(dm, "suspend it", err) < 0)
		return -1;
	return qemu_qmp(dm, "stop", NULL, NULL, err);
}

int qemu_resume(struct den_machine *dm, struct den_err *err)
{
	struct den_err ignored = { 0 };

	if (need_running(dm, "resume it", err) < 0)
		return -1;
	/* Paused by den (stop), or asleep by its own choice (ACPI S3): both wake. */
	qemu_qmp(dm, "system_wakeup", NULL, NULL, &ignored);
	return qemu_qmp(dm, "cont", NULL, NULL, err);
}

/* The monitor answers errors as text; anything it prints for these commands is one. */
static int hmp_quiet(struct den_machine *dm, const char *cmd, const char *name, struct den_err *err)
{
	cleanup_free char *line = NULL, *out = NULL;

	if (asprintf(&line, "%s %s", cmd, name) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (qemu_hmp(dm, line, &out, err) < 0)
		return -1;
	size_t n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	if (n > 0)
		return den_err_set(err, 0, "machine %s: %s %s: %s", dm->cfg->name, cmd, name, out);
	return 0;
}

int qemu_snapshot_save(struct den_machine *dm, const char *name, struct den_err *err)
{
	enum machine_state st;
	struct den_err ignored = { 0 };

	if (vm_snapshot_name_check(name, err) < 0 || need_running(dm, "save a snapshot", err) < 0)
		return -1;
	qemu_state(dm, &st, &ignored);
	/* A paused guest cannot let go of its 9p folders: it runs for that, then pauses again. */
	bool paused = st == MACHINE_SUSPENDED && vm_has_shares(dm);
	if (paused && qemu_resume(dm, err) < 0)
		return -1;
	int rc = vm_shares_over_ssh(&provider_qemu, dm, true, err);
	if (rc == 0)
		rc = hmp_quiet(dm, "savevm", name, err);
	if (vm_shares_over_ssh(&provider_qemu, dm, false, rc < 0 ? &ignored : err) < 0)
		rc = -1;
	if (paused && qemu_suspend(dm, rc < 0 ? &ignored : err) < 0)
		rc = -1;
	return rc;
}

int qemu_snapshot_restore(struct den_machine *dm, const char *name, struct den_err *err)
{
	enum machine_state st;
	struct den_err ignored = { 0 };

	if (vm_snapshot_name_check(name, err) < 0 ||
	    need_running(dm, "restore a snapshot", err) < 0)
		return -1;
	/* The guest's current mounts are let go first, so its 9p state is not cut mid-use. */
	if (qemu_state(dm, &st, &ignored) == 0 && st == MACHINE_RUNNING)
		vm_shares_over_ssh(&provider_qemu, dm, true, &ignored);
	if (hmp_quiet(dm, "loadvm", name, err) < 0)
		return -1;
	/* loadvm leaves the machine as it was saved: running, 9p folders let go. */
	if (qemu_qmp(dm, "cont", NULL, NULL, err) < 0)
		return -1;
	return vm_shares_over_ssh(&provider_qemu, dm, false, err);
}

/* `qemu-img info --output=json -U` names the snapshots, running or not. */
int qemu_snapshot_list(struct den_machine *dm, char **names, struct den_err *err)
{
	cleanup_free char *disk = provider_path(dm, "disk.qcow2"),
			  *text = malloc(QEMU_IMG_OUTPUT_MAX);

	if (disk == NULL || text == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (!den_exists(disk))
		return den_err_set(err, 0, "machine %s is not created", dm->cfg->name);
	char *argv[] = { "qemu-img", "info", "--output=json", "-U", "-f", "qcow2", disk, NULL };
	if (qemu_img(argv, text, QEMU_IMG_OUTPUT_MAX, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	json_t *j = json_loads(text, 0, NULL), *snap;
	size_t i;
	char *out = strdup("");
	json_array_foreach(json_object_get(j, "snapshots"), i, snap)
	{
		const char *nm = json_string_value(json_object_get(snap, "name"));
		char *t = NULL;
		if (nm != NULL && out != NULL && asprintf(&t, "%s%s\n", out, nm) >= 0) {
			free(out);
			out = t;
		}
	}
	json_decref(j);
	if (out == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	*names = out;
	return 0;
}

int qemu_snapshot_delete(struct den_machine *dm, const char *name, struct den_err *err)
{
	enum machine_state st;
	cleanup_free char *disk = provider_path(dm, "disk.qcow2");

	if (vm_snapshot_name_check(name, err) < 0)
		return -1;
	qemu_state(dm, &st, err);
	if (st == MACHINE_RUNNING || st == MACHINE_SUSPENDED)
		return hmp_quiet(dm, "delvm", name, err);
	/* Stopped: qemu-img edits the qcow2 itself. */
	char out[4096], *argv[] = { "qemu-img", "snapshot", "-d", (char *)name, disk, NULL };
	if (disk == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (qemu_img(argv, out, sizeof(out), err) < 0)
		return den_err_wrap(err, "machine %s: cannot delete snapshot '%s'", dm->cfg->name,
				    name);
	return 0;
}
