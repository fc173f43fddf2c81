/* SPDX-License-Identifier: MIT */
/*
 * `den rsync [MACHINE...]`: rsync synced folders copied into running
 * machines again (providers/sync.c does the copying; `den up` and `den
 * reload` run it once SSH answers).
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/log.h"
#include "providers/provider.h"

const struct cmd_usage cmd_usage_rsync = {
	.path = "rsync",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
};

static int sync_machine(struct den_machine *dm, void *arg, struct den_err *err)
{
	const struct provider_ops *ops = cmd_machine_ops(dm);
	enum machine_state st = MACHINE_NOT_CREATED;

	(void)arg;
	if (dm->exists && ops != NULL && ops->state(dm, &st, err) < 0)
		return -1;
	if (dm->exists && ops != NULL && st == MACHINE_RUNNING)
		return provider_rsync_folders(ops, dm, err);
	den_info("%s is %s: nothing to sync", dm->cfg->name, machine_state_name(st));
	return 0;
}

int cmd_rsync(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	return cmd_each_machine(ctx, argv + 1, (size_t)argc - 1, sync_machine, NULL, err);
}
