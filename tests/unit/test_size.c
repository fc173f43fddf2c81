/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "core/size.h"

static uint64_t parse(const char *s, uint64_t bare)
{
	uint64_t v = 0;
	const char *why = NULL;

	cr_assert(den_size_parse(s, bare, &v, &why) == 0, "'%s' refused: %s", s, why);
	return v;
}

static const char *refuse(const char *s)
{
	uint64_t v;
	const char *why = NULL;

	cr_assert(den_size_parse(s, DEN_MIB, &v, &why) < 0, "'%s' accepted as %lu", s,
		  (unsigned long)v);
	cr_assert_not_null(why);
	return why;
}

Test(size, units_are_powers_of_1024_however_spelled)
{
	cr_expect_eq(parse("1G", DEN_MIB), DEN_GIB);
	cr_expect_eq(parse("1g", DEN_MIB), DEN_GIB);
	cr_expect_eq(parse("1GB", DEN_MIB), DEN_GIB);
	cr_expect_eq(parse("1GiB", DEN_MIB), DEN_GIB);
	cr_expect_eq(parse("512M", DEN_MIB), 512 * DEN_MIB);
	cr_expect_eq(parse("1536MiB", DEN_MIB), 1536 * DEN_MIB);
	cr_expect_eq(parse("64K", DEN_MIB), 64 * DEN_KIB);
	cr_expect_eq(parse("2T", DEN_MIB), 2 * DEN_TIB);
	cr_expect_eq(parse("100B", DEN_MIB), 100);
	cr_expect_eq(parse("4 G", DEN_MIB), 4 * DEN_GIB);
}

Test(size, a_bare_number_takes_the_default_unit)
{
	cr_expect_eq(parse("1024", DEN_MIB), DEN_GIB, "memory: 1024 is MiB, as in Vagrant");
	cr_expect_eq(parse("7", 1), 7);
}

Test(size, bad_sizes_say_what_was_expected)
{
	cr_expect(strstr(refuse("1.5G"), "1536M"));
	cr_expect(strstr(refuse("2X"), "unknown unit"));
	cr_expect(strstr(refuse(""), "expected a size"));
	cr_expect(strstr(refuse("G"), "expected a size"));
	cr_expect(strstr(refuse("-1G"), "expected a size"));
	cr_expect(strstr(refuse("99999999999999999999"), "too large"));
	cr_expect(strstr(refuse("17179869184T"), "too large"), "2^64 bytes overflows");
}

Test(size, format_picks_the_largest_exact_unit)
{
	char buf[32];

	den_size_format(DEN_GIB, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1G");
	den_size_format(1536 * DEN_MIB, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1536M");
	den_size_format(3 * DEN_TIB, buf, sizeof(buf));
	cr_expect_str_eq(buf, "3T");
	den_size_format(1000, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1000B");
	den_size_format(0, buf, sizeof(buf));
	cr_expect_str_eq(buf, "0B");
}

Test(size, u64_is_strict)
{
	uint64_t v;

	cr_expect(den_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
	cr_expect(!den_parse_u64("18446744073709551616", &v));
	cr_expect(!den_parse_u64("", &v));
	cr_expect(!den_parse_u64("+1", &v));
	cr_expect(!den_parse_u64(" 1", &v));
	cr_expect(!den_parse_u64("0x10", &v));
}
