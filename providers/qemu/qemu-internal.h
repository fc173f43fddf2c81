/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_QEMU_INTERNAL_H
#define DEN_PROVIDERS_QEMU_INTERNAL_H

/*
 * Shared by the qemu provider's files: provider.c (up, halt, destroy),
 * control.c (state, suspend, snapshots over QMP), net.c (its network:
 * `den net run` on a socket QEMU inherits). What den does over SSH once
 * the machine answers is shared with the kvm provider (providers/vm_ready.h).
 */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/machine.h"
#include "providers/provider.h"

/* The machine's QEMU (from its pid file, checked against its command line), or 0. */
pid_t qemu_running_pid(const struct den_machine *dm);

/* Runs one QMP command on the machine's QEMU; *ret as qmp_execute. */
int qemu_qmp(const struct den_machine *dm, const char *command, json_t *args, json_t **ret,
	     struct den_err *err);

/* An HMP command through QMP (savevm, loadvm, info snapshots); *out its text. */
int qemu_hmp(const struct den_machine *dm, const char *line, char **out, struct den_err *err);

/*
 * Starts the machine's network with SSH on ssh_port and the Envfile's
 * ports on hosts[i]; *qemu_end is the socket QEMU's -netdev stream takes
 * (close it once QEMU has it). Returns once the ports are bound.
 */
int qemu_net_start(struct den_machine *dm, int ssh_port, const int *hosts, int *qemu_end,
		   struct den_err *err);

int qemu_state(struct den_machine *dm, enum machine_state *out, struct den_err *err);
int qemu_suspend(struct den_machine *dm, struct den_err *err);
int qemu_resume(struct den_machine *dm, struct den_err *err);
int qemu_snapshot_save(struct den_machine *dm, const char *name, struct den_err *err);
int qemu_snapshot_restore(struct den_machine *dm, const char *name, struct den_err *err);
int qemu_snapshot_list(struct den_machine *dm, char **names, struct den_err *err);
int qemu_snapshot_delete(struct den_machine *dm, const char *name, struct den_err *err);
int qemu_package(struct den_machine *dm, const char *dir, struct den_err *err);

extern const struct provider_ops provider_qemu;

#endif
