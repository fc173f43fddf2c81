/* SPDX-License-Identifier: MIT */
/*
 * main() for every Criterion suite (linked in by CMakeLists.txt instead of
 * Criterion's own): the same run, but a suite in which some test skipped
 * and none failed exits DEN_TEST_SKIP (77, ctest's SKIP_RETURN_CODE), so
 * ctest shows it as "***Skipped" instead of "Passed". Each skip prints one
 * line, "skipped: SUITE/TEST: REASON", which scripts/ctest.sh shows after
 * the run.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <string.h>

#include "tests/helpers/testutil.h"

static size_t skipped;

/* Runs in the runner process, after each test's worker has reported. */
ReportHook(POST_TEST)(struct criterion_test_stats *stats)
{
	if (stats->test_status != CR_STATUS_SKIPPED)
		return;
	skipped++;
	printf("skipped: %s/%s: %s\n", stats->test->category, stats->test->name,
	       stats->message && stats->message[0] ? stats->message : "(no reason given)");
	fflush(stdout);
}

int main(int argc, char *argv[])
{
	struct criterion_test_set *tests = criterion_initialize();
	int ran = 0, ok = 1;

	/* As Criterion's own main: 0 from the arguments means --help, --list and the like. */
	if (criterion_handle_args(argc, argv, true)) {
		ran = 1;
		ok = criterion_run_all_tests(tests);
	}
	criterion_finalize(tests);
	if (!ok)
		return 1;
	return ran && skipped > 0 ? DEN_TEST_SKIP : 0;
}
