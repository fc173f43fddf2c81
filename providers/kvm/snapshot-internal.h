/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_SNAPSHOT_INTERNAL_H
#define DEN_PROVIDERS_KVM_SNAPSHOT_INTERNAL_H

/*
 * VM snapshots (docs/vmm.md, "Snapshots"): saved from a paused VM into a
 * folder (snapshot_save.c) and restored into a VM made with the same
 * options (snapshot_restore.c), by pieces: the vCPUs (snapshot_vcpu.c),
 * the VM's interrupt controllers, PIT, clock and UART (snapshot_vm.c),
 * and the virtio devices (snapshot_devices.c). snapshot_file.h has the
 * format.
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "providers/kvm/snapshot_file.h"

struct vm;
struct vcpu;
struct vmm_spec;

/* What this host's KVM can save and restore beyond the basics. */
struct snap_caps {
	unsigned has;	   /* SNAP_HAS_* */
	size_t xsave_size; /* bytes of the XSAVE area KVM_GET_XSAVE2 (or KVM_GET_XSAVE) fills */
	bool tsc_control;  /* KVM_SET_TSC_KHZ scales a vCPU's TSC */
};
void snap_caps_probe(int kvm, struct snap_caps *c);

/*
 * The MSRs a snapshot keeps: KVM_GET_MSR_INDEX_LIST less those that are
 * not guest state (as Firecracker filters it), the TSC deadline last
 * (restored after the TSC). *out is malloc'd.
 */
int snap_msr_list(int kvm, uint32_t **out, unsigned *n, struct den_err *err);

/* One vCPU's state out (its thread parked) and back (before it first runs). */
int snap_vcpu_save(struct vcpu *v, const struct snap_caps *c, const uint32_t *msrs, unsigned nmsrs,
		   struct snap_writer *w, struct den_err *err);
int snap_vcpu_restore(struct vcpu *v, const struct snap_file *f, const struct snap_caps *c,
		      struct den_err *err);

/* The VM's PICs, IOAPIC, PIT, clock, UART and ACPI events; back after the vCPUs. */
int snap_vm_save(struct vm *vm, struct snap_writer *w, struct den_err *err);
int snap_vm_restore(struct vm *vm, const struct snap_file *f, struct den_err *err);

/*
 * The devices, held still: each one's lock taken once no chain is in
 * flight, and its backing made whole (a disk flushed). Refuses a device
 * that cannot be snapshotted yet, naming it. Release lets them go.
 */
int snap_devices_hold(struct vm *vm, struct den_err *err);
void snap_devices_release(struct vm *vm);
void snap_devices_save(struct vm *vm, struct snap_writer *w);
/* Back into the devices made for the restored VM (before their threads start). */
int snap_devices_restore(struct vm *vm, const struct snap_file *f, struct den_err *err);
/* Every queue notified once: what the guest posted before the save is served. */
void snap_devices_kick(struct vm *vm);

/* Saves the paused VM into dir (made if missing); a snapshot there is replaced. */
int vm_snapshot_save(struct vm *vm, const char *dir, struct den_err *err);

/*
 * The control socket's `snapshot`: {"cmd": "snapshot", "dir": "/abs/path",
 * "then": "resume"|"pause"|"stop"} (then defaults to the state the VM was
 * in). Returns the reply: {"ok": true, "ms": N} or the error.
 */
json_t *vm_api_snapshot(struct vm *vm, json_t *req);

/*
 * --restore: reads dir's state and checks it against the spec (before the
 * VM is made); maps guest RAM from dir's memory file (in place of fresh
 * RAM); sets every vCPU's, the VM's and the devices' state (after the
 * devices are made, before any thread starts); kicks the queues (once the
 * devices' threads run); and frees what was read (at the VM's end).
 */
int vm_snapshot_open(struct vm *vm, const struct vmm_spec *s, struct den_err *err);
int vm_snapshot_map_memory(struct vm *vm, uint64_t size, struct den_err *err);
int vm_snapshot_restore(struct vm *vm, struct den_err *err);
void vm_snapshot_close(struct vm *vm);

#endif
