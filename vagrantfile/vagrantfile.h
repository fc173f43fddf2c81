/* SPDX-License-Identifier: MIT */
#ifndef DEN_VAGRANTFILE_VAGRANTFILE_H
#define DEN_VAGRANTFILE_VAGRANTFILE_H

/*
 * `den init --from Vagrantfile`: a Vagrantfile made into an Envfile. The
 * Vagrantfile runs in Ruby, as Vagrant runs it, against den's recording
 * stand-in for Vagrant's configuration object (vagrantfile/recorder.rb):
 * loops that define machines and conditions work as they do for Vagrant.
 * den then converts the record (vagrantfile/convert*.c) and writes the
 * Envfile with libyaml's emitter. What it cannot convert is listed with
 * the Vagrantfile's line, never dropped.
 */

#include <jansson.h>

#include "core/err.h"

/*
 * Runs the Vagrantfile at path in Ruby and returns the record (*record, a
 * new reference). Fails when Ruby is missing (saying what to install) or
 * the Vagrantfile raises (its line and Ruby's words).
 */
int vagrantfile_record(const char *path, json_t **record, struct den_err *err);

struct vagrantfile_result {
	char *envfile; /* the Envfile's text, malloc'd */
	json_t *left;  /* "Vagrantfile:LINE: what: why" for each thing not converted */
	json_t *notes; /* the same for what was converted with a change worth knowing */
	size_t n_machines;
};

/*
 * Converts a record. shown names the Vagrantfile in the lines of left and
 * notes; rebase, when not NULL, is the Vagrantfile's folder as the
 * Envfile's folder reaches it ("vagrant", or an absolute path), put before
 * relative host paths (the Envfile goes elsewhere).
 */
int vagrantfile_convert(const json_t *record, const char *shown, const char *rebase,
			struct vagrantfile_result *out, struct den_err *err);
void vagrantfile_result_free(struct vagrantfile_result *r);

#endif
