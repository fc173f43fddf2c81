/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_KVM_PROVIDER_H
#define DEN_PROVIDERS_KVM_KVM_PROVIDER_H

/*
 * Shared by the kvm provider's files: provider.c (up, halt, destroy,
 * state), package.c (`den box package`), snapshot.c (`den snapshot`).
 */

#include "core/machine.h"
#include "providers/provider.h"

/* In the machine's folder: the path of the raw box image under its disk.cow. */
#define KVM_DISK_BASE "disk.base"

extern const struct provider_ops provider_kvm;

struct vm_boot;
/*
 * Starts the machine's VMM: a boot of b's kernel over its disk, or with
 * restore the snapshot in that folder going on (b->image only), or with
 * warm a new machine restored from that warm image (its disk the
 * template's, copied; warm.h). Its private networks' cards are joined to
 * their switches, and its seed holds hosts (/etc/hosts lines; NULL:
 * none). Records it (state.json) as every provider's up does.
 */
int kvm_start(struct den_machine *dm, const struct vm_boot *b, const char *restore,
	      const char *warm, const char *hosts, struct den_err *err);

/* Its VMM ended (stopped, then killed), its socket gone: nothing of it runs. */
int kvm_stop(struct den_machine *dm, struct den_err *err);

int kvm_package(struct den_machine *dm, const char *dir, struct den_err *err);

/* The snapshot ops (snapshot.c). */
int kvm_snapshot_save(struct den_machine *dm, const char *name, struct den_err *err);
int kvm_snapshot_restore(struct den_machine *dm, const char *name, struct den_err *err);
int kvm_snapshot_list(struct den_machine *dm, char **names, struct den_err *err);
int kvm_snapshot_delete(struct den_machine *dm, const char *name, struct den_err *err);

#endif
