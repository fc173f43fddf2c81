/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_BUILD_INTERNAL_H
#define DEN_BOXES_BUILD_INTERNAL_H

/*
 * The steps `den box build` shares between its outputs (boxes/build.c:
 * containers; boxes/build_vm.c: VM disk images).
 */

#include <jansson.h>
#include <sys/types.h>

#include "boxes/recipe.h"
#include "core/err.h"

/* Runs argv with its output appended to log; a failure quotes the log's end. */
int build_step(char *const argv[], const char *log, const char *what, struct den_err *err);

/* debootstrap of the recipe's suite with its packages and extra (NULL-terminated, or NULL). */
int build_debootstrap(const struct recipe *r, const char *const *extra, const char *root,
		      const char *log, struct den_err *err);

/* Users, sudo, host name; no host keys (den makes them per machine); no caches. */
int build_configure(const struct recipe *r, const char *root, const char *log, struct den_err *err);
/* A container box's programs lose file capabilities asking for CAP_NET_RAW (build_caps.c). */
int build_drop_raw_caps(const char *root, struct den_err *err);

/* Writes text to root/rel with mode. */
int build_write_in(const char *root, const char *rel, const char *text, mode_t mode,
		   struct den_err *err);

/* metadata.json's "den" object for a box of the recipe. */
json_t *build_den_metadata(const struct recipe *r, const char *init);

/* Writes j (consumed) to path as indented JSON. */
int build_write_json(json_t *j, const char *path, struct den_err *err);

/* The qemu output: a bootable qcow2 in a Vagrant libvirt box (boxes/build_vm.c). */
int make_vm_box(const struct recipe *r, const char *work, const char *out, struct den_err *err);

#endif
