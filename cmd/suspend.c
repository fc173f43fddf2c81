/* SPDX-License-Identifier: MIT */
/*
 * `den suspend [MACHINE...]` and `den resume [MACHINE...]`: pause machines
 * with their memory kept, and continue them (the qemu provider, over
 * QMP). Providers that cannot say so.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_usage cmd_usage_suspend = {
	.path = "suspend",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
};

const struct cmd_usage cmd_usage_resume = {
	.path = "resume",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
};

/* arg: non-NULL to suspend, NULL to resume. */
static int pause_or_go(struct den_machine *dm, void *arg, struct den_err *err)
{
	bool suspend = arg != NULL;
	const struct provider_ops *ops = cmd_created_ops(dm, err);

	if (ops == NULL)
		return -1;
	int (*op)(struct den_machine *, struct den_err *) = suspend ? ops->suspend : ops->resume;
	if (op == NULL)
		return cmd_unsupported(ops, suspend ? "suspend machines" : "resume machines", err);
	if (op(dm, err) < 0)
		return -1;
	den_info("%s %s", dm->cfg->name, suspend ? "suspended" : "resumed");
	return 0;
}

int cmd_suspend(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	return cmd_each_machine(ctx, argv + 1, (size_t)argc - 1, pause_or_go, "suspend", err);
}

int cmd_resume(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	return cmd_each_machine(ctx, argv + 1, (size_t)argc - 1, pause_or_go, NULL, err);
}
