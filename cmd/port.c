/* SPDX-License-Identifier: MIT */
/*
 * `den port [MACHINE] [--json]`: the machine's forwarded ports, SSH's
 * first; `den reload [MACHINE...]`: halt, then up again;
 * `den global-status [--prune] [--json]`: every machine of every project
 * den knows ($DEN_HOME/index.json), asked live.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "cmd/table.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/project.h"
#include "providers/provider.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_port(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	const struct machine *m;
	struct den_machine dm;
	struct table t;
	json_t *arr = ctx->json ? json_array() : NULL;

	if (argc > 2)
		return den_err_usage(err, "usage: den port [MACHINE]");
	if (cmd_one_machine(ctx, argc == 2 ? argv[1] : NULL, &m, err) < 0 ||
	    machine_open(ctx->root, m, &dm, err) < 0) {
		json_decref(arr);
		return -1;
	}
	table_init(&t, 4);
	table_add(&t, (const char *const[]){ "GUEST", "HOST", "PROTOCOL", "ID" });
	if (dm.exists && dm.rec.ssh_port > 0) {
		if (arr)
			json_array_append_new(arr, json_pack("{s:i, s:s, s:i, s:s, s:s}", "guest",
							     22, "host_ip", "127.0.0.1", "host",
							     dm.rec.ssh_port, "protocol", "tcp",
							     "id", "ssh"));
		table_add(&t, (const char *const[]){
				      "22", table_addf(&t, "127.0.0.1:%d", dm.rec.ssh_port), "tcp",
				      "ssh" });
	}
	/* As started (auto_correct may have moved some), else as the Envfile says. */
	json_t *started =
		dm.exists && dm.rec.ports_json ? json_loads(dm.rec.ports_json, 0, NULL) : NULL;
	json_t *sp;
	size_t k;
	json_array_foreach(started, k, sp)
	{
		const char *id = json_string_value(json_object_get(sp, "id"));
		const char *ip = json_string_value(json_object_get(sp, "host_ip"));
		const char *proto = json_string_value(json_object_get(sp, "protocol"));
		if (arr)
			json_array_append(arr, sp);
		table_add(&t, (const char *const[]){
				      table_addf(&t, "%lld",
						 json_integer_value(json_object_get(sp, "guest"))),
				      table_addf(&t, "%s:%lld", ip ? ip : "?",
						 json_integer_value(json_object_get(sp, "host"))),
				      table_addf(&t, "%s", proto ? proto : "tcp"),
				      table_addf(&t, "%s", id ? id : "") });
	}
	for (size_t i = 0; started == NULL && i < m->n_ports; i++) {
		const struct forwarded_port *p = &m->ports[i];
		if (arr)
			json_array_append_new(
				arr, json_pack("{s:i, s:s, s:i, s:s, s:s?}", "guest", p->guest,
					       "host_ip", p->host_ip, "host", p->host, "protocol",
					       envfile_proto_name(p->protocol), "id", p->id));
		table_add(&t, (const char *const[]){ table_addf(&t, "%u", p->guest),
						     table_addf(&t, "%s:%u", p->host_ip, p->host),
						     envfile_proto_name(p->protocol),
						     p->id ? p->id : "" });
	}
	json_decref(started);
	machine_close(&dm);
	if (arr == NULL)
		table_print(&t, stdout, ctx->color);
	table_free(&t);
	return arr ? cmd_print_json(arr, err) : 0;
}

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

/* One project of the index: its machines and their live states. */
static int project_rows(const char *root, const char *envfile, struct table *t, json_t *arr,
			bool *alive)
{
	cleanup_free char *path = NULL;
	struct envfile *ef = NULL;
	struct den_err err = { 0 };

	*alive = false;
	if (envfile != NULL)
		path = strdup(envfile);
	else if (asprintf(&path, "%s/" ENVFILE_NAME, root) < 0)
		path = NULL;
	if (path == NULL)
		return -1;
	if (!den_exists(path))
		return 0; /* the project is gone */
	if (envfile_load(path, path, root, &ef, &err) < 0)
		return 0;
	for (size_t i = 0; i < ef->n_machines; i++) {
		struct den_machine dm;
		enum machine_state st = MACHINE_NOT_CREATED;
		const struct provider_ops *ops;

		if (machine_open(root, &ef->machines[i], &dm, &err) < 0) {
			den_err_clear(&err);
			continue;
		}
		if (dm.exists) {
			*alive = true;
			ops = provider_find(dm.rec.provider ? dm.rec.provider : "");
			st = MACHINE_UNKNOWN;
			if (ops != NULL && ops->state(&dm, &st, &err) < 0)
				den_err_clear(&err);
			if (arr != NULL)
				json_array_append_new(
					arr, json_pack("{s:s, s:s, s:s, s:s}", "project", root,
						       "name", dm.cfg->name, "state",
						       machine_state_id(st), "provider",
						       dm.rec.provider ? dm.rec.provider : "?"));
			else
				table_add(t, (const char *const[]){
						     table_addf(t, "%s", dm.cfg->name),
						     machine_state_name(st),
						     table_addf(t, "%s",
								dm.rec.provider ? dm.rec.provider
										: "?"),
						     table_addf(t, "%s", root) });
		}
		machine_close(&dm);
	}
	envfile_free(ef);
	return 0;
}

int cmd_global_status(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	cleanup_free char *home = NULL, *path = NULL, *text = NULL;
	bool prune = argc > 1 && strcmp(argv[1], "--prune") == 0;
	json_t *index = NULL, *projects, *p, *keep = json_array();
	json_t *arr = ctx->json ? json_array() : NULL;
	struct den_err ignored;
	struct table t;
	size_t i;

	if (argc > (prune ? 2 : 1))
		return den_err_usage(err, "usage: den global-status [--prune]");
	if (den_home(&home, err) < 0 || asprintf(&path, "%s/index.json", home) < 0)
		return -1;
	if (den_read_file(path, 16 << 20, &text, NULL, &ignored) == 0)
		index = json_loads(text, 0, NULL);
	projects = json_object_get(index, "projects");
	table_init(&t, 4);
	table_add(&t, (const char *const[]){ "MACHINE", "STATE", "PROVIDER", "PROJECT" });
	json_array_foreach(projects, i, p)
	{
		const char *root = json_string_value(json_object_get(p, "root"));
		bool alive = false;
		if (root == NULL)
			continue;
		project_rows(root, json_string_value(json_object_get(p, "envfile")), &t, arr,
			     &alive);
		if (alive)
			json_array_append(keep, p);
	}
	if (prune && index != NULL) {
		cleanup_free char *out = NULL;
		json_object_set(index, "projects", keep);
		out = json_dumps(index, JSON_INDENT(2));
		if (out == NULL || den_write_file_atomic(path, out, 0644, err) < 0) {
			json_decref(keep), json_decref(index), json_decref(arr), table_free(&t);
			return den_err_is_set(err) ? -1 : den_err_set(err, ENOMEM, "global-status");
		}
	}
	json_decref(keep);
	json_decref(index);
	if (arr != NULL) {
		table_free(&t);
		return cmd_print_json(arr, err);
	}
	if (t.rows == 1)
		puts("No machines. `den up` in a project creates some.");
	else
		table_print(&t, stdout, ctx->color);
	table_free(&t);
	return 0;
}
