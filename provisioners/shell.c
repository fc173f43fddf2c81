/* SPDX-License-Identifier: MIT */
/*
 * The shell provisioner: the script (inline, or a host file) goes to
 * upload_path by SFTP, then runs over the machine's SSH session with its
 * args and env quoted for the shell, under sudo unless privileged: false.
 * A script without "#!" runs with bash (sh where there is no bash), as
 * Vagrant's inline scripts do.
 */
#include "provisioners/provisioner.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/hostpath.h"
#include "core/shquote.h"
#include "core/ssh.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SCRIPT (16 << 20)

/* "/tmp/den-shell-<name>" with the name made path-safe. */
static char *default_upload_path(const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "/tmp/den-shell-%s", name) < 0)
		return NULL;
	for (char *c = p + strlen("/tmp/den-shell-"); *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			*c = '_';
	return p;
}

/* The command line that runs the uploaded script (malloc'd). */
static char *command_for(const struct prov_shell *sh, const char *sudo, const char *path,
			 bool shebang)
{
	char *cmd = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&cmd, &len);
	cleanup_free char *qpath = shell_quote(path);

	if (f == NULL || qpath == NULL) {
		if (f != NULL)
			fclose(f);
		free(cmd);
		return NULL;
	}
	fprintf(f, "chmod 0755 %s && exec ", qpath);
	if (sh->privileged && sudo[0] != '\0')
		fputs("sudo -n -H -- ", f);
	fputs("env", f);
	for (size_t i = 0; i < sh->n_env; i++) {
		cleanup_free char *kv = NULL, *q = NULL;
		if (asprintf(&kv, "%s=%s", sh->env[i].name, sh->env[i].value) >= 0 &&
		    (q = shell_quote(kv)) != NULL)
			fprintf(f, " %s", q);
	}
	if (!shebang)
		fputs(" /bin/sh -c 'if command -v bash >/dev/null; then exec bash \"$0\" \"$@\"; "
		      "fi; exec sh \"$0\" \"$@\"'",
		      f);
	fprintf(f, " %s", qpath);
	for (size_t i = 0; i < sh->n_args; i++) {
		cleanup_free char *q = shell_quote(sh->args[i]);
		if (q != NULL)
			fprintf(f, " %s", q);
	}
	if (fclose(f) != 0) {
		free(cmd);
		return NULL;
	}
	return cmd;
}

/* The script at path, opened beneath the project following no symlink; shown names it. */
static int read_host_script(const char *root, const char *path, const char *shown, char **out,
			    size_t *len, struct den_err *err)
{
	cleanup_hostpath struct hostpath hp = { .dir_fd = -1 };
	cleanup_close int fd = -1;
	struct stat st;

	if (hostpath_resolve(root, path, 0, &hp, err) < 0)
		return -1;
	/* O_NONBLOCK: a fifo planted there must not hang den; fstat refuses it below. */
	fd = openat(hp.dir_fd, hp.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ELOOP)
		return den_err_set(err, 0,
				   "%s is a symlink, and den follows no symlink in a script it "
				   "sends into a machine (code in a machine can plant one in a "
				   "synced folder): name the real file",
				   shown);
	if (fd < 0 || fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	if (!S_ISREG(st.st_mode))
		return den_err_set(err, 0, "cannot read %s: not a plain file", shown);
	return den_read_fd(fd, shown, MAX_SCRIPT, out, len, err);
}

int prov_shell_read_script(const char *root, const struct prov_step *step, char **out, size_t *len,
			   struct den_err *err)
{
	const struct prov_shell *sh = &step->shell;

	if (sh->inline_script == NULL) {
		/* Relative as written (beneath the project), so that messages name it as the Envfile does. */
		const char *path =
			sh->path[0] == '/' || sh->path[0] == '~' ? sh->path_abs : sh->path;
		if (read_host_script(root, path, sh->path, out, len, err) < 0)
			return den_err_wrap(err, "step '%s'", step->name);
		return 0;
	}
	*out = strdup(sh->inline_script);
	if (*out == NULL)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	*len = strlen(*out);
	return 0;
}

static int run(struct prov_ctx *ctx, const struct prov_step *step, struct den_err *err)
{
	const struct prov_shell *sh = &step->shell;
	cleanup_free char *script = NULL, *upload = NULL, *cmd = NULL;
	size_t len = 0;
	int status = -1;

	if (prov_shell_read_script(ctx->ef->root, step, &script, &len, err) < 0)
		return -1;
	/* "~/x" and relative paths are the SSH user's home's: made absolute for the command. */
	const char *home = NULL, *want = sh->upload_path;
	if (want != NULL && want[0] != '/' && den_ssh_home(ctx->ssh, &home, err) < 0)
		return den_err_wrap(err, "machine %s: step '%s'", ctx->machine->cfg->name,
				    step->name);
	if (want == NULL)
		upload = default_upload_path(step->name);
	else if (home == NULL)
		upload = strdup(want);
	else if (asprintf(&upload, "%s/%s", home, strncmp(want, "~/", 2) == 0 ? want + 2 : want) <
		 0)
		upload = NULL;
	if (upload == NULL)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	if (den_ssh_put_text(ctx->ssh, script, len, upload, 0755, err) < 0)
		return den_err_wrap(err, "machine %s: step '%s' could not upload its script",
				    ctx->machine->cfg->name, step->name);
	cmd = command_for(sh, prov_sudo(ctx), upload,
			  len > 2 && script[0] == '#' && script[1] == '!');
	if (cmd == NULL)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	ctx->out->keep_color = sh->keep_color;
	if (den_ssh_exec(ctx->ssh, cmd, prov_output_feed, ctx->out, &status, err) < 0)
		return den_err_wrap(err, "machine %s: step '%s'", ctx->machine->cfg->name,
				    step->name);
	prov_output_flush(ctx->out);
	ctx->out->keep_color = false;
	ctx->exit_code = status;
	if (status != 0)
		return prov_step_failed(ctx, step, status, err);
	if (sh->reboot && ctx->reboot(ctx, err) < 0)
		return den_err_wrap(err, "machine %s: step '%s' (reboot: true)",
				    ctx->machine->cfg->name, step->name);
	return 0;
}

const struct provisioner_ops prov_shell = {
	.name = "shell",
	.kind = PROV_SHELL,
	.run = run,
};
