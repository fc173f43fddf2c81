/* SPDX-License-Identifier: MIT */
/*
 * `den halt [MACHINE...] [-f]` and `den destroy [MACHINE...] [-f]`: stop
 * machines (gracefully within graceful_halt_timeout, or at once), or stop
 * them and remove everything den keeps for them.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "providers/provider.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int parse(int argc, char **argv, const char *cmd, bool *force, struct den_err *err)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { NULL, 0, NULL, 0 } };
	int c;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return den_err_usage(err, "unknown option '%s' for `den %s`",
					     argv[optind - 1], cmd);
		*force = true;
	}
	return 0;
}

/* The provider that made the machine, from its state.json. */
static const struct provider_ops *made_by(const struct den_machine *dm, struct den_err *err)
{
	const struct provider_ops *ops = cmd_machine_ops(dm);

	if (ops == NULL)
		den_err_set(err, 0, "machine %s was made by provider %s, which this den lacks",
			    dm->cfg->name, dm->rec.provider ? dm->rec.provider : "?");
	return ops;
}

static int each(struct den_ctx *ctx, int argc, char **argv, bool destroy, bool force,
		struct den_err *err)
{
	struct machine **sel = NULL;
	size_t n = 0;
	int rc = 0;

	if (cmd_select(ctx, argv + optind, (size_t)(argc - optind), false, &sel, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct den_machine dm;
		const struct provider_ops *ops;
		enum machine_state st = MACHINE_NOT_CREATED;

		if (machine_open(ctx->root, sel[i], &dm, err) < 0) {
			/* A damaged state.json: destroy still cleans up. */
			if (!destroy)
				rc = -1;
			else
				den_err_clear(err);
		}
		if (!dm.exists && !destroy) {
			den_info("%s is not created", sel[i]->name);
		} else if ((ops = made_by(&dm, err)) == NULL) {
			rc = -1;
		} else if (destroy) {
			rc = ops->destroy(&dm, err);
			if (rc == 0)
				den_info("%s destroyed", sel[i]->name);
		} else if (ops->state(&dm, &st, err) == 0 && st != MACHINE_RUNNING &&
			   st != MACHINE_SUSPENDED) {
			den_info("%s is %s", sel[i]->name, machine_state_name(st));
			if (st == MACHINE_ABORTED)
				rc = ops->halt(&dm, true, err);
		} else {
			den_info("%s: %s", sel[i]->name, force ? "stopping at once" : "halting");
			rc = ops->halt(&dm, force, err);
			if (rc == 0)
				den_info("%s halted", sel[i]->name);
		}
		machine_close(&dm);
	}
	free(sel);
	return rc;
}

int cmd_halt(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	bool force = false;

	if (parse(argc, argv, "halt", &force, err) < 0)
		return -1;
	return each(ctx, argc, argv, false, force, err);
}

int cmd_destroy(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	bool force = false;

	if (parse(argc, argv, "destroy", &force, err) < 0)
		return -1;
	return each(ctx, argc, argv, true, force, err);
}
