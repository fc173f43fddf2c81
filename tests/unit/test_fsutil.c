/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "tests/helpers/testutil.h"

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.' || (e->d_name[1] && e->d_name[1] != '.');
	closedir(d);
	return n;
}

Test(fsutil, atomic_write_replaces_the_file_and_leaves_no_temporary)
{
	char *dir = make_temp_dir(), path[4096], *text = NULL;
	struct den_err err = { 0 };
	struct stat st;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	cr_assert(den_write_file_atomic(path, "{\"a\":1}", 0600, &err) == 0, "%s", err.msg);
	cr_assert(den_write_file_atomic(path, "{\"a\":2}", 0600, &err) == 0, "%s", err.msg);
	cr_assert(den_read_file(path, 1024, &text, NULL, &err) == 0);
	cr_expect_str_eq(text, "{\"a\":2}");
	cr_assert(stat(path, &st) == 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_expect_eq(count_entries(dir), 1, "no temporary file is left behind");
	free(text);
	rm_rf(dir);
	free(dir);
}

Test(fsutil, a_failed_write_keeps_the_old_file)
{
	char *dir = make_temp_dir(), path[8192], sub[4096], *text = NULL;
	struct den_err err = { 0 };

	snprintf(sub, sizeof(sub), "%s/ro", dir);
	cr_assert(mkdir(sub, 0755) == 0);
	snprintf(path, sizeof(path), "%s/f", sub);
	cr_assert(den_write_file_atomic(path, "old", 0644, &err) == 0);
	cr_assert(chmod(sub, 0555) == 0);
	if (geteuid() == 0) {
		/* root ignores folder permissions: make the rename target a folder instead. */
		cr_assert(chmod(sub, 0755) == 0);
		snprintf(path, sizeof(path), "%s/d", sub);
		cr_assert(mkdir(path, 0755) == 0);
		write_file(path, "inside", "x");
	}
	cr_expect(den_write_file_atomic(path, "new", 0644, &err) < 0);
	cr_expect(strstr(err.msg, "cannot write") != NULL, "%s", err.msg);
	chmod(sub, 0755);
	snprintf(path, sizeof(path), "%s/f", sub);
	cr_assert(den_read_file(path, 1024, &text, NULL, &err) == 0);
	cr_expect_str_eq(text, "old");
	cr_expect_eq(count_entries(sub), geteuid() == 0 ? 2 : 1, "no temporary file left");
	free(text);
	rm_rf(dir);
	free(dir);
}

Test(fsutil, read_file_refuses_files_over_the_limit)
{
	char *dir = make_temp_dir(), path[4096], *text = NULL;
	struct den_err err = { 0 };

	write_file(dir, "big", "0123456789");
	snprintf(path, sizeof(path), "%s/big", dir);
	cr_expect(den_read_file(path, 9, &text, NULL, &err) < 0);
	cr_expect(den_read_file(path, 10, &text, NULL, &err) == 0);
	free(text);
	rm_rf(dir);
	free(dir);
}

Test(fsutil, mkdir_p_makes_every_level_and_accepts_existing_ones)
{
	char *dir = make_temp_dir(), path[4096];
	struct den_err err = { 0 };
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	cr_assert(den_mkdir_p(path, 0755, &err) == 0, "%s", err.msg);
	cr_assert(den_mkdir_p(path, 0755, &err) == 0, "%s", err.msg);
	cr_expect(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	write_file(dir, "file", "x");
	snprintf(path, sizeof(path), "%s/file/sub", dir);
	cr_expect(den_mkdir_p(path, 0755, &err) < 0);
	rm_rf(dir);
	free(dir);
}
