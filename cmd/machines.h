/* SPDX-License-Identifier: MIT */
#ifndef DEN_CMD_MACHINES_H
#define DEN_CMD_MACHINES_H

/* What the machine commands (up, halt, destroy, ssh...) share (cmd/machines.c). */

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"
#include "core/machine.h"

/*
 * The machines named on the command line (all when none; with
 * autostart_only, machines with autostart: false only when named).
 */
int cmd_select(struct den_ctx *ctx, char **names, size_t n_names, bool autostart_only,
	       struct machine ***out, size_t *n, struct den_err *err);

/*
 * The provider a machine is made with: its provider:, else kvm where
 * /dev/kvm can run den's VMM and the store holds a VM (libvirt) build of
 * its box, else container. Decided without the network, so every command
 * agrees (docs/envfile.md, "Which provider").
 */
const char *cmd_machine_provider(const struct machine *cfg);

/* The provider of dm: the one that made it (state.json), else cmd_machine_provider's. */
const char *cmd_machine_provider_of(const struct den_machine *dm);

struct provider_ops;
/* The provider that made the machine (state.json), else the one it would run with; NULL if absent. */
const struct provider_ops *cmd_machine_ops(const struct den_machine *dm);

/* The one machine `den ssh` means: named, else the primary, else the only one. */
int cmd_one_machine(struct den_ctx *ctx, const char *name, const struct machine **out,
		    struct den_err *err);

struct boxlock;
/*
 * Resolves the machine's box (lock may be NULL: Envfile.lock is read and
 * written here) and has the provider start it; does not wait for SSH.
 */
/* The login user: the Envfile's ssh.username, else what the box says, else "den". Malloc'd. */
char *cmd_login_user(const struct machine *cfg, const char *box_dir);

int cmd_start_machine(struct den_ctx *ctx, struct den_machine *dm, const char *provider,
		      struct boxlock *lock, struct den_err *err);

/*
 * Runs job for each of the n machines sel (cmd/parallel.h: side by side
 * unless --no-parallel; one failing stops no other).
 */
int cmd_run_machines(struct den_ctx *ctx, struct machine **sel, size_t n, parallel_job_fn *job,
		     void *arg, bool *ok, struct den_err *err);

/*
 * Runs fn on each machine named (all when none; cmd_select), opened and
 * closed around the call, through cmd_run_machines.
 */
typedef int cmd_machine_fn(struct den_machine *dm, void *arg, struct den_err *err);
int cmd_each_machine(struct den_ctx *ctx, char **names, size_t n_names, cmd_machine_fn *fn,
		     void *arg, struct den_err *err);

/* The provider of a created machine; else an error saying `den up` it first. */
const struct provider_ops *cmd_created_ops(struct den_machine *dm, struct den_err *err);
/* An error: the provider cannot do what (e.g. "suspend machines"). */
int cmd_unsupported(const struct provider_ops *ops, const char *what, struct den_err *err);

struct prov_target;
enum prov_when;
/*
 * Provisions running machines (den up, den provision, den reload
 * --provision); with is --provision-with's "NAME,..." or NULL (cmd/provision.c).
 */
int cmd_provision_targets(struct den_ctx *ctx, struct prov_target *t, size_t n, enum prov_when when,
			  const char *with, struct den_err *err);

#endif
