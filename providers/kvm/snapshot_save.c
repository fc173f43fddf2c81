/* SPDX-License-Identifier: MIT */
/*
 * Saving a paused VM into a folder: the state file (vCPUs, VM, devices)
 * and the memory file. Each is written under a temporary name and
 * renamed, memory first and state last, after the old state file is gone:
 * a den killed at any moment leaves either a whole snapshot or a folder
 * with no state file, which a restore refuses, never a state file beside
 * another save's memory.
 */
#include "providers/kvm/snapshot-internal.h"
#include "providers/kvm/vm-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* vCPUs, the VM and the devices (held) into w. */
static int collect(struct vm *vm, struct snap_writer *w, struct den_err *err)
{
	struct snap_caps caps;
	cleanup_free uint32_t *msrs = NULL;
	unsigned nmsrs = 0;

	snap_caps_probe(vm->kvm, &caps);
	struct snap_header h = {
		.cpus = vm->ncpus, .ndevs = vm->ndevs, .memory = vm->layout.ram, .has = caps.has
	};
	snap_writer_start(w, &h);
	if (snap_msr_list(vm->kvm, &msrs, &nmsrs, err) < 0)
		return -1;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (snap_vcpu_save(&vm->vcpus[i], &caps, msrs, nmsrs, w, err) < 0)
			return -1;
	if (snap_vm_save(vm, w, err) < 0)
		return -1;
	snap_devices_save(vm, w);
	return 0;
}

/* Both files, under temporary names, then renamed into place. */
static int write_files(struct vm *vm, const char *dir, struct snap_writer *w, struct den_err *err)
{
	cleanup_free char *state = NULL, *memory = NULL, *state_tmp = NULL, *memory_tmp = NULL;

	if (asprintf(&state, "%s/%s", dir, SNAP_STATE_FILE) < 0 ||
	    asprintf(&memory, "%s/%s", dir, SNAP_MEMORY_FILE) < 0 ||
	    asprintf(&state_tmp, "%s/.%s.tmp", dir, SNAP_STATE_FILE) < 0 ||
	    asprintf(&memory_tmp, "%s/.%s.tmp", dir, SNAP_MEMORY_FILE) < 0)
		return den_err_set(err, ENOMEM, "cannot save into %s", dir);
	/* The old state goes first: from here until the end, dir holds no snapshot. */
	if (unlink(state) < 0 && errno != ENOENT)
		return den_err_set(err, errno, "cannot replace the snapshot in %s", dir);
	if (den_sync_dir(dir, err) < 0)
		return -1;
	if (snap_memory_write(memory_tmp, vm->mem, vm->layout.ram, err) < 0 ||
	    snap_writer_write(w, state_tmp, err) < 0)
		goto fail;
	if (rename(memory_tmp, memory) < 0 || rename(state_tmp, state) < 0) {
		den_err_set(err, errno, "cannot save into %s", dir);
		goto fail;
	}
	return den_sync_dir(dir, err);
fail:
	unlink(memory_tmp);
	unlink(state_tmp);
	return -1;
}

int vm_snapshot_save(struct vm *vm, const char *dir, struct den_err *err)
{
	struct snap_writer w = { 0 };
	int rc;

	if (atomic_load(&vm->end) != VM_RUNNING)
		return den_err_set(err, 0, "the VM has ended: no snapshot taken");
	if (!vm_is_paused(vm))
		return den_err_set(err, 0, "the VM is not paused: no snapshot taken");
	if (den_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (snap_devices_hold(vm, err) < 0)
		return -1;
	rc = collect(vm, &w, err);
	if (rc == 0)
		rc = write_files(vm, dir, &w, err);
	snap_devices_release(vm);
	snap_writer_free(&w);
	return rc < 0 ? den_err_wrap(err, "snapshot %s", dir) : 0;
}

json_t *vm_api_snapshot(struct vm *vm, json_t *req)
{
	const char *dir = json_string_value(json_object_get(req, "dir"));
	const char *then = json_string_value(json_object_get(req, "then"));
	struct den_err err = { 0 };

	/* The VMM's working folder is not the client's: a relative path would land elsewhere. */
	if (dir == NULL || dir[0] != '/')
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "snapshot takes \"dir\": an absolute path to a folder");
	if (then != NULL && strcmp(then, "resume") != 0 && strcmp(then, "pause") != 0 &&
	    strcmp(then, "stop") != 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "snapshot's \"then\" is resume, pause or stop");
	bool was_paused = vm_is_paused(vm);
	long long start = den_now_ms();
	vm_pause(vm);
	int rc = vm_snapshot_save(vm, dir, &err);
	long long ms = den_now_ms() - start;
	/* A failed save leaves the VM as it was, whatever then said. */
	bool resume = rc < 0 || then == NULL ? !was_paused : strcmp(then, "resume") == 0;
	if (rc == 0 && then != NULL && strcmp(then, "stop") == 0)
		vm_end(vm, VM_POWEROFF, "saved, then stopped");
	else if (resume)
		vm_resume(vm);
	if (rc < 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", err.msg);
	return json_pack("{s:b, s:I}", "ok", 1, "ms", (json_int_t)ms);
}
