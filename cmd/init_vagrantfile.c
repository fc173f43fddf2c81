/* SPDX-License-Identifier: MIT */
/*
 * `den init --from Vagrantfile`: the project's Vagrantfile, run in Ruby
 * against den's recorder and converted (vagrantfile/), written as the
 * Envfile, then read back as `den validate` reads it. What could not be
 * converted is said here and kept as a comment atop the Envfile.
 */
#include "cmd/cmd.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "vagrantfile/vagrantfile.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void say_lines(const char *title, const json_t *lines, bool warn)
{
	size_t i;
	json_t *l;

	if (json_array_size(lines) == 0)
		return;
	if (warn)
		den_warn("%s", title);
	else
		den_info("%s", title);
	json_array_foreach(lines, i, l) fprintf(stderr, "  %s\n", json_string_value(l));
}

int cmd_init_from_vagrantfile(struct den_ctx *ctx, const char *from, bool force,
			      struct den_err *err)
{
	cleanup_free char *vf = NULL, *envfile = NULL, *vf_dir = NULL, *copy = NULL, *shown = NULL;
	char real_vf_dir[PATH_MAX], real_cwd[PATH_MAX];
	struct vagrantfile_result res;
	struct envfile *ef = NULL;
	struct stat st;
	json_t *record = NULL;

	cleanup_free char *given = NULL;
	if (asprintf(&given, "%s%s%s", from[0] == '/' ? "" : ctx->cwd, from[0] == '/' ? "" : "/",
		     from) < 0 ||
	    asprintf(&vf, "%s%s", given,
		     stat(given, &st) == 0 && S_ISDIR(st.st_mode) ? "/Vagrantfile" : "") < 0 ||
	    asprintf(&envfile, "%s/" ENVFILE_NAME, ctx->cwd) < 0) {
		vf = envfile = NULL;
		return den_err_set(err, ENOMEM, "cannot convert %s", from);
	}
	bool was_dir = strcmp(given, vf) != 0;
	if (asprintf(&shown, "%s%s", from, was_dir ? "/Vagrantfile" : "") < 0) {
		shown = NULL;
		return den_err_set(err, ENOMEM, "cannot convert %s", from);
	}
	if (!force && den_exists(envfile))
		return den_err_set(err, 0, "%s already exists; use --force to overwrite it",
				   envfile);
	copy = strdup(vf);
	if (copy == NULL || (vf_dir = strdup(dirname(copy))) == NULL)
		return den_err_set(err, ENOMEM, "cannot convert %s", from);
	if (realpath(vf_dir, real_vf_dir) == NULL || realpath(ctx->cwd, real_cwd) == NULL)
		return den_err_set(err, errno, "cannot read %s", vf);
	if (vagrantfile_record(vf, &record, err) < 0)
		return -1;
	/*
	 * Host paths are relative to the Vagrantfile's folder. The Envfile goes
	 * here: below here, they get the way down before them; elsewhere, they
	 * are made absolute (and den refuses provisioners' files outside the
	 * project, so the check below says which).
	 */
	size_t n = strlen(real_cwd);
	const char *rebase = NULL;
	if (strcmp(real_vf_dir, real_cwd) != 0)
		rebase = strcmp(real_cwd, "/") == 0 ? real_vf_dir + 1
			 : strncmp(real_vf_dir, real_cwd, n) == 0 && real_vf_dir[n] == '/'
				 ? real_vf_dir + n + 1
				 : real_vf_dir;
	int rc = vagrantfile_convert(record, shown, rebase, &res, err);
	json_decref(record);
	if (rc < 0)
		return -1;
	rc = den_write_file_atomic(envfile, res.envfile, 0644, err);
	if (rc == 0) {
		den_info("wrote %s from %s: %zu machine%s", envfile, shown, res.n_machines,
			 res.n_machines == 1 ? "" : "s");
		say_lines("den could not convert these (they are listed atop the Envfile too):",
			  res.left, true);
		say_lines("worth knowing:", res.notes, false);
		/* Read back as `den validate` would: an Envfile den writes must be one it reads. */
		rc = envfile_load(envfile, ENVFILE_NAME, ctx->cwd, &ef, err);
		if (rc < 0)
			den_err_wrap(err,
				     "den wrote %s, but it does not validate yet; fix these "
				     "lines",
				     envfile);
		else
			envfile_free(ef);
	}
	vagrantfile_result_free(&res);
	return rc;
}
