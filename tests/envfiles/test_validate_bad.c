/* SPDX-License-Identifier: MIT */
/*
 * Every broken Envfile of tests/envfiles/bad/ run through the real
 * `den validate`: exit 2, the expected message at the expected line and
 * column (tests/envfiles/bad/EXPECT), and nothing written to the project.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers/testutil.h"

struct expect {
	char file[128];
	char pos[32];
	char fragment[512];
};

static size_t read_expect(const char *dir, struct expect *e, size_t max)
{
	char *path = NULL, line[1024];
	size_t n = 0;

	cr_assert(asprintf(&path, "%s/EXPECT", dir) > 0);
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL, "cannot read %s", path);
	while (fgets(line, sizeof(line), f) != NULL && n < max) {
		int used = 0;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		cr_assert(sscanf(line, "%127s %31s %n", e[n].file, e[n].pos, &used) == 2,
			  "bad EXPECT line: %s", line);
		snprintf(e[n].fragment, sizeof(e[n].fragment), "%s", line + used);
		n++;
	}
	fclose(f);
	free(path);
	return n;
}

/* True when some line of text starts with prefix and contains fragment. */
static bool has_line(const char *text, const char *prefix, const char *fragment)
{
	for (const char *l = text; l != NULL && *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		char *line = strndup(l, len);
		bool ok = strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, fragment);

		free(line);
		if (ok)
			return true;
		l = end ? end + 1 : NULL;
	}
	return false;
}

static void expect_refused(const char *dir, const char *file, const char *pos, const char *fragment)
{
	char env[256], prefix[256], den_dir[1024];
	struct den_run r;

	snprintf(env, sizeof(env), "DEN_ENVFILE=%s", file);
	snprintf(prefix, sizeof(prefix), "%s:%s: ", file, pos);
	snprintf(den_dir, sizeof(den_dir), "%s/.den", dir);
	run_den(&r, dir, (const char *const[]){ env, NULL },
		(const char *const[]){ "validate", NULL });
	cr_expect_eq(r.status, 2, "%s: exit %d, want 2 (stderr: %s)", file, r.status, r.err);
	cr_expect(has_line(r.err, prefix, fragment),
		  "%s: want a line starting '%s' with '%s'; got:\n%s", file, prefix, fragment,
		  r.err);
	cr_expect(strlen(r.out) == 0, "%s: stdout should be empty, got: %s", file, r.out);
	cr_expect(access(den_dir, F_OK) != 0, "%s: den created %s", file, den_dir);
	den_run_free(&r);
}

Test(validate_bad, every_broken_envfile_is_named_at_its_line_and_column)
{
	static struct expect e[256];
	char *dir = source_path("tests/envfiles/bad");
	size_t n = read_expect(dir, e, 256);

	cr_assert(n >= 40, "only %zu broken Envfiles; the suite wants at least 40", n);
	for (size_t i = 0; i < n; i++)
		expect_refused(dir, e[i].file, e[i].pos, e[i].fragment);
	free(dir);
}

Test(validate_bad, every_file_in_the_folder_has_an_expectation)
{
	static struct expect e[256];
	char *dir = source_path("tests/envfiles/bad");
	size_t n = read_expect(dir, e, 256);
	DIR *d = opendir(dir);
	struct dirent *de;

	cr_assert(d != NULL);
	while ((de = readdir(d)) != NULL) {
		bool listed = false;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "EXPECT") == 0)
			continue;
		for (size_t i = 0; i < n && !listed; i++)
			listed = strcmp(e[i].file, de->d_name) == 0;
		cr_expect(listed, "%s is in tests/envfiles/bad but not in its EXPECT", de->d_name);
	}
	closedir(d);
	free(dir);
}

Test(validate_bad, a_ten_megabyte_envfile_is_refused_before_parsing)
{
	char *dir = make_temp_dir();
	size_t size = 10u << 20;
	char *big = malloc(size + 1);

	cr_assert(big != NULL);
	/* Valid YAML all the way: comment lines of 64 bytes. */
	for (size_t i = 0; i < size; i++)
		big[i] = i % 64 == 0 ? '#' : i % 64 == 63 ? '\n' : 'x';
	big[size] = '\0';
	write_file(dir, "Envfile", big);
	free(big);
	expect_refused(dir, "Envfile", "1:1", "an Envfile may be at most 1048576 bytes");
	rm_rf(dir);
	free(dir);
}

static char *nested(size_t depth, const char *open, const char *close)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = malloc(64 + depth * (lo + lc));
	size_t o = 0;

	cr_assert(s != NULL);
	o += (size_t)sprintf(s, "den: 1\nmachines: ");
	for (size_t i = 0; i < depth; i++, o += lo)
		memcpy(s + o, open, lo);
	for (size_t i = 0; close && i < depth; i++, o += lc)
		memcpy(s + o, close, lc);
	strcpy(s + o, "\n");
	return s;
}

Test(validate_bad, deep_nesting_is_refused_before_libyaml_sees_it)
{
	char *dir = make_temp_dir();
	char *text = nested(100000, "[", "]");

	write_file(dir, "Envfile", text);
	expect_refused(dir, "Envfile", "2:111", "nest deeper than 100 levels");
	free(text);
	text = nested(100000, "{a: ", "}");
	write_file(dir, "Envfile", text);
	expect_refused(dir, "Envfile", "2:411", "nest deeper than 100 levels");
	free(text);
	rm_rf(dir);
	free(dir);
}

Test(validate_bad, an_unclosed_deep_nesting_is_refused_too)
{
	char *dir = make_temp_dir();
	char *text = nested(200000, "[", "");

	write_file(dir, "Envfile", text);
	expect_refused(dir, "Envfile", "2:111", "nest deeper than 100 levels");
	free(text);
	rm_rf(dir);
	free(dir);
}

Test(validate_bad, every_command_that_reads_the_envfile_refuses_a_bad_one)
{
	char *dir = make_temp_dir();
	struct den_run r;

	write_file(dir, "Envfile", "den: 1\nmachines:\n  web:\n    memroy: 1G\n");
	run_den(&r, dir, NULL, (const char *const[]){ "status", NULL });
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "Envfile:4:5: unknown key 'memroy' in machine 'web'; did you "
				"mean 'memory'?") != NULL,
		  "got: %s", r.err);
	den_run_free(&r);
	rm_rf(dir);
	free(dir);
}

Test(validate_bad, all_problems_are_reported_not_just_the_first)
{
	char *dir = make_temp_dir();
	struct den_run r;

	write_file(dir, "Envfile",
		   "den: 1\nmachines:\n  web:\n    box: den/debian-12\n    cpus: 0\n"
		   "    memory: 1.5G\n    provider: kvmm\n");
	run_den(&r, dir, NULL, (const char *const[]){ "validate", NULL });
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "Envfile:5:11: ") != NULL, "got: %s", r.err);
	cr_expect(strstr(r.err, "Envfile:6:13: ") != NULL, "got: %s", r.err);
	cr_expect(strstr(r.err, "Envfile:7:15: unknown provider 'kvmm'") != NULL, "got: %s", r.err);
	den_run_free(&r);
	rm_rf(dir);
	free(dir);
}
