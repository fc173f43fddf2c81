/* SPDX-License-Identifier: MIT */
/*
 * `den ssh [MACHINE] [-c CMD] [-- SSH-ARGS...]` execs OpenSSH's ssh with
 * the machine's key, port and host key; `den ssh-config [MACHINE...]`
 * prints the same as Host blocks for ssh -F, scp and rsync. The values
 * come from the machine's state, which code inside the machine may have
 * changed: each is checked before it reaches a config line or ssh's argv.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/spawn.h"
#include "core/sshcfg.h"
#include "providers/provider.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cmd_usage cmd_usage_ssh = {
	.path = "ssh",
	.operands = { CMD_VALUE_MACHINE },
	.opts = { CMD_OPT("command", 'c', CMD_VALUE_WORD, "CMD",
			  "run CMD on the machine and exit with its status") },
};

const struct cmd_usage cmd_usage_ssh_config = {
	.path = "ssh-config",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
};

/* Every value that goes into a Host block or onto ssh's command line, for both commands. */
static int check_info(const char *name, const struct ssh_info *info, struct den_err *err)
{
	if (info->port < 1 || info->port > 65535)
		return den_err_set(
			err, 0,
			"machine %s: its SSH port %d is not a port (`den destroy %s` and "
			"`den up %s` make the machine anew)",
			name, info->port, name, name);
	if (sshcfg_value_check(name, "SSH user", info->user, SSHCFG_WORD, err) < 0 ||
	    sshcfg_value_check(name, "SSH host", info->host, SSHCFG_WORD, err) < 0 ||
	    sshcfg_value_check(name, "SSH key path", info->key_path, SSHCFG_PATH, err) < 0 ||
	    sshcfg_value_check(name, "known_hosts path", info->known_hosts, SSHCFG_PATH, err) < 0)
		return -1;
	return 0;
}

/* A running machine's login, checked; dm is open only when this succeeds. */
static int info_for(struct den_ctx *ctx, const struct machine *cfg, struct den_machine *dm,
		    struct ssh_info *info, struct den_err *err)
{
	const struct provider_ops *ops;
	enum machine_state st;
	int rc;

	if (machine_open(ctx->root, cfg, dm, err) < 0) {
		machine_close(dm);
		return -1;
	}
	ops = cmd_machine_ops(dm);
	if (!dm->exists || ops == NULL)
		rc = den_err_set(err, 0, "%s is not created; `den up %s` first", cfg->name,
				 cfg->name);
	else if (ops->state(dm, &st, err) < 0)
		rc = -1;
	else if (st != MACHINE_RUNNING)
		rc = den_err_set(err, 0, "%s is %s; `den up %s` first", cfg->name,
				 machine_state_name(st), cfg->name);
	else if ((rc = ops->ssh_info(dm, info, err)) == 0 &&
		 (rc = check_info(cfg->name, info, err)) < 0)
		ssh_info_free(info);
	if (rc < 0)
		machine_close(dm);
	return rc;
}

int cmd_ssh(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	const char *command = NULL, *name = NULL;
	const struct machine *cfg;
	struct den_machine dm;
	struct ssh_info info;
	cleanup_free char **args = NULL;
	cleanup_free char *khf = NULL;
	char port[16];
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
	if (cmd_one_machine(ctx, name, &cfg, err) < 0 || info_for(ctx, cfg, &dm, &info, err) < 0)
		return -1;
	/* den's own arguments (at most 20) and the user's after --. */
	args = calloc((size_t)(argc - optind) + 24, sizeof(*args));
	if (args == NULL || asprintf(&khf, "UserKnownHostsFile=%s", info.known_hosts) < 0) {
		khf = NULL;
		ssh_info_free(&info);
		machine_close(&dm);
		return den_err_set(err, ENOMEM, "den ssh");
	}
	snprintf(port, sizeof(port), "%d", info.port);
	args[n++] = "ssh";
	args[n++] = "-i";
	args[n++] = info.key_path;
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
	for (; optind < argc; optind++)
		args[n++] = argv[optind];
	args[n++] = info.host;
	if (command != NULL)
		args[n++] = (char *)command;
	args[n] = NULL;
	fflush(stdout);
	struct den_spawn sp = { .argv = (const char *const *)args,
				.install = "install openssh-client" };
	den_spawn_exec(&sp, err);
	ssh_info_free(&info);
	machine_close(&dm);
	return -1;
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
