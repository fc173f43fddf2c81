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

static int pause_or_go(struct den_ctx *ctx, int argc, char **argv, bool suspend,
		       struct den_err *err)
{
	struct machine **sel = NULL;
	size_t n = 0;
	int rc = 0;

	if (cmd_select(ctx, argv + 1, (size_t)argc - 1, false, &sel, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct den_machine dm;
		const struct provider_ops *ops;

		if (machine_open(ctx->root, sel[i], &dm, err) < 0) {
			rc = -1;
			break;
		}
		if ((ops = cmd_created_ops(&dm, err)) == NULL)
			rc = -1;
		else if ((suspend ? ops->suspend : ops->resume) == NULL)
			rc = cmd_unsupported(ops, suspend ? "suspend machines" : "resume machines",
					     err);
		else if ((rc = (suspend ? ops->suspend : ops->resume)(&dm, err)) == 0)
			den_info("%s %s", sel[i]->name, suspend ? "suspended" : "resumed");
		machine_close(&dm);
	}
	free(sel);
	return rc;
}

int cmd_suspend(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	return pause_or_go(ctx, argc, argv, true, err);
}

int cmd_resume(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	return pause_or_go(ctx, argc, argv, false, err);
}
