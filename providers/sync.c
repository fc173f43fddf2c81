/* SPDX-License-Identifier: MIT */
/*
 * rsync synced folders (`type: rsync`), for every provider: the host
 * folder copied into the machine with rsync over den's SSH settings (the
 * host key checked), files owned inside by the folder's owner,
 * `rsync_exclude` and .den/ left out.
 */
#include "providers/provider.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/shquote.h"
#include "core/spawn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 256

static int run_rsync(char **argv, const struct synced_folder *f, const char *machine,
		     struct den_err *err)
{
	struct den_spawn sp = { .argv = (const char *const *)argv,
				.install = "install it: `make deps` does",
				.hint = "does the machine have rsync? den's boxes do" };

	if (den_spawn_run(&sp, err) < 0)
		return den_err_wrap(err, "machine %s: rsync of %s to %s", machine, f->host,
				    f->guest);
	return 0;
}

static int sync_one(const struct ssh_info *info, const struct synced_folder *f, const char *machine,
		    struct den_err *err)
{
	cleanup_free char *key = shell_quote(info->key_path), *kh = shell_quote(info->known_hosts);
	cleanup_free char *guest_q = shell_quote(f->guest), *ssh = NULL, *path = NULL, *src = NULL,
			  *dst = NULL, *chown = NULL;
	char *argv[MAX_ARGS];
	size_t n = 0;

	if (key == NULL || kh == NULL || guest_q == NULL ||
	    asprintf(&ssh,
		     "ssh -p %d -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes "
		     "-o IdentitiesOnly=yes -o PasswordAuthentication=no -o LogLevel=ERROR",
		     info->port, key, kh) < 0 ||
	    asprintf(&path, "sudo mkdir -p %s && sudo rsync", guest_q) < 0 ||
	    asprintf(&src, "%s/", f->host_path) < 0 ||
	    asprintf(&dst, "%s@%s:%s/", info->user, info->host, f->guest) < 0 ||
	    asprintf(&chown, "--chown=%s:%s", f->owner ? f->owner : info->user,
		     f->group ? f->group : (f->owner ? f->owner : info->user)) < 0)
		return den_err_set(err, ENOMEM, "rsync");
	argv[n++] = "rsync";
	argv[n++] = "--archive";
	argv[n++] = "--delete";
	argv[n++] = "--compress";
	argv[n++] =
		"--protect-args"; /* paths and names reach rsync inside unsplit, unread by a shell */
	argv[n++] = chown;
	argv[n++] = "--exclude=.den/";
	for (size_t i = 0; i < f->n_rsync_exclude && n < MAX_ARGS - 8; i++) {
		argv[n++] = "--exclude";
		argv[n++] = (char *)f->rsync_exclude[i];
	}
	argv[n++] = "-e";
	argv[n++] = ssh;
	argv[n++] = "--rsync-path";
	argv[n++] = path;
	argv[n++] = "--";
	argv[n++] = src;
	argv[n++] = dst;
	argv[n] = NULL;
	den_info("%s: rsync %s -> %s", machine, f->host, f->guest);
	return run_rsync(argv, f, machine, err);
}

int provider_rsync_folders(const struct provider_ops *ops, struct den_machine *dm,
			   struct den_err *err)
{
	struct ssh_info info;
	bool any = false;
	int rc = 0;

	for (size_t i = 0; i < dm->cfg->n_folders; i++)
		any |= !dm->cfg->folders[i].disabled && dm->cfg->folders[i].type == SYNC_RSYNC;
	if (!any)
		return 0;
	if (ops->ssh_info(dm, &info, err) < 0)
		return -1;
	for (size_t i = 0; i < dm->cfg->n_folders && rc == 0; i++) {
		const struct synced_folder *f = &dm->cfg->folders[i];
		if (!f->disabled && f->type == SYNC_RSYNC)
			rc = sync_one(&info, f, dm->cfg->name, err);
	}
	ssh_info_free(&info);
	return rc;
}
