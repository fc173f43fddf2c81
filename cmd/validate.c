/* SPDX-License-Identifier: MIT */
/*
 * `den validate`: main has already read and checked the Envfile
 * (NEED_ENVFILE), so reaching here means it is valid. Says so, or prints
 * the machines as den sees them with --json.
 */
#include "cmd/cmd.h"
#include "core/envfile_dump.h"

#include <stdio.h>

const struct cmd_usage cmd_usage_validate = {
	.path = "validate",
};

int cmd_validate(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	if (argc > 1)
		return den_err_usage(err, "`den validate` takes no arguments, got '%s'", argv[1]);
	if (ctx->json)
		return cmd_print_json(envfile_to_json(ctx->ef), err);
	if (den_log_level() == DEN_LOG_QUIET)
		return 0;
	printf("%s is valid: %zu machine%s (", ctx->ef->path, ctx->ef->n_machines,
	       ctx->ef->n_machines == 1 ? "" : "s");
	for (size_t i = 0; i < ctx->ef->n_machines; i++) {
		if (i == 8) {
			printf(", ...");
			break;
		}
		printf("%s%s", i ? ", " : "", ctx->ef->machines[i].name);
	}
	printf(")\n");
	return 0;
}
