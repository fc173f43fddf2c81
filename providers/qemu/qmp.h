/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_QEMU_QMP_H
#define DEN_PROVIDERS_QEMU_QMP_H

/*
 * A QMP client (the QEMU Machine Protocol, JSON over a unix socket): how
 * the qemu provider asks a machine's QEMU for its status, powers it down,
 * pauses it and saves snapshots. One command at a time; asynchronous
 * events in between are read and dropped. QEMU is not trusted to answer:
 * every read has a deadline, lines are bounded, and garbage is an error.
 */

#include <jansson.h>

#include "core/err.h"

struct qmp;

/* Connects, reads QEMU's greeting and leaves capabilities negotiation (command mode). */
int qmp_connect(const char *path, int timeout_ms, struct qmp **out, struct den_err *err);

/*
 * Runs command with args (a JSON object, consumed; or NULL). On success
 * *ret (if not NULL) is the "return" value (a new reference). QEMU's own
 * error comes back as "qemu refused COMMAND: its description".
 */
int qmp_execute(struct qmp *q, const char *command, json_t *args, json_t **ret,
		struct den_err *err);

void qmp_close(struct qmp *q);

#endif
