/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_PROJECT_H
#define DEN_CORE_PROJECT_H

/*
 * Where things live (DESIGN.md §4): the project root, found by walking up
 * from the working directory to the Envfile; PROJECT/.den for machine
 * state; $DEN_HOME for boxes and the index of all projects.
 */

#include <stddef.h>
#include "core/err.h"

#define DEN_DIR ".den"

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

/* PROJECT/.den/machines/NAME (malloc'd). */
char *project_machine_dir(const char *root, const char *machine);

/*
 * Creates PROJECT/.den and .den/machines if needed (mode 0755), with a
 * .gitignore in .den so its state never gets committed.
 */
int project_state_init(const char *root, struct den_err *err);

#endif
