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

const struct cmd_usage cmd_usage_halt = {
	.path = "halt",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
	.opts = { CMD_OPT("force", 'f', CMD_VALUE_NONE, NULL,
			  "stop them at once, not gracefully") },
};

const struct cmd_usage cmd_usage_destroy = {
	.path = "destroy",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
	.opts = { CMD_OPT("force", 'f', CMD_VALUE_NONE, NULL,
			  "stop them at once before deleting, not gracefully") },
};

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

struct halt_job {
	struct den_ctx *ctx;
	struct machine **sel;
	bool destroy, force;
};

/* Halts or destroys machine i of the selection. */
static int halt_one(void *arg, size_t i, struct den_err *err)
{
	struct halt_job *j = arg;
	const struct machine *cfg = j->sel[i];
	struct den_machine dm;
	const struct provider_ops *ops;
	enum machine_state st = MACHINE_NOT_CREATED;
	int rc = 0;

	if (machine_open(j->ctx->root, cfg, &dm, err) < 0) {
		/* A damaged state.json: destroy still cleans up. */
		if (!j->destroy)
			return -1;
		den_err_clear(err);
	}
	if (!dm.exists && !j->destroy) {
		den_info("%s is not created", cfg->name);
	} else if ((ops = made_by(&dm, err)) == NULL) {
		rc = -1;
	} else if (j->destroy) {
		rc = ops->destroy(&dm, err);
		if (rc == 0)
			den_info("%s destroyed", cfg->name);
	} else if (ops->state(&dm, &st, err) == 0 && st != MACHINE_RUNNING &&
		   st != MACHINE_SUSPENDED) {
		den_info("%s is %s", cfg->name, machine_state_name(st));
		if (st == MACHINE_ABORTED)
			rc = ops->halt(&dm, true, err);
	} else {
		den_info("%s: %s", cfg->name, j->force ? "stopping at once" : "halting");
		rc = ops->halt(&dm, j->force, err);
		if (rc == 0)
			den_info("%s halted", cfg->name);
	}
	machine_close(&dm);
	return rc;
}

/* Each selected machine halted or destroyed, side by side unless --no-parallel. */
static int each(struct den_ctx *ctx, int argc, char **argv, bool destroy, bool force,
		struct den_err *err)
{
	struct machine **sel = NULL;
	size_t n = 0;

	if (cmd_select(ctx, argv + optind, (size_t)(argc - optind), false, &sel, &n, err) < 0)
		return -1;
	struct halt_job j = { ctx, sel, destroy, force };
	int rc = cmd_run_machines(ctx, sel, n, halt_one, &j, NULL, err);
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
