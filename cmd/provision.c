/* SPDX-License-Identifier: MIT */
/*
 * `den provision [MACHINE...] [--provision-with NAME,...]`: runs the
 * provisioners on running machines (every step but run: never, or exactly
 * the named ones). The provisioning that `den up` and `den reload
 * --provision` do goes through here too.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/ssh.h"
#include "providers/provider.h"
#include "provisioners/engine.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_usage cmd_usage_provision = {
	.path = "provision",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
	.opts = { CMD_OPT("provision-with", 0, CMD_VALUE_STEP, "NAME,...",
			  "run exactly the provisioner steps named") },
};

/* shell `reboot: true`: halt gracefully, start again (SSH is the engine's to wait for). */
static int restart(struct den_machine *dm, void *arg, struct den_err *err)
{
	struct den_ctx *ctx = arg;
	const struct provider_ops *ops = cmd_machine_ops(dm);

	if (ops == NULL || ops->halt(dm, false, err) < 0)
		return den_err_is_set(err)
			       ? -1
			       : den_err_set(err, 0, "cannot restart %s", dm->cfg->name);
	return cmd_start_machine(ctx, dm, ops->name, NULL, err);
}

/* The engine's way in: den's key, the host key den gave the machine. */
static int connect_machine(struct den_machine *dm, bool wait, struct den_ssh **out, void *arg,
			   struct den_err *err)
{
	const struct provider_ops *ops = cmd_machine_ops(dm);

	(void)arg;
	if (ops == NULL)
		return den_err_set(err, 0, "machine %s: its provider is not in this den",
				   dm->cfg->name);
	return wait ? provider_ssh_wait(ops, dm, out, err)
		    : provider_ssh_open(ops, dm, 10, out, err);
}

int cmd_provision_targets(struct den_ctx *ctx, struct prov_target *t, size_t n, enum prov_when when,
			  const char *with, struct den_err *err)
{
	cleanup_free char *list = with ? strdup(with) : NULL;
	cleanup_free char **names = NULL;
	struct prov_request req = { .when = when,
				    .color = ctx->color,
				    .connect = connect_machine,
				    .restart = restart,
				    .arg = ctx };

	if (with != NULL) {
		/* At most one name more than there are commas. */
		size_t most = 1;
		for (const char *c = with; *c != '\0'; c++)
			most += *c == ',';
		names = calloc(most, sizeof(*names));
		if (list == NULL || names == NULL)
			return den_err_set(err, ENOMEM, "--provision-with");
		for (char *s = strtok(list, ","); s != NULL && req.n_with < most;
		     s = strtok(NULL, ","))
			names[req.n_with++] = s;
		if (req.n_with == 0)
			return den_err_usage(err,
					     "--provision-with takes step names, comma-separated");
		req.with = names;
	}
	return provision_machines(ctx->ef, t, n, &req, err);
}

int cmd_provision(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "provision-with", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *with = NULL;
	struct machine **sel = NULL;
	size_t n = 0, k = 0;
	int c, rc = 0;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'w')
			return den_err_usage(err, "unknown option '%s' for `den provision`",
					     argv[optind - 1]);
		with = optarg;
	}
	if (cmd_select(ctx, argv + optind, (size_t)(argc - optind), false, &sel, &n, err) < 0)
		return -1;
	struct den_machine *dms = calloc(n + 1, sizeof(*dms));
	struct prov_target *t = calloc(n + 1, sizeof(*t));
	if (dms == NULL || t == NULL) {
		free(dms), free(t), free(sel);
		return den_err_set(err, ENOMEM, "den provision");
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		enum machine_state st = MACHINE_NOT_CREATED;
		if (machine_open(ctx->root, sel[i], &dms[k], err) < 0) {
			machine_close(&dms[k]);
			rc = -1;
			break;
		}
		const struct provider_ops *ops = dms[k].exists ? cmd_machine_ops(&dms[k]) : NULL;
		if (ops == NULL || ops->state(&dms[k], &st, err) < 0 || st != MACHINE_RUNNING) {
			den_err_clear(err);
			if (optind < argc)
				rc = den_err_set(err, 0, "machine %s is %s: `den up %s` first",
						 sel[i]->name, machine_state_name(st),
						 sel[i]->name);
			else
				den_info("%s is %s: not provisioned", sel[i]->name,
					 machine_state_name(st));
			machine_close(&dms[k]);
			continue;
		}
		t[k].dm = &dms[k];
		k++;
	}
	if (rc == 0 && k > 0)
		rc = cmd_provision_targets(ctx, t, k, PROV_WHEN_ASKED, with, err);
	for (size_t i = 0; i < k; i++)
		machine_close(&dms[i]);
	free(t);
	free(dms);
	free(sel);
	return rc;
}
