/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVISIONERS_RECORD_H
#define DEN_PROVISIONERS_RECORD_H

/*
 * What ran on a machine: .den/machines/NAME/provisioned.json, one entry
 * per step name: { "type", "checksum" (sha256 of the step's settings and
 * of the host files it reads), "time", "seconds", "result" ("ok" or
 * "failed"), "exit_code" }. `den up` runs a `once` step until it has
 * succeeded; the checksum tells when its inputs changed since.
 */

#include <jansson.h>
#include <stdbool.h>

#include "core/digest.h"
#include "core/envfile.h"
#include "core/err.h"

/* The record of a machine folder; an empty one when there is none yet. */
int prov_record_load(const char *machine_dir, json_t **out, struct den_err *err);
int prov_record_save(const char *machine_dir, json_t *rec, struct den_err *err);

/* Did the step of this name succeed on the machine? */
bool prov_record_succeeded(json_t *rec, const char *name);
/* The checksum recorded for the step, or NULL. */
const char *prov_record_checksum(json_t *rec, const char *name);

void prov_record_set(json_t *rec, const struct prov_step *step, const char *checksum, bool ok,
		     int exit_code, double seconds);

/*
 * sha256 of the step's settings and the host files it reads (script,
 * source tree, playbook), read beneath root (the project) following no
 * symlink: a symlink counts as its target's text, a fifo, socket or
 * device as its type.
 */
int prov_step_checksum(const char *root, const struct prov_step *step, char hex[DIGEST_HEX_MAX],
		       struct den_err *err);

#endif
