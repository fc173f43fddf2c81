/* SPDX-License-Identifier: MIT */
/*
 * `den exec [MACHINE...|--all] [--quiet] -- CMD...`: CMD on running
 * machines in parallel (a thread and an SSH session each), output lines
 * prefixed with the machine's name, then a table: machine, box, exit
 * code, time. With a matrix it is how a project is tested across OS
 * versions. Exits 1 when any failed or was not running.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "cmd/table.h"
#include "core/cleanup.h"
#include "core/ssh.h"
#include "providers/provider.h"
#include "provisioners/output.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct cmd_usage cmd_usage_exec = {
	.path = "exec",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
	.opts = {
		CMD_OPT("all", 0, CMD_VALUE_NONE, NULL, "every machine (as naming none does)"),
		CMD_OPT("quiet", 0, CMD_VALUE_NONE, NULL, "print only the summary table"),
	},
};

struct job {
	const char *cmd;
	struct den_machine dm;
	bool opened, running;
	int status; /* -1: did not run */
	double secs;
	char why[256];
	struct prov_output out;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct den_err err = { 0 };
	struct den_ssh *s = NULL;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (provider_ssh_open(cmd_machine_ops(&j->dm), &j->dm, 10, &s, &err) < 0 ||
	    den_ssh_exec(s, j->cmd, prov_output_feed, &j->out, &j->status, &err) < 0) {
		j->status = -1;
		snprintf(j->why, sizeof(j->why), "%.255s", err.msg);
	}
	prov_output_flush(&j->out);
	den_ssh_close(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	j->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return NULL;
}

/* The command as ssh would send it: the words joined by spaces. */
static char *join(char **words, int n)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	s = calloc(len, 1);
	for (int i = 0; s != NULL && i < n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, words[i]);
	}
	return s;
}

static void report(struct den_ctx *ctx, struct job *jobs, size_t n)
{
	struct table t;
	json_t *arr = ctx->json ? json_array() : NULL;

	table_init(&t, 4);
	table_add(&t, (const char *const[]){ "MACHINE", "BOX", "EXIT", "TIME" });
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		const char *box = j->dm.rec.box ? j->dm.rec.box : j->dm.cfg->box;
		const char *exit = !j->running	   ? "not running"
				   : j->status < 0 ? "ssh failed"
						   : table_addf(&t, "%d", j->status);
		table_add(&t, (const char *const[]){ j->dm.cfg->name, box, exit,
						     j->running ? table_addf(&t, "%.2fs", j->secs)
								: "-" });
		if (arr != NULL)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:o, s:f, s:s?}",
							     "machine", j->dm.cfg->name, "box", box,
							     "running", j->running, "exit_code",
							     j->running && j->status >= 0
								     ? json_integer(j->status)
								     : json_null(),
							     "seconds", j->secs, "error",
							     j->why[0] ? j->why : NULL));
	}
	if (arr != NULL) {
		struct den_err ignored = { 0 };
		cmd_print_json(arr, &ignored);
	} else {
		fputc('\n', stdout);
		table_print(&t, stdout, ctx->color);
	}
	table_free(&t);
}

int cmd_exec(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct machine **sel = NULL;
	size_t n = 0;
	bool quiet = ctx->json;
	int c, dash = -1, rc = 0;

	for (int i = 1; i < argc && dash < 0; i++)
		if (strcmp(argv[i], "--") == 0)
			dash = i;
	if (dash < 0 || dash == argc - 1)
		return den_err_usage(err, "usage: den exec [MACHINE...|--all] -- CMD...");
	cmd_getopt_reset();
	while ((c = getopt_long(dash, argv, "", opts, NULL)) != -1) {
		if (c == 'q')
			quiet = true;
		else if (c != 'a')
			return den_err_usage(err, "unknown option '%s' for `den exec`",
					     argv[optind - 1]);
	}
	cleanup_free char *cmd = join(argv + dash + 1, argc - dash - 1);
	if (cmd == NULL ||
	    cmd_select(ctx, argv + optind, (size_t)(dash - optind), false, &sel, &n, err) < 0)
		return den_err_is_set(err) ? -1 : den_err_set(err, ENOMEM, "den exec");
	struct job *jobs = calloc(n + 1, sizeof(*jobs));
	pthread_t *threads = calloc(n + 1, sizeof(*threads));
	bool *started = calloc(n + 1, sizeof(bool));
	if (jobs == NULL || threads == NULL || started == NULL) {
		free(jobs), free(threads), free(started), free(sel);
		return den_err_set(err, ENOMEM, "den exec");
	}
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		enum machine_state st = MACHINE_NOT_CREATED;
		j->cmd = cmd;
		j->status = -1;
		j->opened = true; /* closed at the end even when the open fails half-way */
		if (machine_open(ctx->root, sel[i], &j->dm, err) < 0) {
			rc = -1;
			break;
		}
		prov_output_init(&j->out, sel[i]->name, (int)i, ctx->color);
		j->out.quiet = quiet;
		const struct provider_ops *ops = j->dm.exists ? cmd_machine_ops(&j->dm) : NULL;
		j->running =
			ops != NULL && ops->state(&j->dm, &st, err) == 0 && st == MACHINE_RUNNING;
		den_err_clear(err);
		if (j->running)
			started[i] = pthread_create(&threads[i], NULL, run_job, j) == 0;
		if (j->running && !started[i])
			run_job(j);
	}
	for (size_t i = 0; i < n; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	if (rc == 0) {
		size_t bad = 0;
		report(ctx, jobs, n);
		for (size_t i = 0; i < n; i++)
			bad += !jobs[i].running || jobs[i].status != 0;
		if (bad > 0) {
			rc = den_err_set(err, 0,
					 "the command failed or could not run on %zu of %zu "
					 "machines",
					 bad, n);
			err->in_report = ctx->json; /* one JSON document on stdout */
		}
	}
	for (size_t i = 0; i < n; i++)
		if (jobs[i].opened)
			machine_close(&jobs[i].dm);
	free(jobs), free(threads), free(started), free(sel);
	return rc;
}
