/* SPDX-License-Identifier: MIT */
#ifndef DEN_TESTS_TESTUTIL_H
#define DEN_TESTS_TESTUTIL_H

/* Helpers shared by den's Criterion suites. */

#include <stddef.h>

/*
 * The exit code of a test that skipped (CMakeLists.txt sets it as every
 * test's SKIP_RETURN_CODE; tests/e2e/lib/assert.sh's t_skip uses it too).
 */
#define DEN_TEST_SKIP 77

struct den_run {
	int status; /* exit code, or 128+signal */
	char *out;  /* stdout, NUL-terminated */
	char *err;  /* stderr, NUL-terminated */
};

/*
 * Runs the den binary under test ($DEN_BIN) with argv (NULL-terminated,
 * without "den"), in dir, with extra environment entries ("K=V", NULL-
 * terminated, may be NULL).
 */
void run_den(struct den_run *r, const char *dir, const char *const *env, const char *const *argv);
void den_run_free(struct den_run *r);

/* A fresh folder under $TMPDIR; removed by rm_rf(). */
char *make_temp_dir(void);
void rm_rf(const char *path);

/* Writes text to dir/name (creating folders on the way). */
void write_file(const char *dir, const char *name, const char *text);

struct envfile;
/*
 * An Envfile of one machine, web (box den/debian-12), whose provision:
 * list is steps (YAML lines indented six spaces), loaded as in project.
 */
struct envfile *load_steps(const char *project, const char *steps);

/* Path of a file in the source tree (static buffer per call site is not kept). */
char *source_path(const char *rel);

#endif
