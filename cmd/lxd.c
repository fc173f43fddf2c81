/* SPDX-License-Identifier: MIT */
/*
 * `den lxd trust URL [--token TOKEN]`: makes den and the LXD at URL trust
 * each other (providers/lxd/trust.c, docs/lxd.md "A remote LXD"). The
 * token comes from `lxc config trust add --name NAME` on the server; without
 * --token it is read from the first line of stdin, so it need not be on
 * a command line.
 */
#include "cmd/cmd.h"
#include "core/cleanup.h"
#include "providers/lxd/lxd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cmd_usage cmd_usage_lxd = {
	.path = "lxd",
	.subcommands = "trust",
};

const struct cmd_usage cmd_usage_lxd_trust = {
	.path = "lxd trust",
	.operands = { CMD_VALUE_WORD },
	.opts = { CMD_OPT("token", 0, CMD_VALUE_WORD, "TOKEN",
			  "the token `lxc config trust add` printed (else read from stdin)") },
};

#define USAGE "usage: den lxd trust https://HOST[:PORT] [--token TOKEN]"
#define MAX_TOKEN 8192

/* The token's one line from stdin, spaces and the newline cut. */
static char *read_token(void)
{
	char *line = NULL;
	size_t cap = 0;

	if (isatty(STDIN_FILENO))
		fprintf(stderr,
			"the trust token (from `lxc config trust add --name den` on the server): ");
	ssize_t n = getline(&line, &cap, stdin);
	if (n <= 0 || n > MAX_TOKEN) {
		free(line);
		return NULL;
	}
	while (n > 0 && strchr(" \t\r\n", line[n - 1]) != NULL)
		line[--n] = '\0';
	size_t skip = strspn(line, " \t");
	memmove(line, line + skip, strlen(line + skip) + 1);
	return line;
}

int cmd_lxd(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "token", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	cleanup_free char *from_stdin = NULL;
	const char *token = NULL;
	struct lxd_trusted t;
	int c;

	(void)ctx;
	if (argc < 2 || strcmp(argv[1], "trust") != 0)
		return den_err_usage(err, USAGE);
	argc--;
	argv++;
	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 't')
			return den_err_usage(err, "unknown option '%s' for `den lxd trust`\n" USAGE,
					     argv[optind - 1]);
		token = optarg;
	}
	if (optind != argc - 1)
		return den_err_usage(err, USAGE);
	if (token == NULL && (token = from_stdin = read_token()) == NULL)
		return den_err_usage(err, "no trust token on stdin\n" USAGE);
	if (lxd_trust(argv[optind], token, &t, err) < 0)
		return -1;
	printf("%s: certificate %s pinned (%s); %s den's certificate (%s)\n", t.base, t.fingerprint,
	       t.pinned, t.already ? "it trusted" : "it now trusts", t.client_crt);
	return 0;
}
