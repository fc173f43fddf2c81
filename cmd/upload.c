/* SPDX-License-Identifier: MIT */
/*
 * `den upload SRC [DST] [MACHINE]`: a host file or folder into a machine
 * over SFTP, as its SSH user. DST defaults to the user's home with SRC's
 * name; `~` is that home. SRC is resolved once without following any
 * symlink on its way (core/hostpath.h): the project may hold links a
 * machine planted. Links in what is copied arrive as links.
 */
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/hostpath.h"
#include "core/log.h"
#include "core/ssh.h"
#include "providers/provider.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct cmd_usage cmd_usage_upload = {
	.path = "upload",
	.operands = { CMD_VALUE_FILE, CMD_VALUE_WORD, CMD_VALUE_MACHINE },
};

int cmd_upload(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	const struct machine *cfg;
	struct den_machine dm;
	struct den_ssh *s = NULL;
	cleanup_free char *dst = NULL, *src_copy = NULL;
	enum machine_state st = MACHINE_NOT_CREATED;
	cleanup_hostpath struct hostpath src = { .dir_fd = -1 };
	struct stat sb;
	int rc;

	if (argc < 2 || argc > 4 || argv[1][0] == '-')
		return den_err_usage(err, "usage: den upload SRC [DST] [MACHINE]");
	if (hostpath_resolve(ctx->root, argv[1], HOSTPATH_FROM_CWD, &src, err) < 0)
		return den_err_wrap(err, "den upload");
	if (fstatat(src.dir_fd, src.name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return den_err_set(err, errno, "cannot read %s", argv[1]);
	if (cmd_one_machine(ctx, argc == 4 ? argv[3] : NULL, &cfg, err) < 0 ||
	    machine_open(ctx->root, cfg, &dm, err) < 0)
		return -1;
	const struct provider_ops *ops = dm.exists ? cmd_machine_ops(&dm) : NULL;
	if (ops == NULL || ops->state(&dm, &st, err) < 0 || st != MACHINE_RUNNING) {
		machine_close(&dm);
		return den_err_set(err, 0, "machine %s is %s: `den up %s` first", cfg->name,
				   machine_state_name(st), cfg->name);
	}
	src_copy = strdup(argv[1]);
	if (argc >= 3)
		dst = strdup(argv[2]);
	else if (src_copy != NULL && asprintf(&dst, "~/%s", basename(src_copy)) < 0)
		dst = NULL;
	if (dst == NULL) {
		machine_close(&dm);
		return den_err_set(err, ENOMEM, "den upload");
	}
	rc = provider_ssh_open(ops, &dm, 10, &s, err);
	if (rc == 0)
		rc = den_ssh_put_tree(s, src.dir_fd, src.name, argv[1], dst, NULL, err);
	if (rc == 0)
		den_info("%s: uploaded %s to %s", cfg->name, argv[1], dst);
	den_ssh_close(s);
	machine_close(&dm);
	return rc;
}
