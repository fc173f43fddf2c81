/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_DOCTOR_H
#define DEN_PROVIDERS_DOCTOR_H

/*
 * What this host can run (`den doctor`, providers/doctor.c): each
 * provider's needs looked at the way den uses them (/dev/kvm opened and
 * asked, namespaces made in a child, a mount idmapped), never assumed
 * from a version number. Nothing is changed on the host.
 */

#include <stdbool.h>
#include <stddef.h>

enum doctor_state {
	DOCTOR_OK,   /* there and working */
	DOCTOR_NO,   /* missing or broken: said says what to do */
	DOCTOR_NOTE, /* not looked at, or only matters for some Envfiles */
};

struct doctor_check {
	const char *area; /* "kvm", "qemu", "container", "lxd", "tools" */
	const char *what; /* "/dev/kvm", "overlayfs" */
	enum doctor_state state;
	char said[512]; /* ok: what was found; no: what is missing and what to do */
};

#define DOCTOR_MAX 32

struct doctor_report {
	struct doctor_check checks[DOCTOR_MAX];
	size_t n;
	/* The providers whose needs all hold. */
	bool kvm, qemu, container, lxd;
};

/* Looks at everything; slow parts (QEMU's accelerators, LXD) take a few ms each. */
void doctor_run(struct doctor_report *r);

#endif
