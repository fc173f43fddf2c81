/* SPDX-License-Identifier: MIT */
/*
 * `den doctor`: what this host can run, a line per need, ok or what to do
 * (the checks: providers/doctor.c), then which providers can run here.
 */
#include "cmd/cmd.h"
#include "cmd/table.h"
#include "providers/doctor.h"

#include <stdio.h>
#include <string.h>

const struct cmd_usage cmd_usage_doctor = {
	.path = "doctor",
};

static const char *state_word(enum doctor_state s)
{
	return s == DOCTOR_OK ? "ok" : s == DOCTOR_NO ? "no" : "note";
}

static int print_json(const struct doctor_report *r, struct den_err *err)
{
	json_t *checks = json_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct doctor_check *c = &r->checks[i];
		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s}", "area", c->area,
							"check", c->what, "state",
							state_word(c->state), "said", c->said));
	}
	return cmd_print_json(json_pack("{s:o, s:{s:b, s:b, s:b, s:b}}", "checks", checks,
					"providers", "kvm", r->kvm, "qemu", r->qemu, "container",
					r->container, "lxd", r->lxd),
			      err);
}

int cmd_doctor(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	struct doctor_report r;
	struct table t;
	char can[64] = "";

	if (argc > 1)
		return den_err_usage(err, "`den doctor` takes no arguments, got '%s'", argv[1]);
	doctor_run(&r);
	if (ctx->json) {
		if (print_json(&r, err) < 0)
			return -1;
	} else {
		table_init(&t, 4);
		table_add(&t, (const char *[]){ "AREA", "CHECK", "", "WHAT DEN FOUND" });
		for (size_t i = 0; i < r.n; i++)
			table_add(&t, (const char *[]){ r.checks[i].area, r.checks[i].what,
							state_word(r.checks[i].state),
							r.checks[i].said });
		table_print(&t, stdout, ctx->color);
		table_free(&t);
	}
	const char *names[] = { "kvm", "qemu", "container", "lxd" };
	const bool ok[] = { r.kvm, r.qemu, r.container, r.lxd };
	for (size_t i = 0; i < 4; i++)
		if (ok[i])
			snprintf(can + strlen(can), sizeof(can) - strlen(can), "%s%s",
				 can[0] ? ", " : "", names[i]);
	if (can[0] == '\0')
		return den_err_set(
			err, 0, "no provider can run on this host: see the lines marked no above");
	if (!ctx->json)
		printf("\nProviders that can run here: %s.\n", can);
	return 0;
}
