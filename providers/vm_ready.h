/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_VM_READY_H
#define DEN_PROVIDERS_VM_READY_H

/*
 * What the VM providers (qemu, kvm) share about a machine's guest
 * (providers/vm_ready.c): a Vagrant box's own key until den's is in, the
 * 9p synced folders' tags and mounts, and the work done over SSH once the
 * machine answers.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/machine.h"
#include "providers/provider.h"

struct den_ssh;

/* The 9p tag of the machine's i-th native synced folder, counting those only ("den3"). */
void vm_share_tag(size_t i, char *tag, size_t len);

/*
 * The shell script, run as root, that mounts (or, with unmount, lets go
 * of) the machine's 9p folders: *out malloc'd, NULL when it has none.
 */
int vm_mount_script(const struct den_machine *dm, bool unmount, char **out, struct den_err *err);

/* Over SSH: mount (or, with unmount, let go of) the machine's 9p folders. */
int vm_mount_shares(struct den_machine *dm, struct den_ssh *ssh, bool unmount, struct den_err *err);

/* Has it native (9p) synced folders? */
bool vm_has_shares(const struct den_machine *dm);

/*
 * vm_mount_shares over a session of its own: 9p folders mounted in a guest
 * block saving its state (neither QEMU nor den's VMM carries a 9p server's
 * open files over), so they are let go around a snapshot.
 */
int vm_shares_over_ssh(const struct provider_ops *ops, struct den_machine *dm, bool unmount,
		       struct den_err *err);

/* Snapshot names become file names and monitor arguments: letters, digits, . _ - only. */
int vm_snapshot_name_check(const char *name, struct den_err *err);

/*
 * Before a machine's first boot: the box's own login key (ssh.private_key_path,
 * Vagrant's insecure key) recorded as the one to log in with until den's
 * is in, so whatever happens next the first boot is known to need it.
 */
int vm_box_key_record(struct den_machine *dm, struct den_err *err);

/* ssh_info for a VM: the box's key and its own host key on a Vagrant box's first boot. */
int vm_ssh_info(struct den_machine *dm, struct ssh_info *out, struct den_err *err);

/*
 * `den box package` of a machine whose disk is still: 0 when ops says it is
 * neither running nor suspended, else an error saying to halt it
 * (providers/vm_package.c).
 */
int vm_package_halted(const struct provider_ops *ops, struct den_machine *dm, struct den_err *err);

/*
 * `den box package`: metadata.json and the Vagrantfile of a Vagrant
 * libvirt box into dir, beside the box.img of size bytes the provider made
 * (providers/vm_package.c).
 */
int vm_package_metadata(struct den_machine *dm, const char *dir, uint64_t size,
			struct den_err *err);

/*
 * The provider's ready: on a Vagrant box's first boot, den's host key and
 * login key in place of the box's; then the 9p folders mounted, unless
 * folders_mounted (a warm image's machine whose hook mounted them).
 */
int vm_ready(const struct provider_ops *ops, struct den_machine *dm, struct den_ssh *ssh,
	     bool folders_mounted, struct den_err *err);

#endif
