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

#include <stdio.h>
#include <stdlib.h>

int cmd_rsync(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	struct machine **sel = NULL;
	size_t n = 0;
	int rc = 0;

	if (cmd_select(ctx, argv + 1, (size_t)argc - 1, false, &sel, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct den_machine dm;
		enum machine_state st = MACHINE_NOT_CREATED;
		const struct provider_ops *ops;

		if (machine_open(ctx->root, sel[i], &dm, err) < 0) {
			rc = -1;
			break;
		}
		ops = cmd_machine_ops(&dm);
		if (dm.exists && ops != NULL && ops->state(&dm, &st, err) < 0)
			rc = -1;
		else if (dm.exists && ops != NULL && st == MACHINE_RUNNING)
			rc = provider_rsync_folders(ops, &dm, err);
		else
			den_info("%s is %s: nothing to sync", sel[i]->name,
				 machine_state_name(dm.exists ? st : MACHINE_NOT_CREATED));
		machine_close(&dm);
	}
	free(sel);
	return rc;
}
