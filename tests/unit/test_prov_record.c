/* SPDX-License-Identifier: MIT */
/*
 * Host files provisioners read, after code in a machine had its go at
 * the synced project: the checksum of a step's source follows no symlink
 * and opens no fifo, and a shell step's script that became a symlink is
 * refused.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/envfile.h"
#include "provisioners/provisioner.h"
#include "provisioners/record.h"
#include "tests/helpers/testutil.h"

static char *project, *outside;

static void setup(void)
{
	project = make_temp_dir();
	outside = make_temp_dir();
	write_file(outside, "secret", "hunter2\n");
	write_file(project, "src/a.txt", "hello\n");
	write_file(project, "run.sh", "#!/bin/sh\necho hi\n");
}

static void teardown(void)
{
	rm_rf(project);
	rm_rf(outside);
	free(project);
	free(outside);
}

static char *in(const char *dir, const char *name)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", dir, name) >= 0);
	return p;
}

static struct envfile *load(const char *steps)
{
	return load_steps(project, steps);
}

static const struct prov_step *step0(struct envfile *ef)
{
	return &envfile_machine(ef, "web")->steps[0];
}

static void checksum(struct envfile *ef, char hex[DIGEST_HEX_MAX])
{
	struct den_err err = { 0 };

	cr_assert(prov_step_checksum(ef->root, step0(ef), hex, &err) == 0, "%s", err.msg);
}

TestSuite(prov_record, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(prov_shell, .init = setup, .fini = teardown, .timeout = 30);

Test(prov_record, a_symlink_to_a_secret_counts_as_its_target_text_not_its_contents)
{
	cleanup_free char *secret = in(outside, "secret"), *link = in(project, "src/key");
	char before[DIGEST_HEX_MAX], after[DIGEST_HEX_MAX], edited[DIGEST_HEX_MAX];

	cr_assert(symlink(secret, link) == 0);
	struct envfile *ef = load("      - file: { source: src, destination: /tmp/src }\n");
	checksum(ef, before);
	write_file(outside, "secret", "a different secret\n");
	checksum(ef, after);
	cr_expect_str_eq(after, before, "the checksum read through the symlink");
	/* A real file of the folder still counts with its contents. */
	write_file(project, "src/a.txt", "hello again\n");
	checksum(ef, edited);
	cr_expect_str_neq(edited, before);
	envfile_free(ef);
}

Test(prov_record, a_symlink_to_the_root_is_not_walked)
{
	cleanup_free char *link = in(project, "src/all");
	char a[DIGEST_HEX_MAX], b[DIGEST_HEX_MAX];

	struct envfile *ef = load("      - file: { source: src, destination: /tmp/src }\n");
	checksum(ef, a);
	cr_assert(symlink("/", link) == 0);
	checksum(ef, b); /* finishes at once: "/" is text here */
	cr_expect_str_neq(a, b, "a new symlink is a change of the folder");
	envfile_free(ef);
}

Test(prov_record, a_fifo_in_the_folder_does_not_hang_den)
{
	cleanup_free char *fifo = in(project, "src/pipe");
	char a[DIGEST_HEX_MAX], b[DIGEST_HEX_MAX];

	struct envfile *ef = load("      - file: { source: src, destination: /tmp/src }\n");
	checksum(ef, a);
	cr_assert(mkfifo(fifo, 0600) == 0);
	checksum(ef, b);
	cr_expect_str_neq(a, b);
	envfile_free(ef);
}

Test(prov_record, a_fifo_swapped_in_for_the_source_does_not_hang_den)
{
	cleanup_free char *src = in(project, "run.sh");
	char hex[DIGEST_HEX_MAX];

	struct envfile *ef = load("      - shell: { path: run.sh }\n");
	cr_assert(unlink(src) == 0 && mkfifo(src, 0600) == 0);
	checksum(ef, hex);
	envfile_free(ef);
}

Test(prov_record, a_folder_on_the_way_that_became_a_symlink_is_refused)
{
	cleanup_free char *src = in(project, "src");
	struct den_err err = { 0 };
	char hex[DIGEST_HEX_MAX];

	write_file(project, "src/deep/b.txt", "b\n");
	struct envfile *ef = load("      - file: { source: src/deep, destination: /tmp/d }\n");
	rm_rf(src);
	cr_assert(symlink(outside, src) == 0);
	cr_expect(prov_step_checksum(ef->root, step0(ef), hex, &err) < 0);
	cr_expect(strstr(err.msg, "src is a symlink") != NULL, "%s", err.msg);
	envfile_free(ef);
}

Test(prov_shell, a_script_in_the_project_is_read)
{
	cleanup_free char *script = NULL;
	struct den_err err = { 0 };
	size_t len = 0;

	struct envfile *ef = load("      - shell: { path: run.sh }\n");
	cr_assert(prov_shell_read_script(ef->root, step0(ef), &script, &len, &err) == 0, "%s",
		  err.msg);
	cr_expect_str_eq(script, "#!/bin/sh\necho hi\n");
	cr_expect_eq(len, strlen(script));
	envfile_free(ef);
}

Test(prov_shell, a_script_that_became_a_symlink_is_refused_and_named)
{
	cleanup_free char *secret = in(outside, "secret"), *src = in(project, "run.sh");
	cleanup_free char *script = NULL;
	struct den_err err = { 0 };
	size_t len = 0;

	struct envfile *ef = load("      - shell: { name: setup, path: run.sh }\n");
	cr_assert(unlink(src) == 0 && symlink(secret, src) == 0);
	cr_expect(prov_shell_read_script(ef->root, step0(ef), &script, &len, &err) < 0);
	cr_expect_null(script);
	cr_expect(strstr(err.msg, "step 'setup': run.sh is a symlink") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "hunter2") == NULL);
	envfile_free(ef);
}

Test(prov_shell, a_script_that_became_a_fifo_is_refused_without_hanging)
{
	cleanup_free char *src = in(project, "run.sh");
	cleanup_free char *script = NULL;
	struct den_err err = { 0 };
	size_t len = 0;

	struct envfile *ef = load("      - shell: { path: run.sh }\n");
	cr_assert(unlink(src) == 0 && mkfifo(src, 0600) == 0);
	cr_expect(prov_shell_read_script(ef->root, step0(ef), &script, &len, &err) < 0);
	cr_expect(strstr(err.msg, "run.sh: not a plain file") != NULL, "%s", err.msg);
	envfile_free(ef);
}
