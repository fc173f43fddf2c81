/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_QEMU_INTERNAL_H
#define DEN_PROVIDERS_QEMU_INTERNAL_H

/*
 * Shared by the qemu provider's files: provider.c (up, halt, destroy),
 * control.c (state, suspend, snapshots over QMP), guest.c (what den does
 * over SSH once the machine answers: 9p mounts, den's key), net.c (its
 * network: `den net run` on a socket QEMU inherits).
 */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/machine.h"
#include "providers/provider.h"

/* dir/name, malloc'd (NULL when out of memory). */
char *qemu_path(const struct den_machine *dm, const char *name);

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

/* The 9p tag of the machine's i-th synced folder. */
void qemu_share_tag(size_t i, char *tag, size_t len);

/* Over SSH: mount (or, with unmount, let go of) the machine's 9p folders. */
int qemu_guest_mounts(struct den_machine *dm, struct den_ssh *ssh, bool unmount,
		      struct den_err *err);

int qemu_state(struct den_machine *dm, enum machine_state *out, struct den_err *err);
int qemu_suspend(struct den_machine *dm, struct den_err *err);
int qemu_resume(struct den_machine *dm, struct den_err *err);
int qemu_snapshot_save(struct den_machine *dm, const char *name, struct den_err *err);
int qemu_snapshot_restore(struct den_machine *dm, const char *name, struct den_err *err);
int qemu_snapshot_list(struct den_machine *dm, char **names, struct den_err *err);
int qemu_snapshot_delete(struct den_machine *dm, const char *name, struct den_err *err);
int qemu_package(struct den_machine *dm, const char *dir, struct den_err *err);
int qemu_ready(struct den_machine *dm, struct den_ssh *ssh, struct den_err *err);

extern const struct provider_ops provider_qemu;

#endif
