/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_LAUNCH_H
#define DEN_PROVIDERS_KVM_LAUNCH_H

/*
 * One start of den's VMM for the kvm provider, as `den vmm run`'s command
 * line: a boot of the box's kernel, a snapshot restored, a warm image's
 * template booted until it is saved, or a machine cloned from a warm
 * image (docs/vmm.md, "The kvm provider" and "Warm images").
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"
#include "providers/kvm/vmm.h"
#include "providers/vm_shares.h"

struct machine;
struct vm_boot;

/* The VMM's descriptor numbers for what it inherits: 3, 4, ... (den_spawn's fds). */
#define KVM_FD0 3

struct kvm_launch {
	const struct vm_boot *b; /* b->image always; the kernel's files unless restore */
	const char *dir;	 /* disk.cow, seed.iso, console.log, control.sock live here */
	const char *restore;	 /* a snapshot's or warm image's folder, or NULL */
	bool clone;		 /* restore is a warm image: the VM becomes a new machine */
	const char *seed;	 /* the seed disk; NULL: dir/seed.iso */
	const char *channel_in;	 /* what den's channel sends the guest, or NULL */
	const char *warm_save;	 /* a template: the folder it is saved into, or NULL */
	int port;		 /* SSH, on 127.0.0.1; 0: none (a template) */
	const int *hosts;	 /* the forwarded ports' host sides (cfg->ports) */
	struct vm_share shares[VMM_MAX_SHARES];
	size_t n_shares;
	struct vmm_private
		privates[VMM_MAX_PRIVATE]; /* fd: den's end, inherited after the shares */
	size_t n_privates;
};

#define KVM_MAX_ARGS 96

/* `den vmm run ...`, malloc'd strings in v; oom when one could not be made. */
struct kvm_args {
	char *v[KVM_MAX_ARGS + 1];
	size_t n;
	bool oom;
};

/* The command line of l for machine cfg (its cpus, memory, disk_size, ports). */
void kvm_launch_argv(const struct machine *cfg, const struct kvm_launch *l, struct kvm_args *a);
void kvm_args_free(struct kvm_args *a);

/*
 * Starts `den vmm run` for l, its output into log (made with log_mode),
 * l's 9p folders inherited as KVM_FD0, KVM_FD0 + 1..., then its private
 * networks' switch ports: detached, in a
 * session of its own that outlives den (a machine's VMM), or else ending
 * with den (a template's).
 */
int kvm_launch_spawn(const struct machine *cfg, const struct kvm_launch *l, const char *log,
		     mode_t log_mode, bool detached, pid_t *pid, struct den_err *err);

#endif
