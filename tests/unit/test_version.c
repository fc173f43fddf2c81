/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "core/version.h"

static struct den_version ver(const char *s)
{
	struct den_version v;
	const char *why = NULL;

	cr_assert(den_version_parse(s, &v, &why) == 0, "'%s': %s", s, why);
	return v;
}

static bool allows(const char *constraint, const char *version)
{
	struct den_constraints c;
	const char *why = NULL;
	struct den_version v = ver(version);

	cr_assert(den_constraints_parse(constraint, &c, &why) == 0, "'%s': %s", constraint, why);
	return den_constraints_match(&c, &v);
}

static const char *refuse(const char *constraint)
{
	struct den_constraints c;
	const char *why = NULL;

	cr_assert(den_constraints_parse(constraint, &c, &why) < 0, "'%s' accepted", constraint);
	return why;
}

Test(box_version, parts_compare_as_numbers_and_missing_parts_are_zero)
{
	struct den_version a = ver("1.10.0"), b = ver("1.9.9"), c = ver("1.10");

	cr_expect_gt(den_version_cmp(&a, &b), 0, "10 > 9 as numbers, not text");
	cr_expect_eq(den_version_cmp(&a, &c), 0);
	cr_expect_lt(den_version_cmp(&b, &c), 0);
}

Test(box_version, equal_and_not_equal)
{
	cr_expect(allows("1.2.3", "1.2.3"), "a bare version means =");
	cr_expect(allows("= 1.2", "1.2.0"));
	cr_expect(!allows("=1.2.3", "1.2.4"));
	cr_expect(allows("!= 1.2.3", "1.2.4"));
	cr_expect(!allows("!=1.2.3", "1.2.3"));
}

Test(box_version, ordering_operators)
{
	cr_expect(allows("> 1.0", "1.0.1"));
	cr_expect(!allows("> 1.0", "1.0"));
	cr_expect(allows(">= 1.0", "1.0"));
	cr_expect(allows("< 2", "1.99"));
	cr_expect(!allows("< 2", "2.0.0"));
	cr_expect(allows("<= 2", "2.0.0"));
	cr_expect(!allows("<=2", "2.0.1"));
}

Test(box_version, tilde_greater_matches_minor)
{
	cr_expect(allows("~> 1.2", "1.2"));
	cr_expect(allows("~> 1.2", "1.9.7"));
	cr_expect(!allows("~> 1.2", "2.0"));
	cr_expect(!allows("~> 1.2", "1.1.9"));
	cr_expect(allows("~> 1.2.3", "1.2.9"));
	cr_expect(!allows("~> 1.2.3", "1.3.0"));
	cr_expect(!allows("~> 1.2.3", "1.2.2"));
	cr_expect(allows("~> 1", "1.5"));
	cr_expect(!allows("~> 1", "2.0"));
}

Test(box_version, commas_join_constraints_that_must_all_hold)
{
	cr_expect(allows(">= 1.0, < 1.5, != 1.2", "1.3"));
	cr_expect(!allows(">= 1.0, < 1.5, != 1.2", "1.2"));
	cr_expect(!allows(">= 1.0, < 1.5", "1.5"));
}

Test(box_version, bad_constraints_say_what_is_expected)
{
	cr_expect(strstr(refuse("^1.0"), "operator"));
	cr_expect(strstr(refuse(">= 1.0,"), "empty constraint"));
	cr_expect(strstr(refuse("1.x"), "numbers and dots"));
	cr_expect(strstr(refuse(">= 99999999999999999999999"), "too large"));
	cr_expect(strstr(refuse("1.2.3.4.5.6.7.8.9"), "at most 8"));
	refuse("");
	refuse("1..2");
}
