/* SPDX-License-Identifier: MIT */
/*
 * `den snapshot save|restore|delete [MACHINE] NAME` and `den snapshot list
 * [MACHINE]` (Vagrant's syntax): named snapshots of a machine, disk and
 * memory (the qemu provider, inside its qcow2). Providers that cannot
 * say so.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_usage cmd_usage_snapshot = {
	.path = "snapshot",
	.subcommands = "save restore list delete",
};

const struct cmd_usage cmd_usage_snapshot_save = {
	.path = "snapshot save",
	.operands = { CMD_VALUE_MACHINE, CMD_VALUE_WORD },
};

const struct cmd_usage cmd_usage_snapshot_restore = {
	.path = "snapshot restore",
	.operands = { CMD_VALUE_MACHINE, CMD_VALUE_SNAPSHOT },
};

const struct cmd_usage cmd_usage_snapshot_list = {
	.path = "snapshot list",
	.operands = { CMD_VALUE_MACHINE },
};

const struct cmd_usage cmd_usage_snapshot_delete = {
	.path = "snapshot delete",
	.operands = { CMD_VALUE_MACHINE, CMD_VALUE_SNAPSHOT },
};

static int snapshot_one(const struct provider_ops *ops, struct den_machine *dm, const char *verb,
			const char *name, struct den_err *err)
{
	if (strcmp(verb, "list") == 0) {
		cleanup_free char *names = NULL;
		if (ops->snapshot_list == NULL)
			return cmd_unsupported(ops, "list snapshots", err);
		if (ops->snapshot_list(dm, &names, err) < 0)
			return -1;
		if (names[0] == '\0')
			den_info("%s has no snapshots", dm->cfg->name);
		fputs(names, stdout);
		return 0;
	}
	int (*op)(struct den_machine *, const char *, struct den_err *) =
		strcmp(verb, "save") == 0      ? ops->snapshot_save
		: strcmp(verb, "restore") == 0 ? ops->snapshot_restore
					       : ops->snapshot_delete;
	if (op == NULL)
		return cmd_unsupported(ops, "keep snapshots", err);
	if (strcmp(verb, "save") == 0)
		den_info("%s: saving snapshot %s (%s)", dm->cfg->name, name,
			 ops->snapshot_keeps ? ops->snapshot_keeps : "disk and memory");
	if (op(dm, name, err) < 0)
		return -1;
	den_info("%s: snapshot %s %s", dm->cfg->name, name,
		 strcmp(verb, "save") == 0	? "saved"
		 : strcmp(verb, "restore") == 0 ? "restored"
						: "deleted");
	return 0;
}

int cmd_snapshot(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const char usage[] = "usage: den snapshot save|restore|delete [MACHINE] NAME, "
				    "or den snapshot list [MACHINE]";
	const struct machine *cfg;
	struct den_machine dm;
	const struct provider_ops *ops;
	const char *verb = argc > 1 ? argv[1] : "", *machine = NULL, *name = NULL;
	bool list = strcmp(verb, "list") == 0;

	if (!list && strcmp(verb, "save") != 0 && strcmp(verb, "restore") != 0 &&
	    strcmp(verb, "delete") != 0)
		return den_err_usage(err, usage);
	if (list && argc > 3)
		return den_err_usage(err, usage);
	if (list) {
		machine = argc == 3 ? argv[2] : NULL;
	} else if (argc == 3) {
		name = argv[2]; /* the primary (or only) machine */
	} else if (argc == 4) {
		machine = argv[2];
		name = argv[3];
	} else {
		return den_err_usage(err, usage);
	}
	if (cmd_one_machine(ctx, machine, &cfg, err) < 0 ||
	    machine_open(ctx->root, cfg, &dm, err) < 0)
		return -1;
	int rc = (ops = cmd_created_ops(&dm, err)) == NULL
			 ? -1
			 : snapshot_one(ops, &dm, verb, name, err);
	machine_close(&dm);
	return rc;
}
