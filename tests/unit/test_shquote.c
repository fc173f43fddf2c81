/* SPDX-License-Identifier: MIT */
/*
 * shell_quote: what den puts on a command line that a shell in the machine
 * reads (provisioner args, env values, paths) must arrive as one argument,
 * byte for byte. Checked by handing the quoted text to a real /bin/sh.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/shquote.h"
#include "tests/helpers/testutil.h"

/* Strings a user (or a hostile Envfile) can hand den. */
static const char *const nasty[] = {
	"plain",
	"",
	"two words",
	"it's",
	"''",
	"'",
	"\"double\" quotes",
	"$HOME and ${HOME} and $(id -u) and `id -u`",
	"semi; colon && and || pipe | amp &",
	"glob * ? [a-z] ~ ~root",
	"line one\nline two\n",
	"\n",
	"tab\there",
	"back\\slash\\",
	"-n",
	"--option=value",
	"#not a comment",
	"trailing space ",
	"caf\xc3\xa9 \xe2\x9c\x93", /* UTF-8 */
	"\x01\x7f\xff",		    /* control and high bytes */
	"!history !! !$",
	"a'b'c'd",
	"'\\''",
};

#define N_NASTY (sizeof(nasty) / sizeof(nasty[0]))

/* stdout of /bin/sh -c script, whole, NULs included; *len gets its length. */
static char *sh_output(const char *script, size_t *len)
{
	char *out = NULL;
	size_t n = 0;
	FILE *mem = open_memstream(&out, &n);
	int c;

	cr_assert_not_null(mem);
	/* popen runs its command with /bin/sh -c: the command is the script itself. */
	FILE *p = popen(script, "r");
	cr_assert_not_null(p, "popen: %s", script);
	while ((c = fgetc(p)) != EOF)
		fputc(c, mem);
	cr_assert_eq(pclose(p), 0, "/bin/sh failed on: %s", script);
	fclose(mem);
	if (len != NULL)
		*len = n;
	return out;
}

Test(shquote, the_shape_is_single_quotes_with_quotes_spliced_in)
{
	cleanup_free char *a = shell_quote("it's"), *b = shell_quote(""), *c = shell_quote("x");

	cr_expect_str_eq(a, "'it'\\''s'");
	cr_expect_str_eq(b, "''", "an empty string is still one (empty) argument");
	cr_expect_str_eq(c, "'x'");
}

Test(shquote, every_string_comes_back_byte_for_byte_through_sh)
{
	for (size_t i = 0; i < N_NASTY; i++) {
		cleanup_free char *q = shell_quote(nasty[i]), *script = NULL, *out = NULL;

		cr_assert_not_null(q);
		cr_assert(asprintf(&script, "printf %%s %s", q) > 0);
		out = sh_output(script, NULL);
		cr_expect_str_eq(out, nasty[i], "case %zu: %s", i, script);
	}
}

Test(shquote, each_quoted_string_is_exactly_one_argument)
{
	cleanup_free char *script = NULL, *out = NULL;
	size_t len = 0, n = 0;
	FILE *s = open_memstream(&script, &len);

	/* set -- Q1 Q2 ...: then the count, and each argument as sh sees it, ended by a NUL. */
	fputs("set --", s);
	for (size_t i = 0; i < N_NASTY; i++) {
		cleanup_free char *q = shell_quote(nasty[i]);
		fprintf(s, " %s", q);
	}
	fputs("; echo $#; for a in \"$@\"; do printf '%s\\000' \"$a\"; done", s);
	fclose(s);
	out = sh_output(script, &len);
	cr_assert_eq(strtoul(out, NULL, 10), N_NASTY, "sh saw %s arguments", out);
	const char *p = strchr(out, '\n') + 1, *end = out + len;
	for (; p < end && n < N_NASTY; n++) {
		cr_expect_str_eq(p, nasty[n], "argument %zu was split, cut or changed", n);
		p += strlen(p) + 1;
	}
	cr_expect_eq(n, N_NASTY);
	cr_expect_eq(p, end, "nothing after the last argument");
}

Test(shquote, command_substitution_in_a_value_never_runs)
{
	char *dir = make_temp_dir(), marker[4096];
	cleanup_free char *q = NULL, *script = NULL, *out = NULL, *value = NULL;

	snprintf(marker, sizeof(marker), "%s/ran", dir);
	cr_assert(asprintf(&value, "$(touch %s)`touch %s`; touch %s\ntouch %s", marker, marker,
			   marker, marker) > 0);
	q = shell_quote(value);
	cr_assert(asprintf(&script, "echo %s >/dev/null", q) > 0);
	out = sh_output(script, NULL);
	cr_expect_neq(access(marker, F_OK), 0, "the value ran as a command: %s", script);
	rm_rf(dir);
	free(dir);
}
