/* SPDX-License-Identifier: MIT */
/*
 * `den port [MACHINE] [--json]`: the machine's forwarded ports, SSH's
 * first: as started (auto_correct may have moved some), else as the
 * Envfile gives them.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "cmd/table.h"
#include "core/cleanup.h"

#include <stdio.h>

const struct cmd_usage cmd_usage_port = {
	.path = "port",
	.operands = { CMD_VALUE_MACHINE },
};

int cmd_port(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	const struct machine *cfg;
	struct den_machine dm;
	struct table t;
	json_t *arr = ctx->json ? json_array() : NULL;

	if (argc > 2)
		return den_err_usage(err, "usage: den port [MACHINE]");
	if (cmd_one_machine(ctx, argc == 2 ? argv[1] : NULL, &cfg, err) < 0 ||
	    machine_open(ctx->root, cfg, &dm, err) < 0) {
		json_decref(arr);
		return -1;
	}
	table_init(&t, 4);
	table_add(&t, (const char *const[]){ "GUEST", "HOST", "PROTOCOL", "ID" });
	if (dm.exists && dm.rec.ssh_port > 0) {
		const char *ssh_host = dm.rec.ssh_host ? dm.rec.ssh_host : "127.0.0.1";
		if (arr)
			json_array_append_new(arr, json_pack("{s:i, s:s, s:i, s:s, s:s}", "guest",
							     22, "host_ip", ssh_host, "host",
							     dm.rec.ssh_port, "protocol", "tcp",
							     "id", "ssh"));
		table_add(&t, (const char *const[]){
				      "22", table_addf(&t, "%s:%d", ssh_host, dm.rec.ssh_port),
				      "tcp", "ssh" });
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
	for (size_t i = 0; started == NULL && i < cfg->n_ports; i++) {
		const struct forwarded_port *p = &cfg->ports[i];
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
