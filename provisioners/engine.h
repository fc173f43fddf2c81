/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVISIONERS_ENGINE_H
#define DEN_PROVISIONERS_ENGINE_H

/*
 * Provisioning running machines: which steps run (run: once/always/never,
 * --provision-with), in which order (list order, moved by before/after),
 * over one SSH session per machine, recorded in provisioned.json. A
 * failed step stops that machine's provisioning; the others go on.
 * An ansible step that several machines share (same playbook and
 * settings, no limit of its own) runs once for all of them, when the
 * first of them reaches it, after the others have run their steps before
 * it: one ansible-playbook run, as Vagrant users expect.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/envfile.h"
#include "core/err.h"
#include "core/machine.h"

struct den_ssh;

enum prov_when {
	PROV_WHEN_UP,	 /* den up: `always` steps, and `once` steps that have not succeeded */
	PROV_WHEN_ASKED, /* den provision, den reload --provision: every step but `never` */
};

struct prov_request {
	enum prov_when when;
	char **with; /* --provision-with: exactly these steps (any run:), or NULL */
	size_t n_with;
	bool color; /* colour on stdout */
	/*
	 * Logs in to a running machine with den's key, its host key checked:
	 * one try (wait false), or until its boot_timeout (wait true).
	 */
	int (*connect)(struct den_machine *dm, bool wait, struct den_ssh **out, void *arg,
		       struct den_err *err);
	/* Restarts a machine (halt, then up) for shell `reboot: true`; NULL: not possible. */
	int (*restart)(struct den_machine *dm, void *arg, struct den_err *err);
	void *arg; /* given to connect and restart */
};

struct prov_target {
	struct den_machine *dm; /* running */
	struct den_ssh *ssh;	/* an open session, or NULL; the engine closes it */
};

/*
 * Provisions the machines. Returns -1 when any step failed (err lists
 * each machine's failure) or a --provision-with name is unknown.
 */
int provision_machines(struct envfile *ef, struct prov_target *t, size_t n,
		       const struct prov_request *req, struct den_err *err);

/*
 * The steps of cfg in the order they run (before/after applied), into out
 * (room for cfg->n_steps). A cycle or an unknown name is an error.
 */
int prov_order(const struct machine *cfg, const struct prov_step **out, struct den_err *err);

#endif
