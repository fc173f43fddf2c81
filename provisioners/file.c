/* SPDX-License-Identifier: MIT */
/*
 * The file provisioner: a host file or folder (recursively) to a path in
 * the machine, folders created as needed; `~` is the SSH user's home.
 * Where the SSH user may write, it goes there directly by SFTP; elsewhere
 * (/etc, /opt...) it goes to a staging folder in /tmp and is copied into
 * place with sudo, owned by root.
 *
 * The source is resolved once, beneath the project and without following
 * a symlink on its way (core/hostpath.h): code in a machine can plant
 * symlinks in a synced project folder. Symlinks in the source arrive as
 * symlinks, here and in the sudo copy (cp -P).
 */
#include "provisioners/provisioner.h"
#include "core/cleanup.h"
#include "core/hostpath.h"
#include "core/shquote.h"
#include "core/ssh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies the staged upload into place as root; the staging folder goes. */
static int install_with_sudo(struct prov_ctx *ctx, const struct prov_step *step, const char *stage,
			     const char *staged, const char *dest, bool dir, struct den_err *err)
{
	cleanup_free char *qs = shell_quote(stage), *qf = shell_quote(staged),
			  *qd = shell_quote(dest), *cmd = NULL;
	int status = -1;

	if (qs == NULL || qf == NULL || qd == NULL)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	const char *sudo = prov_sudo(ctx);
	if (dir ? asprintf(&cmd,
			   "%smkdir -p -- %s && %scp -PR -- %s/. %s; rc=$?; "
			   "rm -rf -- %s; exit $rc",
			   sudo, qd, sudo, qf, qd, qs) < 0
		: asprintf(&cmd,
			   "%smkdir -p -- \"$(dirname -- %s)\" && %scp -P -- %s %s; "
			   "rc=$?; rm -rf -- %s; exit $rc",
			   sudo, qd, sudo, qf, qd, qs) < 0)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	if (den_ssh_exec(ctx->ssh, cmd, prov_output_feed, ctx->out, &status, err) < 0)
		return den_err_wrap(err, "machine %s: step '%s'", ctx->machine->cfg->name,
				    step->name);
	if (status != 0)
		return prov_step_failed(ctx, step, status, err);
	return 0;
}

static int run(struct prov_ctx *ctx, const struct prov_step *step, struct den_err *err)
{
	const struct prov_file *f = &step->file;
	cleanup_free char *dest = NULL, *stage = NULL, *target = NULL;
	cleanup_hostpath struct hostpath src = { .dir_fd = -1 };
	/* Relative as written (beneath the project), so that messages name it as the Envfile does. */
	const char *path = f->source[0] == '/' || f->source[0] == '~' ? f->source_abs : f->source;
	const char *home;
	mode_t type = 0;

	if (hostpath_resolve(ctx->ef->root, path, 0, &src, err) < 0)
		return den_err_wrap(err, "machine %s: step '%s'", ctx->machine->cfg->name,
				    step->name);
	if (den_ssh_home(ctx->ssh, &home, err) < 0)
		return -1;
	if (f->destination[0] == '~' && f->destination[1] != '/' && f->destination[1] != '\0')
		return den_err_set(
			err, 0,
			"machine %s: step '%s': destination %s: only ~ and ~/... (the SSH "
			"user's home) are understood",
			ctx->machine->cfg->name, step->name, f->destination);
	if (f->destination[0] != '~')
		dest = strdup(f->destination);
	else if (asprintf(&dest, "%s%s", home, f->destination + 1) < 0)
		dest = NULL;
	if (dest == NULL)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	struct den_err direct = { 0 };
	if (den_ssh_put_tree(ctx->ssh, src.dir_fd, src.name, f->source, dest, &type, &direct) == 0)
		return 0;
	/* Not the SSH user's to write: stage in /tmp, then sudo. */
	static unsigned uploads;
	const char *base = strrchr(f->source_abs, '/');
	base = base && base[1] ? base + 1 : "file";
	if (asprintf(&stage, "/tmp/den-file-%d-%u", (int)getpid(), uploads++) < 0 ||
	    asprintf(&target, "%s/%s", stage, base) < 0)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	if (den_ssh_put_tree(ctx->ssh, src.dir_fd, src.name, f->source, target, &type, err) < 0)
		return den_err_wrap(err, "machine %s: step '%s' (%s; then staging in /tmp)",
				    ctx->machine->cfg->name, step->name, direct.msg);
	return install_with_sudo(ctx, step, stage, target, dest, S_ISDIR(type), err);
}

const struct provisioner_ops prov_file = {
	.name = "file",
	.kind = PROV_FILE,
	.run = run,
};
