/* SPDX-License-Identifier: MIT */
/*
 * `den global-status [--prune] [--json]`: every machine of every project
 * den knows (core/machine_index.h), asked live; --prune forgets the
 * projects with no machine left.
 */
#include "cmd/cmd.h"
#include "cmd/table.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/machine_index.h"
#include "core/project.h"
#include "providers/provider.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_usage cmd_usage_global_status = {
	.path = "global-status",
	.opts = { CMD_OPT("prune", 0, CMD_VALUE_NONE, NULL,
			  "forget projects that have no machine left") },
};

/* Where the rows go: a table, or JSON objects (--json). */
struct rows {
	struct table *t;
	json_t *arr;
};

static void add_row(struct rows *r, const char *root, struct den_machine *dm)
{
	enum machine_state st = MACHINE_UNKNOWN;
	const char *provider = dm->rec.provider ? dm->rec.provider : "?";
	const struct provider_ops *ops = provider_find(dm->rec.provider ? dm->rec.provider : "");
	struct den_err err = { 0 };

	if (ops != NULL && ops->state(dm, &st, &err) < 0)
		den_err_clear(&err);
	if (r->arr != NULL)
		json_array_append_new(r->arr,
				      json_pack("{s:s, s:s, s:s, s:s}", "project", root, "name",
						dm->cfg->name, "state", machine_state_id(st),
						"provider", provider));
	else
		table_add(r->t, (const char *const[]){ table_addf(r->t, "%s", dm->cfg->name),
						       machine_state_name(st),
						       table_addf(r->t, "%s", provider),
						       table_addf(r->t, "%s", root) });
}

/*
 * How many machines of the project exist, each added to rows with its live
 * state when rows is not NULL. A project whose Envfile is gone or does not
 * load has none.
 */
static size_t project_machines(const struct machine_index_entry *e, struct rows *rows)
{
	cleanup_free char *path = NULL;
	struct envfile *ef = NULL;
	struct den_err err = { 0 };
	size_t alive = 0;

	if (e->envfile != NULL)
		path = strdup(e->envfile);
	else if (asprintf(&path, "%s/" ENVFILE_NAME, e->root) < 0)
		path = NULL;
	if (path == NULL || !den_exists(path) || envfile_load(path, path, e->root, &ef, &err) < 0)
		return 0;
	for (size_t i = 0; i < ef->n_machines; i++) {
		struct den_machine dm;

		if (machine_open(e->root, &ef->machines[i], &dm, &err) < 0) {
			den_err_clear(&err);
			continue;
		}
		if (dm.exists) {
			alive++;
			if (rows != NULL)
				add_row(rows, e->root, &dm);
		}
		machine_close(&dm);
	}
	envfile_free(ef);
	return alive;
}

/* machine_index_keep_fn: asked again with the index locked, so a project just up is kept. */
static bool has_machines(const struct machine_index_entry *e, void *arg)
{
	(void)arg;
	return project_machines(e, NULL) > 0;
}

int cmd_global_status(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	cleanup_free char *home = NULL;
	bool prune = argc > 1 && strcmp(argv[1], "--prune") == 0;
	struct machine_index idx;
	struct table t;
	struct rows rows = { .t = &t, .arr = NULL };

	if (argc > (prune ? 2 : 1))
		return den_err_usage(err, "usage: den global-status [--prune]");
	if (den_home(&home, err) < 0 || machine_index_list(home, &idx, err) < 0)
		return -1;
	if (idx.skipped > 0 && !prune)
		den_warn("skipped %zu damaged %s of %s/index.json (`den global-status --prune` "
			 "drops them)",
			 idx.skipped, idx.skipped == 1 ? "entry" : "entries", home);
	rows.arr = ctx->json ? json_array() : NULL;
	table_init(&t, 4);
	table_add(&t, (const char *const[]){ "MACHINE", "STATE", "PROVIDER", "PROJECT" });
	for (size_t i = 0; i < idx.n; i++)
		project_machines(&idx.v[i], &rows);
	machine_index_free(&idx);
	if (prune && machine_index_prune(home, has_machines, NULL, NULL, err) < 0) {
		json_decref(rows.arr);
		table_free(&t);
		return -1;
	}
	if (rows.arr != NULL) {
		table_free(&t);
		return cmd_print_json(rows.arr, err);
	}
	if (t.rows == 1)
		puts("No machines. `den up` in a project creates some.");
	else
		table_print(&t, stdout, ctx->color);
	table_free(&t);
	return 0;
}
