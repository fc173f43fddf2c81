/* SPDX-License-Identifier: MIT */
/*
 * `den box package [MACHINE] [--output FILE]`: a box file made from a
 * halted machine (Vagrant's `vagrant package`). The provider writes the
 * box's files (qemu: the disk flattened, metadata.json of a Vagrant
 * libvirt box, a Vagrantfile); den packs them as a tar, package.box by
 * default, whole or not at all.
 */
#include "boxes/pack.h"
#include "boxes/store.h"
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/project.h"
#include "providers/provider.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cmd_usage cmd_usage_box_package = {
	.path = "box package",
	.operands = { CMD_VALUE_MACHINE },
	.opts = { CMD_OPT("output", 'o', CMD_VALUE_FILE, "FILE", "write the box file to FILE") },
};

static int pack(const char *dir, const char *out, struct den_err *err)
{
	static const char *const names[] = { "metadata.json", "box.img", "Vagrantfile" };
	char *files[3] = { NULL, NULL, NULL };
	int rc = -1;

	for (size_t i = 0; i < 3; i++)
		if (asprintf(&files[i], "%s/%s", dir, names[i]) < 0) {
			files[i] = NULL;
			den_err_set(err, ENOMEM, "den box package");
			goto out;
		}
	/* No compression: the image is mostly data already, and it stays seekable for a reader. */
	rc = pack_box(out, (const char *const *)files, names, 3, PACK_NONE, err);
out:
	for (size_t i = 0; i < 3; i++)
		free(files[i]);
	return rc;
}

int cmd_box_package(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { NULL, 0, NULL, 0 } };
	const char *out = "package.box";
	const struct machine *cfg;
	const struct provider_ops *ops;
	struct den_machine dm;
	cleanup_free char *home = NULL, *work = NULL;
	struct den_err ignored = { 0 };
	int c, rc = -1;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c != 'o')
			return den_err_usage(err,
					     "usage: den box package [MACHINE] [--output FILE]");
		out = optarg;
	}
	if (argc - optind > 1)
		return den_err_usage(err, "usage: den box package [MACHINE] [--output FILE]");
	if (den_exists(out))
		return den_err_set(err, 0, "%s exists: remove it or give --output", out);
	/* The machine must stay halted while its disk is read: no den up meanwhile. */
	if (cmd_load_envfile(ctx, err) < 0 ||
	    project_lock(ctx->root, "box package", &ctx->lock_fd, err) < 0 ||
	    cmd_one_machine(ctx, optind < argc ? argv[optind] : NULL, &cfg, err) < 0 ||
	    machine_open(ctx->root, cfg, &dm, err) < 0)
		return -1;
	if ((ops = cmd_created_ops(&dm, err)) == NULL)
		goto done;
	if (ops->package == NULL) {
		cmd_unsupported(ops, "package machines", err);
		goto done;
	}
	if (den_home(&home, err) < 0 || (work = store_tmp_dir(home, "package", err)) == NULL)
		goto done;
	den_info("%s: packaging its disk (flattened) into %s", cfg->name, out);
	if (ops->package(&dm, work, err) == 0 && pack(work, out, err) == 0) {
		den_info("packaged %s: add it with `den box add %s --name NAME`", out, out);
		rc = 0;
	}
	den_rm_rf(work, &ignored);
done:
	machine_close(&dm);
	return rc;
}
