/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "core/suggest.h"

static const char *const keys[] = { "memory",	 "cpus",     "box",	 "box_version",
				    "provision", "provider", "hostname", NULL };

Test(suggest, a_swap_is_one_edit)
{
	cr_expect_eq(suggest_distance("memroy", "memory"), 1);
	cr_expect_eq(suggest_distance("memory", "memory"), 0);
	cr_expect_eq(suggest_distance("MEMORY", "memory"), 0, "case does not count");
	cr_expect_eq(suggest_distance("", "abc"), 3);
	cr_expect_eq(suggest_distance("kitten", "sitting"), 3);
}

Test(suggest, typos_find_the_key_meant)
{
	cr_expect_str_eq(suggest_nearest("memroy", keys), "memory");
	cr_expect_str_eq(suggest_nearest("cpu", keys), "cpus");
	cr_expect_str_eq(suggest_nearest("provison", keys), "provision");
	cr_expect_str_eq(suggest_nearest("box_verison", keys), "box_version");
	cr_expect_str_eq(suggest_nearest("hostnme", keys), "hostname");
}

Test(suggest, unrelated_words_get_no_suggestion)
{
	cr_expect_null(suggest_nearest("virtualbox", keys));
	cr_expect_null(suggest_nearest("x", keys));
	cr_expect_null(
		suggest_nearest(
			"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
			keys),
		"overlong words are compared safely");
}
