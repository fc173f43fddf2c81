/* SPDX-License-Identifier: MIT */
/*
 * The VMM's control socket (--api): JSON lines as core/control.h, with
 * the commands status, pause, resume, stop, powerbutton, snapshot
 * (snapshot_save.c: {"cmd": "snapshot", "dir": ...}) and working-set (a
 * machine from a warm image records the image's working set, once:
 * working_set.c). Pausing kicks
 * every vCPU out of KVM_RUN and parks it until resume; stop ends the VM as
 * a poweroff would; powerbutton presses the ACPI power button (ged.c) and
 * answers at once: the guest powers off in its own time, or not at all.
 */
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/acpi.h"
#include "providers/kvm/snapshot-internal.h"
#include "core/control.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused = true;
	pthread_mutex_unlock(&vm->pause_lock);
	vm_kick(vm);
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < vm->ncpus && vm->paused && atomic_load(&vm->end) == VM_RUNNING)
		pthread_cond_wait(&vm->resumed, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
}

bool vm_is_paused(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	bool paused = vm->paused;
	pthread_mutex_unlock(&vm->pause_lock);
	return paused;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused = false;
	pthread_cond_broadcast(&vm->resumed);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_serve_api(struct vm *vm, int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	json_t *req;
	const char *cmd;

	if (fd < 0)
		return;
	req = control_read_request(fd);
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd != NULL && strcmp(cmd, "status") == 0) {
		json_t *reply =
			json_pack("{s:b, s:s, s:i, s:I, s:s, s:I}", "ok", 1, "state",
				  vm_is_paused(vm) ? "paused" : "running", "cpus", (int)vm->ncpus,
				  "memory", (json_int_t)vm->layout.ram, "memory_backing",
				  vm->snapshot	? "snapshot"
				  : vm->hugetlb ? "hugetlbfs"
						: "anonymous",
				  "startup_us", (json_int_t)atomic_load(&vm->startup_us));
		/* A machine from a warm image: has its hook made it its own yet? */
		if (reply != NULL && vm->clone.made) {
			json_object_set_new(reply, "personalised",
					    json_boolean(atomic_load(&vm->clone.personalised)));
			json_object_set_new(reply, "folders_mounted",
					    json_boolean(atomic_load(&vm->clone.folders_mounted)));
		}
		control_reply(fd, reply);
	} else if (cmd != NULL && strcmp(cmd, "pause") == 0) {
		vm_pause(vm);
		control_reply(fd, json_pack("{s:b, s:s}", "ok", 1, "state", "paused"));
	} else if (cmd != NULL && strcmp(cmd, "resume") == 0) {
		vm_resume(vm);
		control_reply(fd, json_pack("{s:b, s:s}", "ok", 1, "state", "running"));
	} else if (cmd != NULL && strcmp(cmd, "stop") == 0) {
		control_reply(fd, json_pack("{s:b}", "ok", 1));
		vm_end(vm, VM_POWEROFF, "stopped through its control socket");
	} else if (cmd != NULL && strcmp(cmd, "powerbutton") == 0) {
		struct den_err err = { 0 };
		if (ged_raise(vm, ACPI_GED_POWER_BUTTON, &err) < 0)
			control_reply(fd, json_pack("{s:b, s:s}", "ok", 0, "error", err.msg));
		else
			control_reply(fd, json_pack("{s:b}", "ok", 1));
	} else if (cmd != NULL && strcmp(cmd, "snapshot") == 0) {
		control_reply(fd, vm_api_snapshot(vm, req)); /* snapshot_save.c */
	} else if (cmd != NULL && strcmp(cmd, "working-set") == 0) {
		control_reply(fd, vm_api_working_set(vm));
	} else {
		control_reply(fd, json_pack("{s:b, s:s}", "ok", 0, "error",
					    "unknown command; try status, pause, resume, stop, "
					    "powerbutton, snapshot or working-set"));
	}
	json_decref(req);
	close(fd);
}
