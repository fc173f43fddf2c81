/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVISIONERS_HOST_CMD_H
#define DEN_PROVISIONERS_HOST_CMD_H

/* Running a program on the host (ansible-playbook) with its output streamed to a prov_output. */

#include <stdbool.h>

#include "core/err.h"
#include "provisioners/output.h"

/*
 * Runs argv in cwd with env_add ("NAME=value", NULL-terminated) added to
 * den's environment; stdout and stderr go to out as they come. *status is
 * its exit code (128+N for signal N). One that cannot be run (not found)
 * is an error.
 */
int prov_run_host(char *const argv[], char *const env_add[], const char *cwd,
		  struct prov_output *out, int *status, struct den_err *err);

#endif
