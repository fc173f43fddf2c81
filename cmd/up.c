/* SPDX-License-Identifier: MIT */
/*
 * `den up [MACHINE...] [--provider P]`: for each machine, the box (as
 * Envfile.lock says, fetched when missing), then the provider starts it,
 * then den waits until SSH answers with the host key it gave the machine
 * and runs `true` there. Provisioning comes with the provisioners.
 */
#include "boxes/lock.h"
#include "boxes/resolve.h"
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/project.h"
#include "core/ssh.h"
#include "providers/provider.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The login user: the Envfile's ssh.username, else what the box says, else "den". */
static char *box_user(const struct machine *m, const char *box_dir)
{
	cleanup_free char *path = NULL, *text = NULL;
	struct den_err ignored;
	char *user = NULL;

	if (m->ssh.username != NULL)
		return strdup(m->ssh.username);
	if (asprintf(&path, "%s/metadata.json", box_dir) >= 0 &&
	    den_read_file(path, 1 << 20, &text, NULL, &ignored) == 0) {
		json_t *j = json_loads(text, 0, NULL);
		const char *u =
			json_string_value(json_object_get(json_object_get(j, "den"), "ssh_user"));
		user = u ? strdup(u) : NULL;
		json_decref(j);
	}
	return user ? user : strdup("den");
}

/* What the machine printed last, for an error about its boot. */
static void add_console_tail(const struct den_machine *dm, struct den_err *err)
{
	cleanup_free char *log = NULL;
	char tail[1024] = "", why[DEN_ERR_MSG_MAX];

	snprintf(why, sizeof(why), "%s", err->msg);
	if (asprintf(&log, "%s/console.log", dm->dir) >= 0)
		den_read_tail(log, 6, tail, sizeof(tail));
	for (size_t n = strlen(tail); n > 0 && tail[n - 1] == '\n'; n--)
		tail[n - 1] = '\0';
	den_err_set(err, 0, "%s; the end of %s:\n%s", why, log ? log : "console.log",
		    tail[0] ? tail : "(empty)");
}

/* Tries SSH until it answers or boot_timeout passes. */
static int wait_ssh(struct den_machine *dm, const struct provider_ops *ops, struct den_err *err)
{
	struct ssh_info info;
	cleanup_free char *host_pub = NULL;
	time_t deadline = time(NULL) + (time_t)dm->cfg->boot_timeout;
	char last[512] = "";

	if (ops->ssh_info(dm, &info, err) < 0 ||
	    keys_public(dm->dir, KEYS_HOST, &host_pub, err) < 0)
		return -1;
	struct den_ssh_target t = { info.host, info.port, info.user, info.key_path, host_pub, 5 };
	int rc = -1;
	while (time(NULL) <= deadline) {
		struct den_ssh *s = NULL;
		int status = -1;
		if (den_ssh_open(&t, &s, err) == 0) {
			rc = den_ssh_exec(s, "true", NULL, NULL, &status, err);
			den_ssh_close(s);
			if (rc == 0 && status == 0)
				break;
			rc = -1;
		}
		snprintf(last, sizeof(last), "%.500s", err->msg);
		den_err_clear(err);
		enum machine_state st;
		if (ops->state(dm, &st, err) == 0 && st != MACHINE_RUNNING) {
			den_err_set(err, 0, "machine %s stopped while booting (%s)", dm->cfg->name,
				    last);
			break;
		}
		den_err_clear(err);
		usleep(10000); /* sshd starts within tens of ms: look often */
	}
	if (rc < 0 && !den_err_is_set(err))
		den_err_set(err, 0,
			    "machine %s did not answer on SSH within %u s (%s); raise "
			    "boot_timeout if it is just slow",
			    dm->cfg->name, dm->cfg->boot_timeout, last);
	ssh_info_free(&info);
	if (rc < 0)
		add_console_tail(dm, err);
	return rc;
}

static int up_one(struct den_ctx *ctx, const struct machine *m, const char *provider,
		  const char *home, struct boxlock *lock, struct den_err *err)
{
	const struct provider_ops *ops = provider_find(provider);
	struct den_machine dm;
	struct store_entry box;
	enum machine_state st = MACHINE_NOT_CREATED;
	cleanup_free char *user = NULL;
	int rc = -1;

	if (ops == NULL)
		return den_err_set(err, 0,
				   "machine %s: provider %s is not in this version of den "
				   "yet; use provider: container",
				   m->name, provider);
	if (ops->probe(err) < 0)
		return den_err_wrap(err, "machine %s", m->name);
	if (machine_open(ctx->root, m, &dm, err) < 0)
		return -1;
	if (dm.exists && ops->state(&dm, &st, err) == 0 && st == MACHINE_RUNNING) {
		den_info("%s is already running", m->name);
		machine_close(&dm);
		return 0;
	}
	den_err_clear(err);
	struct resolve_opts ro = { .home = home, .progress = cmd_progress() };
	struct box_want w = { m->box, m->box_version, provider,
			      m->box_url ? m->box_url : getenv("DEN_BOX_SERVER") };
	if (box_resolve(&ro, &w, lock, &box, err) < 0) {
		machine_close(&dm);
		return den_err_wrap(err, "machine %s", m->name);
	}
	user = box_user(m, box.dir);
	dm.box_dir = box.dir;
	dm.ssh_user = user;
	free(dm.rec.box);
	free(dm.rec.box_version);
	dm.rec.box = strdup(box.name);
	dm.rec.box_version = strdup(box.version);
	den_info("%s: starting (%s %s, %s)", m->name, box.name, box.version, provider);
	if (ops->up(&dm, err) == 0 &&
	    cmd_index_project(home, ctx->root, ctx->envfile_path, err) == 0 &&
	    wait_ssh(&dm, ops, err) == 0) {
		den_info("%s is up: `den ssh %s` logs in (127.0.0.1:%d)", m->name, m->name,
			 dm.rec.ssh_port);
		rc = 0;
	}
	store_entry_free(&box);
	machine_close(&dm);
	return rc;
}

int cmd_up(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ "no-provision", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *provider = NULL;
	cleanup_free char *home = NULL;
	struct machine **sel = NULL;
	struct boxlock lock;
	size_t n = 0;
	int c, rc = 0;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
		if (c == 'p')
			provider = optarg;
		else if (c != 'n')
			return den_err_usage(err, "unknown option '%s' for `den up`",
					     argv[optind - 1]);
	}
	if (provider != NULL && provider_find(provider) == NULL)
		return den_err_usage(err, "no provider '%s' in this den (container is)", provider);
	if (den_home(&home, err) < 0 ||
	    cmd_select(ctx, argv + optind, (size_t)(argc - optind), true, &sel, &n, err) < 0)
		return -1;
	if (boxlock_read(ctx->envfile_path, &lock, err) < 0) {
		free(sel);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = up_one(ctx, sel[i], provider ? provider : cmd_machine_provider(sel[i]), home,
			    &lock, err);
	if (boxlock_write(&lock, err) < 0)
		rc = -1;
	boxlock_free(&lock);
	free(sel);
	return rc;
}
