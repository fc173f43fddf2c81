/* SPDX-License-Identifier: MIT */
/*
 * `den reload [MACHINE...] [--provision] [--provision-with NAME,...]`:
 * halt, then up again; the provisioning options go to up.
 */
#include "cmd/cmd.h"
#include "core/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_usage cmd_usage_reload = {
	.path = "reload",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
	.opts = {
		CMD_OPT("provision", 0, CMD_VALUE_NONE, NULL,
			"run every provisioner step after, not only run: always ones"),
		CMD_OPT("provision-with", 0, CMD_VALUE_STEP, "NAME,...",
			"run exactly the provisioner steps named after"),
	},
};

int cmd_reload(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	/* Each argument goes to at most one slot of each: argc slots and the NULL. */
	cleanup_free char **args = calloc((size_t)argc + 1, sizeof(*args));
	cleanup_free char **up_args = calloc((size_t)argc + 1, sizeof(*up_args));
	int n = 0, n_up = 0;

	if (args == NULL || up_args == NULL)
		return den_err_set(err, ENOMEM, "den reload");
	args[n++] = "halt";
	up_args[n_up++] = "up";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--provision") == 0 ||
		    strncmp(argv[i], "--provision-with", 16) == 0) {
			up_args[n_up++] = argv[i];
			if (strcmp(argv[i], "--provision-with") == 0 && i + 1 < argc)
				up_args[n_up++] = argv[++i];
		} else if (argv[i][0] == '-') {
			return den_err_usage(err, "unknown option '%s' for `den reload`", argv[i]);
		} else {
			args[n++] = argv[i];
			up_args[n_up++] = argv[i];
		}
	}
	args[n] = NULL;
	up_args[n_up] = NULL;
	if (cmd_halt(n, args, ctx, err) < 0)
		return -1;
	return cmd_up(n_up, up_args, ctx, err);
}
