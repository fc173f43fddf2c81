/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_VM_INTERNAL_H
#define DEN_PROVIDERS_KVM_VM_INTERNAL_H

/* The VMM's own pieces, private to providers/kvm/. */

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "providers/kvm/boot.h"
#include "providers/kvm/channel.h"
#include "providers/kvm/serial.h"
#include "providers/kvm/virtio.h"

/* VMM_MAX_DISKS, the network card, VMM_MAX_SHARES, virtio-rng, VMM_MAX_PRIVATE */
#define VM_MAX_DEVICES 12

struct vm;
struct vmm_spec;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	atomic_bool started; /* thread is valid (set after pthread_create) */
};

enum vm_end { VM_RUNNING, VM_RESET, VM_POWEROFF, VM_FAILED };

struct vm {
	int kvm, fd;
	uint8_t *mem;
	struct guest_layout layout;
	struct kvm_cpuid2 *cpuid;
	size_t run_size;
	unsigned ncpus;
	struct vcpu *vcpus;
	pthread_mutex_t lock; /* the devices below */
	struct serial serial;
	int out_fd;
	atomic_int end;		  /* enum vm_end */
	char why[512];		  /* VM_FAILED: what went wrong */
	atomic_llong last_output; /* time of the console's last byte */
	uint8_t tx[16]; /* console bytes the UART sent, written out after vm->lock is let go */
	size_t tx_len;
	struct guest_mem gm; /* guest RAM, for the devices */
	/* --api pause: vCPUs wait on `resumed` while paused is set. */
	pthread_mutex_t pause_lock;
	pthread_cond_t resumed;
	bool paused;
	unsigned parked; /* vCPUs waiting now */
	struct virtio_dev devs[VM_MAX_DEVICES];
	unsigned ndevs;
	int stop_fd;	     /* eventfd readable once the VM ends: the device threads' cue */
	bool real_mode;	     /* the boot vCPU runs a test program (vmm_spec.program) */
	bool hugetlb;	     /* guest RAM is hugetlbfs pages */
	bool escape_pending; /* console input: a Ctrl-A came, its key not yet */
	atomic_ullong io_exits, mmio_exits, notify_exits;
	struct timespec started; /* vmm_spec.started */
	atomic_llong startup_us; /* from started to vCPU 0's first KVM_RUN; -1 until then */
	/* --restore: the snapshot's folder and its state, read (snapshot_restore.c). */
	const char *snapshot_dir;
	struct snap_file *snapshot;
	atomic_uint ged_events; /* ACPI_GED_* events the guest has not read yet (ged.c) */
	/* den's channel to its guest hook (channel.h), under vm->lock; chan_fd wakes vm_watch. */
	struct channel chan;
	int chan_fd;
	long long channel_hold_until; /* den_now_ms() when held input goes anyway; 0: never */
	/* Warm images (clone.c): the folder a template is saved into, or NULL. */
	const char *warm_save;
	struct {
		bool template;		     /* a warm image's VM: boot_id_at is known */
		uint64_t boot_id_at;	     /* guest-physical address of the kernel's boot_id */
		bool made;		     /* --clone: a new machine restored from a warm image */
		atomic_bool personalised;    /* made, and its hook said "den-warm: done" */
		atomic_bool folders_mounted; /* made, and its hook mounted the 9p folders */
	} clone;
};

/*
 * How long a restored VM's channel input waits for the guest to read its
 * GED events (the VM generation ID's change) before it goes anyway.
 */
#define CHANNEL_HOLD_MS 100

/*
 * Warm images (clone.c): clone_prepare, once the VM is loaded or restored
 * and before its vCPUs run, writes a new VM generation ID (and raises its
 * GED event on a restore), makes a --clone restore a new machine (its
 * boot_id) and loads den's channel input; clone_is_ready_line tells the
 * hook's "ready" line, clone_save_template saves the template on it (the
 * VM ends).
 */
int clone_prepare(struct vm *vm, const struct vmm_spec *s, struct den_err *err);
bool clone_is_ready_line(const char *line);
/* How the hook of a machine restored from a warm image says it is made (then sshd has den's keys). */
#define CLONE_DONE_LINE "den-warm: done"
/* ... and that it mounted the 9p folders den's record gave it the script of. */
#define CLONE_MOUNTED_LINE "den-warm: folders mounted"
int clone_save_template(struct vm *vm, const char *line, struct den_err *err);
/*
 * A warm image's working set (working_set.c): a new machine maps the pages
 * its image's first machine touched before den logged in; the control
 * socket's "working-set" records them, once per image.
 */
void working_set_prefault(struct vm *vm);
json_t *vm_api_working_set(struct vm *vm);
int vmgenid_renew(struct vm *vm, struct den_err *err);
/*
 * Lets den's held channel input go (under vm->lock), once: the host's time
 * put first and "end" last (den's record, warm_record.c, is between).
 */
void vm_channel_release(struct vm *vm);

/*
 * Starts one of the VMM's threads (a vCPU's, a device's) on a small stack:
 * the default 8 MiB mapping would take a whole transparent huge page of
 * RSS per thread on hosts with THP always on (vm.c).
 */
int vm_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* Creates vCPU id; the boot vCPU (0) starts at entry in long mode (vcpu.c). */
int vcpu_create(struct vm *vm, unsigned id, uint64_t entry, struct den_err *err);

/*
 * One CPUID entry of what KVM supports as vCPU id sees it: its APIC id,
 * the hypervisor bit, and no VMX or SVM (den offers no nested guests).
 */
struct kvm_cpuid_entry2;
void vcpu_cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned id);

/* A vCPU thread: KVM_RUN and its exits until the VM ends (exits.c). */
void *vcpu_loop(void *arg);

/* Ends the VM (the first reason wins) and kicks every vCPU out of KVM_RUN (exits.c). */
void vm_end(struct vm *vm, enum vm_end how, const char *why);

/* Writes console output (never under vm->lock: a stalled reader must not stall the VM) (vm.c). */
void vm_console_write(struct vm *vm, const uint8_t *buf, size_t len);

/* Kicks every vCPU out of KVM_RUN (exits.c). */
void vm_kick(struct vm *vm);

/* Pauses the vCPUs (returns once all are parked) or lets them go on (control.c). */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
bool vm_is_paused(struct vm *vm);

/* The UARTs' host side (console.c): set up; watch the VM until it ends. */
void vm_console_init(struct vm *vm);
void vm_channel_init(struct vm *vm);
void vm_watch(struct vm *vm, const struct vmm_spec *s, int api);
/* Ctrl-A keys in console input from a terminal; the rest, for the guest, in out (console.c). */
size_t vm_console_escape(struct vm *vm, const uint8_t *in, size_t len, uint8_t *out);

/* The virtio devices (devices.c): made and wired to KVM; their threads started. */
int vm_add_devices(struct vm *vm, const struct vmm_spec *s, struct den_err *err);
int vm_start_devices(struct vm *vm, struct den_err *err);

/* Answers one client of the --api socket (control.c). */
void vm_serve_api(struct vm *vm, int listen_fd);

/*
 * The Generic Event Device (ged.c, acpi.h): ged_raise sets events
 * (ACPI_GED_POWER_BUTTON) and pulses the GED's IRQ; ged_read_events is the
 * guest's read of the event register at ACPI_GED_PORT, which returns the
 * pending events and clears them.
 */
int ged_raise(struct vm *vm, unsigned events, struct den_err *err);
uint8_t ged_read_events(struct vm *vm);

#endif
