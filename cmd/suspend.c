/* SPDX-License-Identifier: MIT */
/*
 * `den suspend [MACHINE...]`, `den resume [MACHINE...]` and `den snapshot
 * save|restore|list|delete [MACHINE] [NAME]` (Vagrant's syntax): what a
 * provider that keeps a machine's memory can do (the qemu provider, over
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

/* The machine's provider, or an error saying it is not created. */
static const struct provider_ops *created(struct den_machine *dm, struct den_err *err)
{
	const struct provider_ops *ops = cmd_machine_ops(dm);

	if (!dm->exists) {
		den_err_set(err, 0, "%s is not created: `den up %s` first", dm->cfg->name,
			    dm->cfg->name);
		return NULL;
	}
	if (ops == NULL)
		den_err_set(err, 0, "machine %s was made by provider %s, which this den lacks",
			    dm->cfg->name, dm->rec.provider ? dm->rec.provider : "?");
	return ops;
}

static int unsupported(const struct provider_ops *ops, const char *what, struct den_err *err)
{
	return den_err_set(err, 0, "the %s provider cannot %s (the qemu provider can)", ops->name,
			   what);
}

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
		if ((ops = created(&dm, err)) == NULL)
			rc = -1;
		else if ((suspend ? ops->suspend : ops->resume) == NULL)
			rc = unsupported(ops, suspend ? "suspend machines" : "resume machines",
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

static int snapshot_one(const struct provider_ops *ops, struct den_machine *dm, const char *verb,
			const char *name, struct den_err *err)
{
	if (strcmp(verb, "list") == 0) {
		cleanup_free char *names = NULL;
		if (ops->snapshot_list == NULL)
			return unsupported(ops, "list snapshots", err);
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
		return unsupported(ops, "keep snapshots", err);
	if (strcmp(verb, "save") == 0)
		den_info("%s: saving snapshot %s (disk and memory)", dm->cfg->name, name);
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
	const struct machine *m;
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
	if (cmd_one_machine(ctx, machine, &m, err) < 0 || machine_open(ctx->root, m, &dm, err) < 0)
		return -1;
	int rc = (ops = created(&dm, err)) == NULL ? -1 : snapshot_one(ops, &dm, verb, name, err);
	machine_close(&dm);
	return rc;
}
