/* SPDX-License-Identifier: MIT */
/*
 * `den snapshot` for kvm machines: MACHINE/snapshots/NAME holds what den's
 * VMM saved (its state and memory: docs/vmm.md, "Snapshots") and a copy
 * of the disk's overlay taken while the VM stood paused. Restoring starts
 * a new VMM from that folder (`den vmm run --restore`) over the disk
 * copied back: the machine runs on from the moment it was saved. 9p
 * folders are let go around a save (the VMM carries no 9p server's open
 * files over) and mounted again after either.
 */
#include "providers/kvm/kvm-provider.h"
#include "providers/kvm/cow_disk.h"
#include "providers/kvm/vm_boot.h"
#include "providers/vm_ready.h"
#include "core/cleanup.h"
#include "core/control.h"
#include "core/fsutil.h"
#include "core/ssh.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A save writes guest memory: a big guest on a slow disk takes a while. */
#define SAVE_TIMEOUT_MS (10 * 60 * 1000)

static char *snap_dir(const struct den_machine *dm, const char *name)
{
	char *p = NULL;
	return asprintf(&p, "%s/snapshots%s%s", dm->dir, name ? "/" : "", name ? name : "") < 0
		       ? NULL
		       : p;
}

static int need_state(struct den_machine *dm, bool running, const char *what, struct den_err *err)
{
	enum machine_state st = MACHINE_NOT_CREATED;

	if (!dm->exists || provider_kvm.state(dm, &st, err) < 0 ||
	    (running && st != MACHINE_RUNNING && st != MACHINE_SUSPENDED))
		return den_err_set(
			err, 0, "machine %s is %s: `den up %s` first, then %s", dm->cfg->name,
			dm->exists ? machine_state_name(st) : "not created", dm->cfg->name, what);
	return 0;
}

/* The VMM's state and memory into dir (its VM left paused), then the disk beside them. */
static int save_into(struct den_machine *dm, const char *dir, struct den_err *err)
{
	cleanup_free char *sock = provider_path(dm, "control.sock"),
			  *disk = provider_path(dm, "disk.cow"), *copy = NULL;
	json_t *reply = NULL;

	if (sock == NULL || disk == NULL || asprintf(&copy, "%s/disk.cow", dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	json_t *req = json_pack("{s:s, s:s, s:s}", "cmd", "snapshot", "dir", dir, "then", "pause");
	int rc = req == NULL ? den_err_set(err, ENOMEM, "machine %s", dm->cfg->name)
			     : control_call(sock, req, SAVE_TIMEOUT_MS, &reply, err);
	json_decref(req);
	if (rc < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *why = json_string_value(json_object_get(reply, "error"));
		den_err_set(err, 0, "machine %s: den's VMM did not save it: %s", dm->cfg->name,
			    why ? why : "no reason given");
		json_decref(reply);
		return -1;
	}
	json_decref(reply);
	/* The VM stands paused with its disks flushed: the overlay holds still. */
	return cow_disk_copy(disk, copy, true, err);
}

/* The new snapshot in place of an older one of that name, whole or not at all. */
static int put_in_place(const char *part, const char *dir, struct den_err *err)
{
	cleanup_free char *old = NULL;

	if (asprintf(&old, "%s.old", dir) < 0)
		return den_err_set(err, ENOMEM, "snapshot");
	if (den_rm_rf(old, err) < 0)
		return -1;
	if (rename(dir, old) < 0 && errno != ENOENT)
		return den_err_set(err, errno, "cannot replace %s", dir);
	if (rename(part, dir) < 0)
		return den_err_set(err, errno, "cannot make %s", dir);
	return den_rm_rf(old, err);
}

int kvm_snapshot_save(struct den_machine *dm, const char *name, struct den_err *err)
{
	cleanup_free char *top = snap_dir(dm, NULL), *dir = snap_dir(dm, name), *part = NULL;
	enum machine_state st = MACHINE_RUNNING;
	struct den_err ignored = { 0 };

	if (vm_snapshot_name_check(name, err) < 0 ||
	    need_state(dm, true, "save a snapshot", err) < 0)
		return -1;
	if (top == NULL || dir == NULL || asprintf(&part, "%s/.%s.part", top, name) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	provider_kvm.state(dm, &st, &ignored);
	bool was_paused = st == MACHINE_SUSPENDED, shares = vm_has_shares(dm);
	/* A paused guest cannot let go of its 9p folders: it runs for that, then pauses again. */
	if (was_paused && shares && provider_kvm.resume(dm, err) < 0)
		return -1;
	if (den_mkdir_p(top, 0700, err) < 0 || den_rm_rf(part, err) < 0 ||
	    den_mkdir_p(part, 0700, err) < 0)
		return -1;
	int rc = vm_shares_over_ssh(&provider_kvm, dm, true, err);
	if (rc == 0)
		rc = save_into(dm, part, err);
	if (rc == 0)
		rc = put_in_place(part, dir, err);
	if (rc < 0)
		den_rm_rf(part, &ignored);
	/* save_into left the VM paused: it runs on, unless it was paused with nothing to mount. */
	struct den_err *then = rc < 0 ? &ignored : err;
	if ((!was_paused || shares) && provider_kvm.resume(dm, then) < 0)
		rc = -1;
	if (vm_shares_over_ssh(&provider_kvm, dm, false, rc < 0 ? &ignored : err) < 0)
		rc = -1;
	if (was_paused && shares && provider_kvm.suspend(dm, rc < 0 ? &ignored : err) < 0)
		rc = -1;
	return rc;
}

int kvm_snapshot_restore(struct den_machine *dm, const char *name, struct den_err *err)
{
	cleanup_free char *dir = snap_dir(dm, name), *copy = NULL,
			  *disk = provider_path(dm, "disk.cow"),
			  *base_file = provider_path(dm, KVM_DISK_BASE), *base = NULL;
	struct den_ssh *ssh = NULL;
	size_t len;

	if (vm_snapshot_name_check(name, err) < 0 ||
	    need_state(dm, false, "restore a snapshot", err) < 0)
		return -1;
	if (dir == NULL || disk == NULL || base_file == NULL ||
	    asprintf(&copy, "%s/disk.cow", dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (!den_exists(copy))
		return den_err_set(err, 0,
				   "machine %s has no snapshot %s (`den snapshot list %s` shows "
				   "those it has)",
				   dm->cfg->name, name, dm->cfg->name);
	if (den_read_own_file(base_file, 8192, &base, &len, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	/* The machine as it is now goes; the saved one takes its place. */
	if (kvm_stop(dm, err) < 0 || cow_disk_copy(copy, disk, true, err) < 0)
		return -1;
	struct vm_boot b = { .image = base };
	if (kvm_start(dm, &b, dir, NULL, NULL, err) < 0)
		return -1;
	/* Its network starts afresh: SSH answers anew, then the 9p folders are mounted again. */
	if (provider_ssh_wait(&provider_kvm, dm, &ssh, err) < 0)
		return -1;
	int rc = vm_mount_shares(dm, ssh, false, err);
	den_ssh_close(ssh);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int kvm_snapshot_list(struct den_machine *dm, char **names, struct den_err *err)
{
	cleanup_free char *top = snap_dir(dm, NULL);
	char *found[256];
	size_t n = 0, len = 0;
	struct dirent *e;

	if (top == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	DIR *d = opendir(top);
	while (d != NULL && n < 256 && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    vm_snapshot_name_check(e->d_name, &(struct den_err){ 0 }) == 0 &&
		    (found[n] = strdup(e->d_name)) != NULL)
			len += strlen(found[n++]) + 1;
	if (d != NULL)
		closedir(d);
	qsort(found, n, sizeof(found[0]), by_name);
	*names = calloc(1, len + 1);
	for (size_t i = 0; i < n; i++) {
		if (*names != NULL)
			strcat(strcat(*names, found[i]), "\n");
		free(found[i]);
	}
	return *names == NULL ? den_err_set(err, ENOMEM, "machine %s", dm->cfg->name) : 0;
}

int kvm_snapshot_delete(struct den_machine *dm, const char *name, struct den_err *err)
{
	cleanup_free char *dir = snap_dir(dm, name);

	if (vm_snapshot_name_check(name, err) < 0)
		return -1;
	if (dir == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (!den_exists(dir))
		return den_err_set(err, 0, "machine %s has no snapshot %s", dm->cfg->name, name);
	/* A VM restored from it maps its memory file: unlinking leaves that mapping whole. */
	return den_rm_rf(dir, err);
}
