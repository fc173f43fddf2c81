/* SPDX-License-Identifier: MIT */
/*
 * `den ssh [MACHINE] [-c CMD] [-- SSH-ARGS...]` execs OpenSSH's ssh with
 * the machine's key, port and host key; `den ssh-config [MACHINE...]`
 * prints the same as Host blocks for ssh -F, scp and rsync.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "providers/provider.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int info_for(struct den_ctx *ctx, const struct machine *m, struct den_machine *dm,
		    struct ssh_info *info, struct den_err *err)
{
	const struct provider_ops *ops;
	enum machine_state st;

	if (machine_open(ctx->root, m, dm, err) < 0)
		return -1;
	ops = cmd_machine_ops(dm);
	if (!dm->exists || ops == NULL)
		return den_err_set(err, 0, "%s is not created; `den up %s` first", m->name,
				   m->name);
	if (ops->state(dm, &st, err) < 0)
		return -1;
	if (st != MACHINE_RUNNING)
		return den_err_set(err, 0, "%s is %s; `den up %s` first", m->name,
				   machine_state_name(st), m->name);
	return ops->ssh_info(dm, info, err);
}

int cmd_ssh(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	const char *command = NULL, *name = NULL;
	const struct machine *m;
	struct den_machine dm;
	struct ssh_info info;
	char *args[256], port[16], khf[4200], id[4200];
	size_t n = 0;

	/* [MACHINE] [-c CMD] in any order, then -- and ssh's own arguments. */
	for (optind = 1; optind < argc; optind++) {
		const char *a = argv[optind];
		if (strcmp(a, "--") == 0) {
			optind++;
			break;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--command") == 0) {
			if (++optind == argc)
				return den_err_usage(err, "-c needs a command");
			command = argv[optind];
		} else if (strncmp(a, "--command=", 10) == 0) {
			command = a + 10;
		} else if (a[0] == '-') {
			return den_err_usage(err,
					     "unknown option '%s' for `den ssh` (ssh's own "
					     "options go after --)",
					     a);
		} else if (name == NULL) {
			name = a;
		} else {
			return den_err_usage(err,
					     "`den ssh` logs in to one machine; got '%s' and "
					     "'%s'",
					     name, a);
		}
	}
	if (cmd_one_machine(ctx, name, &m, err) < 0 || info_for(ctx, m, &dm, &info, err) < 0)
		return -1;
	snprintf(port, sizeof(port), "%d", info.port);
	snprintf(khf, sizeof(khf), "UserKnownHostsFile=%s", info.known_hosts);
	snprintf(id, sizeof(id), "%s", info.key_path);
	args[n++] = "ssh";
	args[n++] = "-i";
	args[n++] = id;
	args[n++] = "-p";
	args[n++] = port;
	args[n++] = "-o";
	args[n++] = khf;
	args[n++] = "-o";
	args[n++] = "StrictHostKeyChecking=yes";
	args[n++] = "-o";
	args[n++] = "IdentitiesOnly=yes";
	args[n++] = "-o";
	args[n++] = "PasswordAuthentication=no";
	args[n++] = "-o";
	args[n++] = "LogLevel=ERROR";
	args[n++] = "-l";
	args[n++] = info.user;
	if (command == NULL && isatty(STDIN_FILENO))
		args[n++] = "-t";
	for (; optind < argc && n < 240; optind++)
		args[n++] = argv[optind];
	args[n++] = info.host;
	if (command != NULL)
		args[n++] = (char *)command;
	args[n] = NULL;
	fflush(stdout);
	execvp("ssh", args);
	return den_err_set(err, errno, "cannot run ssh (install openssh-client)");
}

int cmd_ssh_config(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	struct machine **sel = NULL;
	size_t n = 0;
	int rc = 0;

	if (cmd_select(ctx, argv + 1, (size_t)argc - 1, false, &sel, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct den_machine dm;
		struct ssh_info info;

		if (info_for(ctx, sel[i], &dm, &info, err) < 0) {
			machine_close(&dm);
			rc = -1;
			break;
		}
		printf("Host %s\n  HostName %s\n  Port %d\n  User %s\n  IdentityFile %s\n"
		       "  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking "
		       "yes\n"
		       "  PasswordAuthentication no\n  LogLevel ERROR\n\n",
		       sel[i]->name, info.host, info.port, info.user, info.key_path,
		       info.known_hosts);
		ssh_info_free(&info);
		machine_close(&dm);
	}
	free(sel);
	return rc;
}
