/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVISIONERS_PROVISIONER_H
#define DEN_PROVISIONERS_PROVISIONER_H

/*
 * A provisioner runs one `provision:` step of the Envfile on a running
 * machine, over SSH (DESIGN.md §9): shell, file, ansible, ansible_local.
 * Each is one ops struct, listed in provisioners[] of
 * provisioners/registry.c.
 */

#include "core/envfile.h"
#include "core/err.h"
#include "core/machine.h"

struct den_ssh; /* an open SSH session (core/ssh.h) */

struct prov_ctx {
	struct envfile *ef;	     /* the whole Envfile (ansible's inventory needs it) */
	struct den_machine *machine; /* where the step runs */
	struct den_ssh *ssh;	     /* open session to it, reused across steps */
};

struct provisioner_ops {
	/* Envfile name: "shell", "file", "ansible", "ansible_local". */
	const char *name;
	/* The Envfile kind it runs. */
	enum prov_kind kind;
	/* Host-side checks before any machine starts (e.g. ansible-playbook on PATH). */
	int (*check)(const struct prov_step *step, struct den_err *err);
	/* Runs the step; output streams live; failure names the step, exit code and last lines. */
	int (*run)(struct prov_ctx *ctx, const struct prov_step *step, struct den_err *err);
};

/* Every provisioner built in, NULL-terminated (provisioners/registry.c). */
extern const struct provisioner_ops *const provisioners[];

/* The provisioner for a kind, or NULL when this build has none. */
const struct provisioner_ops *provisioner_find(enum prov_kind kind);

#endif
