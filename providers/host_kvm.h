/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_HOST_KVM_H
#define DEN_PROVIDERS_HOST_KVM_H

/*
 * Can this host's /dev/kvm run a stock guest kernel? Asked by den's VMM
 * (which refuses otherwise) and by the qemu provider (which falls back to
 * TCG). KVM's PVM backend, as on den's own CI machines, cannot: a stock
 * kernel hangs as it enters 64-bit mode.
 */

#include <stdbool.h>
#include <stddef.h>

/* True when it can; else why (a sentence without advice) is filled. */
bool kvm_host_usable(char *why, size_t len);

/* The same with the paths given: sysfs's module folder and the KVM device (for tests). */
bool kvm_host_usable_at(const char *sys_module, const char *dev_kvm, char *why, size_t len);

#endif
