/* SPDX-License-Identifier: MIT */
/*
 * Runs a Vagrantfile in Ruby against den's recorder (vagrantfile/recorder.rb,
 * built into den) and reads back what it recorded. The Vagrantfile is code,
 * run as Vagrant would run it, with the user's rights: what it prints goes
 * to stderr, the record to a file of den's own in a fresh folder.
 */
#include "vagrantfile/vagrantfile.h"
#include "core/cleanup.h"
#include "core/embedded.h"
#include "core/fsutil.h"
#include "core/spawn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD_MAX (16u << 20)

static const struct den_embedded *recorder(void)
{
	for (const struct den_embedded *e = den_vagrantfile; e->name != NULL; e++)
		if (strcmp(e->name, "recorder.rb") == 0)
			return e;
	return NULL;
}

/* A record that ends in a Ruby error: the Vagrantfile's line and Ruby's words. */
static int ruby_error(const char *path, const json_t *e, struct den_err *err)
{
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *cls = json_string_value(json_object_get(e, "class"));
	json_int_t line = json_integer_value(json_object_get(e, "line"));

	return den_err_set(err, 0,
			   "%s:%lld: the Vagrantfile stopped in Ruby: %s (%s); den runs it as "
			   "Vagrant would, so it must run there",
			   path, (long long)line, msg != NULL ? msg : "(no message)",
			   cls != NULL ? cls : "error");
}

int vagrantfile_record(const char *path, json_t **record, struct den_err *err)
{
	const struct den_embedded *rb = recorder();
	const char *tmp = getenv("TMPDIR");
	cleanup_free char *dir = NULL, *script = NULL, *out = NULL, *text = NULL;
	size_t len = 0;
	json_error_t jerr;
	int rc = -1;

	*record = NULL;
	if (rb == NULL)
		return den_err_set(err, 0, "this den has no Vagrantfile recorder built in (a bug)");
	if (access(path, R_OK) < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	if (asprintf(&dir, "%s/den-vagrantfile-XXXXXX",
		     tmp != NULL && tmp[0] == '/' ? tmp : "/tmp") < 0) {
		dir = NULL;
		return den_err_set(err, ENOMEM, "cannot read %s", path);
	}
	if (mkdtemp(dir) == NULL) {
		int e = errno;
		return den_err_set(err, e, "cannot make a folder for reading %s", path);
	}
	if (asprintf(&script, "%s/recorder.rb", dir) < 0 ||
	    asprintf(&out, "%s/record.json", dir) < 0) {
		den_err_set(err, ENOMEM, "cannot read %s", path);
		goto done;
	}
	if (den_write_atomic(script, rb->text, rb->len, 0600, err) < 0)
		goto done;
	const char *argv[] = { "ruby", "--disable-gems", script, path, out, NULL };
	struct den_spawn sp = { .argv = argv,
				.in = DEN_SPAWN_NULL,
				.out = STDERR_FILENO, /* what the Vagrantfile puts */
				.err_fd = STDERR_FILENO,
				.install = "install ruby (apt-get install ruby): den runs the "
					   "Vagrantfile in Ruby to read it, as Vagrant does",
				.hint = "den's recorder failed; run with -vv and report it" };
	if (den_spawn_run(&sp, err) < 0)
		goto done;
	if (den_read_file(out, RECORD_MAX, &text, &len, err) < 0)
		goto done;
	*record = json_loadb(text, len, 0, &jerr);
	if (*record == NULL) {
		den_err_set(err, 0, "den's Vagrantfile recorder wrote no record it can read: %s",
			    jerr.text);
		goto done;
	}
	if (json_object_get(*record, "error") != NULL) {
		ruby_error(path, json_object_get(*record, "error"), err);
		json_decref(*record);
		*record = NULL;
		goto done;
	}
	rc = 0;
done:
	den_rm_rf(dir, &(struct den_err){ 0 });
	return rc;
}
