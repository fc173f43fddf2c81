/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVISIONERS_PROVISIONER_H
#define DEN_PROVISIONERS_PROVISIONER_H

/*
 * A provisioner runs one `provision:` step of the Envfile on a running
 * machine, over SSH (DESIGN.md §9): shell, file, ansible, ansible_local.
 * Each is one ops struct, listed in provisioners[] of
 * provisioners/registry.c. provisioners/engine.c decides which steps run,
 * in which order, and records what ran.
 */

#include <stddef.h>

#include "core/envfile.h"
#include "core/err.h"
#include "core/machine.h"
#include "provisioners/output.h"

struct den_ssh; /* an open SSH session (core/ssh.h) */

struct prov_ctx {
	struct envfile *ef;	     /* the whole Envfile (ansible's inventory needs it) */
	struct den_machine *machine; /* where the step runs */
	struct den_ssh *ssh;	     /* open session to it, reused across steps */
	struct prov_output *out;     /* where its output goes */
	/*
	 * ansible: every machine this one run covers (machines of this `den
	 * up` sharing the step), the machine's own name first.
	 */
	const char *const *limit;
	size_t n_limit;
	/* Reboots the machine and reconnects ssh (the engine's; shell `reboot: true`). */
	int (*reboot)(struct prov_ctx *ctx, struct den_err *err);
	void *engine;  /* the engine's, for reboot */
	int exit_code; /* set by run: the step's exit code, for provisioned.json */
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

/*
 * A shell step's script: inline, or its `path:` read beneath root (the
 * project) following no symlink; a symlink, fifo or folder there is
 * refused, naming it. *out is malloc'd and NUL-terminated.
 */
int prov_shell_read_script(const char *root, const struct prov_step *step, char **out, size_t *len,
			   struct den_err *err);

/*
 * How a step runs a command as root: "sudo -n " for a login that is not
 * root, "" for root (an image's, whose machine may have no sudo at all).
 */
const char *prov_sudo(const struct prov_ctx *ctx);

/* The error for a step that ran and failed: its name, kind, exit code and last lines. */
int prov_step_failed(struct prov_ctx *ctx, const struct prov_step *step, int exit_code,
		     struct den_err *err);

#endif
