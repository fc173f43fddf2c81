/* SPDX-License-Identifier: MIT */
/*
 * Envfile.lock: what a team commits so that everyone gets the same boxes.
 * Written sorted and only when something changed (no churn in version
 * control), read back field for field, and a damaged or hostile one is
 * refused with the file, the entry and what to do.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxes/lock.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "tests/helpers/testutil.h"

struct proj {
	char *dir;
	char envfile[4096], lock[4200];
};

static void proj_init(struct proj *p)
{
	p->dir = make_temp_dir();
	snprintf(p->envfile, sizeof(p->envfile), "%s/Envfile", p->dir);
	snprintf(p->lock, sizeof(p->lock), "%s/Envfile.lock", p->dir);
}

static void proj_free(struct proj *p)
{
	rm_rf(p->dir);
	free(p->dir);
}

static char *read_text(const char *path)
{
	char *text = NULL;
	struct den_err err = { 0 };

	cr_assert(den_read_file(path, 1 << 20, &text, NULL, &err) == 0, "%s", err.msg);
	return text;
}

static const struct lock_entry web = {
	"den/debian-12", "~> 1.0",
	"1.2.0",	 "container",
	"amd64",	 "https://boxes.example/den/debian-12/1.2.0.box",
	"sha256",	 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
};

Test(lock, a_missing_lock_is_empty_and_an_unchanged_one_is_never_written)
{
	struct proj p;
	struct boxlock l;
	struct den_err err = { 0 };

	proj_init(&p);
	cr_assert(boxlock_read(p.envfile, &l, &err) == 0, "%s", err.msg);
	cr_expect_eq(l.n, 0);
	cr_expect_null(boxlock_find(&l, "den/debian-12", "container", "amd64"));
	cr_assert(boxlock_write(&l, &err) == 0, "%s", err.msg);
	cr_expect_neq(access(p.lock, F_OK), 0, "nothing resolved, no Envfile.lock made");
	boxlock_free(&l);
	proj_free(&p);
}

Test(lock, entries_round_trip_field_for_field_sorted)
{
	struct proj p;
	struct boxlock l;
	struct den_err err = { 0 };
	/* No constraint, URL or checksum: a box built here. They must stay absent, not "". */
	const struct lock_entry built = { "acme/app", NULL, "0.3.1", "qemu",
					  "unknown",  NULL, NULL,    NULL };
	struct lock_entry arm = web;

	arm.arch = "arm64";
	arm.checksum = "00ff";
	proj_init(&p);
	cr_assert(boxlock_read(p.envfile, &l, &err) == 0, "%s", err.msg);
	cr_assert(boxlock_set(&l, &web, &err) == 0, "%s", err.msg);
	cr_assert(boxlock_set(&l, &built, &err) == 0, "%s", err.msg);
	cr_assert(boxlock_set(&l, &arm, &err) == 0, "%s", err.msg);
	cr_expect(l.changed);
	cr_assert(boxlock_write(&l, &err) == 0, "%s", err.msg);
	cr_expect(!l.changed, "written: nothing left to write");
	boxlock_free(&l);

	cleanup_free char *text = read_text(p.lock);
	cr_expect(text[strlen(text) - 1] == '\n', "ends with a newline, as committed files do");
	json_t *j = json_loads(text, 0, NULL);
	cr_assert(json_is_object(j), "%s", text);
	cr_expect_eq(json_integer_value(json_object_get(j, "version")), 1);
	json_t *boxes = json_object_get(j, "boxes");
	cr_assert_eq(json_array_size(boxes), 3);
	/* Sorted by name, provider, architecture: the same file whatever the order of resolving. */
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(boxes, 0), "name")),
			 "acme/app");
	cr_expect_str_eq(
		json_string_value(json_object_get(json_array_get(boxes, 1), "architecture")),
		"amd64");
	cr_expect_str_eq(
		json_string_value(json_object_get(json_array_get(boxes, 2), "architecture")),
		"arm64");
	cr_expect_null(json_object_get(json_array_get(boxes, 0), "url"), "absent, not null");
	json_decref(j);

	cr_assert(boxlock_read(p.envfile, &l, &err) == 0, "%s", err.msg);
	cr_assert_eq(l.n, 3);
	const struct lock_entry *e = boxlock_find(&l, "den/debian-12", "container", "amd64");
	cr_assert_not_null(e);
	cr_expect_str_eq(e->constraint, web.constraint);
	cr_expect_str_eq(e->version, web.version);
	cr_expect_str_eq(e->url, web.url);
	cr_expect_str_eq(e->checksum_type, web.checksum_type);
	cr_expect_str_eq(e->checksum, web.checksum);
	e = boxlock_find(&l, "den/debian-12", "container", "arm64");
	cr_assert_not_null(e);
	cr_expect_str_eq(e->checksum, "00ff", "each architecture keeps its own checksum");
	e = boxlock_find(&l, "acme/app", "qemu", "unknown");
	cr_assert_not_null(e);
	cr_expect_null(e->constraint);
	cr_expect_null(e->url);
	cr_expect_null(e->checksum);
	cr_expect_null(boxlock_find(&l, "acme/app", "container", "unknown"),
		       "another provider is another box");
	cr_expect(!l.changed, "reading is no change");
	boxlock_free(&l);
	proj_free(&p);
}

Test(lock, the_same_answer_again_leaves_the_file_alone_a_new_one_replaces_it)
{
	struct proj p;
	struct boxlock l;
	struct den_err err = { 0 };
	struct lock_entry newer = web;

	proj_init(&p);
	cr_assert(boxlock_read(p.envfile, &l, &err) == 0);
	cr_assert(boxlock_set(&l, &web, &err) == 0);
	cr_assert(boxlock_write(&l, &err) == 0, "%s", err.msg);
	boxlock_free(&l);
	/* Reformatted by hand (or by another tool): den must not rewrite it for nothing. */
	cleanup_free char *text = read_text(p.lock);
	json_t *j = json_loads(text, 0, NULL);
	cleanup_free char *compact = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	write_file(p.dir, "Envfile.lock", compact);

	cr_assert(boxlock_read(p.envfile, &l, &err) == 0, "%s", err.msg);
	cr_assert(boxlock_set(&l, &web, &err) == 0);
	cr_expect(!l.changed, "the same version, URL and checksum is no change");
	cr_assert(boxlock_write(&l, &err) == 0);
	cleanup_free char *after = read_text(p.lock);
	cr_expect_str_eq(after, compact, "the file was rewritten without a change");

	newer.version = "1.3.0";
	newer.checksum = "abcd";
	cr_assert(boxlock_set(&l, &newer, &err) == 0);
	cr_expect(l.changed);
	cr_expect_eq(l.n, 1, "replaced, not added");
	cr_assert(boxlock_write(&l, &err) == 0);
	boxlock_free(&l);
	cr_assert(boxlock_read(p.envfile, &l, &err) == 0);
	cr_assert_eq(l.n, 1);
	cr_expect_str_eq(l.e[0].version, "1.3.0");
	cr_expect_str_eq(l.e[0].checksum, "abcd");
	boxlock_free(&l);
	proj_free(&p);
}

/* Writes text as the lock and reads it: must fail, with every fragment in the message. */
static void expect_refused(const char *text, const char *const *fragments)
{
	struct proj p;
	struct boxlock l;
	struct den_err err = { 0 };

	proj_init(&p);
	write_file(p.dir, "Envfile.lock", text);
	cr_expect(boxlock_read(p.envfile, &l, &err) < 0, "accepted: %s", text);
	cr_expect(strstr(err.msg, p.lock) != NULL, "the message names the file: %s", err.msg);
	for (size_t i = 0; fragments[i] != NULL; i++)
		cr_expect(strstr(err.msg, fragments[i]) != NULL, "for %s\nwant '%s' in: %s", text,
			  fragments[i], err.msg);
	cr_expect_eq(l.n, 0, "nothing half read is left to use");
	boxlock_free(&l);
	proj_free(&p);
}

#define REFUSED(text, ...) expect_refused(text, (const char *const[]){ __VA_ARGS__, NULL })

Test(lock, a_damaged_lock_is_refused_with_what_to_do)
{
	REFUSED("", "damaged", "restore it from version control, or delete it");
	REFUSED("not json at all", "damaged", "delete it");
	REFUSED("{\"version\": 1, \"boxes\": [", "damaged"); /* cut short */
	REFUSED("[]", "no \"boxes\" list");
	REFUSED("{\"boxes\": {\"name\": \"den/debian-12\"}}", "no \"boxes\" list");
	REFUSED("{\"boxes\": [42]}", "entry 1 lacks name, version, provider or architecture");
	REFUSED("{\"boxes\": [{\"name\": \"den/debian-12\", \"version\": \"1.0.0\", "
		"\"provider\": \"container\", \"architecture\": \"amd64\"}, "
		"{\"name\": \"den/debian-12\", \"provider\": \"qemu\", \"architecture\": "
		"\"amd64\"}]}",
		"entry 2 lacks", "restore the file or delete it");
	REFUSED("{\"boxes\": [{\"name\": \"den/debian-12\", \"version\": 1, "
		"\"provider\": \"container\", \"architecture\": \"amd64\"}]}",
		"entry 1 lacks", "version");
}

Test(lock, values_that_would_leave_the_box_store_are_refused)
{
	/* Each would become a folder name under $DEN_HOME/boxes. */
	REFUSED("{\"boxes\": [{\"name\": \"den/debian-12\", \"version\": \"../../../../tmp/x\", "
		"\"provider\": \"container\", \"architecture\": \"amd64\"}]}",
		"entry 1: version '../../../../tmp/x' is not a plain name");
	REFUSED("{\"boxes\": [{\"name\": \"../../etc\", \"version\": \"1.0.0\", "
		"\"provider\": \"container\", \"architecture\": \"amd64\"}]}",
		"entry 1: name '../../etc' is not a plain name");
	REFUSED("{\"boxes\": [{\"name\": \"den/debian-12\", \"version\": \"1.0.0\", "
		"\"provider\": \"qemu/../..\", \"architecture\": \"amd64\"}]}",
		"entry 1: provider 'qemu/../..'");
	REFUSED("{\"boxes\": [{\"name\": \"den/debian-12\", \"version\": \"1.0.0\", "
		"\"provider\": \"container\", \"architecture\": \".hidden\"}]}",
		"entry 1: architecture '.hidden'");
	REFUSED("{\"boxes\": [{\"name\": \"den/debian-12\", \"version\": \"1.0.0\\nroot\", "
		"\"provider\": \"container\", \"architecture\": \"amd64\"}]}",
		"entry 1: version", "is not a plain name");
}

Test(lock, a_lock_that_is_not_a_file_is_an_error_not_an_empty_lock)
{
	struct proj p;
	struct boxlock l;
	struct den_err err = { 0 };
	char path[4200];

	proj_init(&p);
	snprintf(path, sizeof(path), "%s/Envfile.lock", p.dir);
	cr_assert(mkdir(path, 0755) == 0);
	cr_expect(boxlock_read(p.envfile, &l, &err) < 0,
		  "a folder called Envfile.lock is not a missing lock");
	cr_expect(strstr(err.msg, "Envfile.lock") != NULL, "%s", err.msg);
	boxlock_free(&l);
	proj_free(&p);
}
