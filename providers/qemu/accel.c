/* SPDX-License-Identifier: MIT */
#include "providers/qemu/accel.h"

#include <stdio.h>

int qemu_accel(enum accel_mode mode, bool kvm_usable, const char *why, const char **accel,
	       char *note, size_t note_len, struct den_err *err)
{
	if (note_len > 0)
		note[0] = '\0';
	switch (mode) {
	case ACCEL_TCG:
		*accel = "tcg";
		return 0;
	case ACCEL_KVM:
		if (!kvm_usable)
			return den_err_set(err, 0, "accel: kvm, but %s; use accel: tcg (or auto)",
					   why);
		*accel = "kvm";
		return 0;
	case ACCEL_AUTO:
	default:
		*accel = kvm_usable ? "kvm" : "tcg";
		if (!kvm_usable)
			snprintf(note, note_len,
				 "qemu runs with TCG (software emulation, much slower): %s", why);
		return 0;
	}
}
