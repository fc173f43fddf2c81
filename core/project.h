/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_PROJECT_H
#define DEN_CORE_PROJECT_H

/*
 * Where things live (DESIGN.md §4): the project root, found by walking up
 * from the working directory to the Envfile; its machine state in
 * $DEN_HOME/projects/HASH (out of every machine's reach: a synced
 * project folder is writable from inside, see docs/decisions.md); $DEN_HOME
 * for boxes and the index of all projects.
 */

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"

/* Where den kept machine state before: PROJECT/.den (moved out at the first locked command). */
#define DEN_LEGACY_DIR ".den"

/*
 * The Envfile's file name: $DEN_ENVFILE when set (a plain name, as
 * VAGRANT_VAGRANTFILE), else "Envfile".
 */
const char *project_envfile_name(void);

/*
 * Walks up from start (absolute) to the first folder holding a file called
 * name. *root gets that folder (malloc'd). Fails with a message telling
 * how to make one when there is none.
 */
int project_find_root(const char *start, const char *name, char **root, struct den_err *err);

/*
 * The Envfile's name as the user sees it: relative to cwd when it is
 * below cwd ("Envfile", "../Envfile" is shown absolute), else absolute.
 */
char *project_shown_path(const char *cwd, const char *path);

/* $DEN_HOME, else $XDG_DATA_HOME/den, else ~/.local/share/den (malloc'd). */
int den_home(char **out, struct den_err *err);

/*
 * The project's state folder, $DEN_HOME/projects/HASH (malloc'd): HASH
 * is a 64-bit FNV-1a of the root path, so each project folder has its own
 * and a moved project starts afresh. Nothing in it comes from the project
 * folder.
 */
int project_state_dir(const char *root, char **out, struct den_err *err);

/* The state folder's machines/NAME (malloc'd). */
int project_machine_dir(const char *root, const char *machine, char **out, struct den_err *err);

/*
 * Creates the state folder and its machines/ (mode 0700) with a
 * project.json naming the root (for global-status and box users).
 */
int project_state_init(const char *root, struct den_err *err);

/*
 * Under the project lock: moves PROJECT/.den/machines of an older den into
 * the project's state folder, when there is one to move, dropping links den
 * never makes (a guest may have planted them) (project_migrate.c). Leaves
 * everything as it was and says why when it cannot.
 */
int project_migrate_legacy(const char *root, struct den_err *err);

/* Does PROJECT/.den/machines of an older den still wait to be moved? */
bool project_has_legacy_state(const char *root);

#endif
