/* SPDX-License-Identifier: MIT */
/* The order provision steps run in: list order, moved by before/after. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/envfile.h"
#include "provisioners/engine.h"
#include "tests/helpers/testutil.h"

static struct envfile *load(const char *steps)
{
	return load_steps("/tmp", steps);
}

static void expect_order(const char *steps, const char *want)
{
	struct envfile *ef = load(steps);
	struct machine *cfg = envfile_machine(ef, "web");
	const struct prov_step *out[16];
	struct den_err err = { 0 };
	char got[256] = "";

	cr_assert(prov_order(cfg, out, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < cfg->n_steps; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 out[i]->name);
	cr_expect_str_eq(got, want);
	envfile_free(ef);
}

Test(prov_order, list_order_without_constraints)
{
	expect_order("      - shell: { name: a, inline: x }\n"
		     "      - shell: { name: b, inline: x }\n"
		     "      - shell: { name: c, inline: x }\n",
		     "a b c");
}

Test(prov_order, before_and_after_move_steps_and_keep_the_rest_stable)
{
	expect_order("      - shell: { name: a, inline: x }\n"
		     "      - shell: { name: b, inline: x }\n"
		     "      - shell: { name: c, inline: x, before: a }\n"
		     "      - shell: { name: d, inline: x, after: b }\n"
		     "      - shell: { name: e, inline: x }\n",
		     "c a b d e");
	expect_order("      - shell: { name: a, inline: x, after: c }\n"
		     "      - shell: { name: b, inline: x }\n"
		     "      - shell: { name: c, inline: x }\n",
		     "b c a");
}

Test(prov_order, a_cycle_is_an_error_that_says_so)
{
	struct envfile *ef = load("      - shell: { name: a, inline: x, after: b }\n"
				  "      - shell: { name: b, inline: x, after: a }\n");
	const struct prov_step *out[4];
	struct den_err err = { 0 };

	cr_expect(prov_order(envfile_machine(ef, "web"), out, &err) < 0);
	cr_expect(strstr(err.msg, "cycle") != NULL, "%s", err.msg);
	envfile_free(ef);
}

Test(prov_order, chains_stay_next_to_their_anchor)
{
	expect_order("      - shell: { name: x, inline: x }\n"
		     "      - shell: { name: a, inline: x, after: x }\n"
		     "      - shell: { name: b, inline: x, after: a }\n"
		     "      - shell: { name: c, inline: x, after: x }\n"
		     "      - shell: { name: y, inline: x }\n",
		     "x a b c y");
	expect_order("      - shell: { name: x, inline: x }\n"
		     "      - shell: { name: a, inline: x, after: x }\n"
		     "      - shell: { name: p, inline: x, before: a }\n"
		     "      - shell: { name: c, inline: x, after: x }\n",
		     "x p a c");
}
