/* SPDX-License-Identifier: MIT */
/*
 * `den status [MACHINE...] [--json]`: each machine with its state,
 * provider and box. State comes from the machine's provider (its
 * supervisor's control socket), never guessed from pids.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "cmd/table.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/project.h"
#include "providers/provider.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_usage cmd_usage_status = {
	.path = "status",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
};

struct row {
	enum machine_state state;
	const char *provider;
	char *provider_owned; /* the provider state.json names */
	const char *box, *version;
	const char *note; /* why the state is unknown, or NULL */
};

static void probe(const char *root, const struct machine *cfg, struct row *r, struct den_err *err)
{
	struct den_machine m;
	const struct provider_ops *ops;

	r->state = MACHINE_NOT_CREATED;
	r->provider = cmd_machine_provider(cfg);
	r->box = cfg->box;
	r->version = cfg->box_version;
	r->note = NULL;
	if (machine_open(root, cfg, &m, err) < 0) {
		r->state = MACHINE_UNKNOWN;
		r->note = strdup(err->msg);
		den_err_clear(err);
		machine_close(&m);
		return;
	}
	/* `den up` writes state.json before it starts a supervisor: no file, no machine. */
	if (m.exists) {
		r->state = MACHINE_UNKNOWN;
		if (m.rec.provider != NULL && (r->provider_owned = strdup(m.rec.provider)) != NULL)
			r->provider = r->provider_owned;
		ops = m.rec.provider ? provider_find(m.rec.provider) : NULL;
		if (ops == NULL)
			r->note = strdup("its provider is not part of this den build");
		else if (ops->state(&m, &r->state, err) < 0) {
			r->note = strdup(err->msg);
			den_err_clear(err);
		}
	}
	machine_close(&m);
}

/* Its private networks' addresses, as the Envfile gives them (den sets each one). */
static json_t *networks_json(const struct machine *cfg)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < cfg->n_networks; i++) {
		char net[INET_ADDRSTRLEN];
		envfile_network_text(&cfg->networks[i], net);
		json_array_append_new(list,
				      json_pack("{s:s, s:i, s:s, s:b}", "ip", cfg->networks[i].ip,
						"prefix", (int)cfg->networks[i].prefix, "network",
						net, "dhcp", cfg->networks[i].dhcp));
	}
	return list;
}

static json_t *row_json(const struct machine *cfg, const struct row *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:o}", "name", cfg->name, "state",
			 machine_state_id(r->state), "provider", r->provider, "box", r->box,
			 "box_version", r->version, "matrix_of", cfg->matrix_of, "note", r->note,
			 "private_networks", networks_json(cfg));
}

/* "192.168.50.10/24, 10.1.0.5/16", or "-" (in t's memory). */
static const char *addresses_text(struct table *t, const struct machine *cfg)
{
	char buf[1024] = "-";
	size_t at = 0;

	for (size_t i = 0; i < cfg->n_networks && at < sizeof(buf); i++)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%s/%u", i ? ", " : "",
				       cfg->networks[i].ip, cfg->networks[i].prefix);
	return table_addf(t, "%s", buf);
}

int cmd_status(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	struct machine **sel = NULL;
	size_t n = 0;
	struct table t;
	json_t *list = NULL;
	bool any_created = false, any_network = false;

	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return den_err_usage(err, "unknown option '%s' for `den status`", argv[i]);
	if (envfile_select(ctx->ef, argv + 1, (size_t)argc - 1, &sel, &n, err) < 0)
		return -1;
	struct row *rows = calloc(n + 1, sizeof(*rows));
	if (rows == NULL) {
		free(sel);
		return den_err_set(err, ENOMEM, "den status");
	}
	for (size_t i = 0; i < n; i++) {
		probe(ctx->root, sel[i], &rows[i], err);
		any_created |= rows[i].state != MACHINE_NOT_CREATED;
		any_network |= sel[i]->n_networks > 0;
	}

	if (ctx->json) {
		list = json_array();
		for (size_t i = 0; list != NULL && i < n; i++)
			json_array_append_new(list, row_json(sel[i], &rows[i]));
	} else {
		/* A column of private addresses when a machine has one. */
		table_init(&t, any_network ? 5 : 4);
		table_add(&t, (const char *const[]){ "MACHINE", "STATE", "PROVIDER", "BOX",
						     "PRIVATE ADDRESSES" });
		for (size_t i = 0; i < n; i++) {
			const char *box = rows[i].version ? table_addf(&t, "%s (%s)", rows[i].box,
								       rows[i].version)
							  : rows[i].box;
			const char *state = rows[i].note
						    ? table_addf(&t, "%s: %s",
								 machine_state_name(rows[i].state),
								 rows[i].note)
						    : machine_state_name(rows[i].state);
			table_add(&t, (const char *const[]){ sel[i]->name, state, rows[i].provider,
							     box, addresses_text(&t, sel[i]) });
		}
		table_print(&t, stdout, ctx->color);
		table_free(&t);
		if (!any_created && den_log_level() >= DEN_LOG_INFO)
			printf("\nRun `den up` to create %s.\n", n == 1 ? "it" : "them");
	}
	for (size_t i = 0; i < n; i++) {
		free((char *)rows[i].note);
		free(rows[i].provider_owned);
	}
	free(rows);
	free(sel);
	if (project_has_legacy_state(ctx->root))
		den_warn("%s/" DEN_LEGACY_DIR " holds machine state of an older den: the next den "
			 "command that changes machines (up, halt, destroy...) moves it out of the "
			 "project",
			 ctx->root);
	if (list != NULL) {
		cleanup_free char *state = NULL;
		if (project_state_dir(ctx->root, &state, err) < 0) {
			json_decref(list);
			return -1;
		}
		return cmd_print_json(json_pack("{s:s, s:s, s:s, s:o}", "project", ctx->root,
						"envfile", ctx->envfile_path, "state_dir", state,
						"machines", list),
				      err);
	}
	return ctx->json ? den_err_set(err, ENOMEM, "den status --json") : 0;
}
