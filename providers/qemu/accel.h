/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_QEMU_ACCEL_H
#define DEN_PROVIDERS_QEMU_ACCEL_H

/*
 * The accelerator QEMU runs a machine with: the Envfile's `accel:`, or on
 * auto KVM where /dev/kvm can run a stock guest and TCG (software
 * emulation) elsewhere, with one line saying why.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/envfile.h"
#include "core/err.h"

/*
 * "kvm" or "tcg" for mode; kvm_usable and why are the host's answer
 * (providers/host_kvm.h). On auto falling back to TCG, note gets the line
 * to show the user; asking for kvm where it cannot run is an error.
 */
int qemu_accel(enum accel_mode mode, bool kvm_usable, const char *why, const char **accel,
	       char *note, size_t note_len, struct den_err *err);

#endif
