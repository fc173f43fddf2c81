/* SPDX-License-Identifier: MIT */
/*
 * The rule of every provider's destroy (providers/provider.h): a halt
 * that fails while the machine may still run removes nothing; one that
 * stopped it but could not record so goes on; a good halt removes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "providers/provider.h"

static int halts, removes;
static bool halt_fails;
static enum machine_state after;

static int halt(struct den_machine *dm, bool force, struct den_err *err)
{
	(void)dm;
	cr_expect(force, "destroy halts by force");
	halts++;
	return halt_fails ? den_err_set(err, 28, "cannot write state.json") : 0;
}

static int state(struct den_machine *dm, enum machine_state *out, struct den_err *err)
{
	(void)dm, (void)err;
	*out = after;
	return 0;
}

static int remove_dir(const char *dir, struct den_err *err)
{
	(void)dir, (void)err;
	removes++;
	return 0;
}

static int destroy(bool fails, enum machine_state st, struct den_err *err)
{
	static const struct machine cfg = { .name = "web" };
	struct den_machine dm = { .cfg = &cfg, .dir = (char *)"/nonexistent", .exists = true };

	halts = removes = 0;
	halt_fails = fails;
	after = st;
	return provider_destroy(&dm, halt, state, remove_dir, err);
}

Test(provider_destroy, a_good_halt_then_the_files_go)
{
	struct den_err err = { 0 };

	cr_expect_eq(destroy(false, MACHINE_STOPPED, &err), 0, "%s", err.msg);
	cr_expect_eq(halts, 1);
	cr_expect_eq(removes, 1);
}

Test(provider_destroy, a_failed_halt_of_a_machine_that_may_run_removes_nothing)
{
	enum machine_state running[] = { MACHINE_RUNNING, MACHINE_SUSPENDED, MACHINE_UNKNOWN };

	for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++) {
		struct den_err err = { 0 };
		cr_expect_lt(destroy(true, running[i], &err), 0);
		cr_expect_eq(removes, 0, "state %d: nothing removed", running[i]);
		cr_expect(strstr(err.msg, "cannot destroy it") != NULL, "%s", err.msg);
	}
}

Test(provider_destroy, a_halt_that_stopped_it_but_could_not_record_goes_on)
{
	struct den_err err = { 0 };

	cr_expect_eq(destroy(true, MACHINE_ABORTED, &err), 0, "%s", err.msg);
	cr_expect_eq(removes, 1, "a full disk does not keep a destroy from freeing it");
	cr_expect(!den_err_is_set(&err));
}
