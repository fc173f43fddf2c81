/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_LOCK_H
#define DEN_CORE_LOCK_H

/*
 * One mutating den per project: env.lock in the project's state folder
 * (project_state_dir) held with flock(2)
 * for the whole command. The kernel drops the lock when den exits, killed
 * or not, so a stale lock cannot exist. A second den says who holds it
 * and waits. Taking it also moves an older den's PROJECT/.den into the
 * state folder (project_migrate_legacy).
 */

#include "core/err.h"

/* Takes the lock, waiting when another den holds it. *fd stays open while held. */
int project_lock(const char *root, const char *what, int *fd, struct den_err *err);

/* Tries once; returns 1 when taken, 0 when another den holds it. */
int project_trylock(const char *root, const char *what, int *fd, struct den_err *err);

/* Releases the lock (closing fd); fd may be -1. */
void project_unlock(int *fd);

#endif
