/* SPDX-License-Identifier: MIT */
/* SSH to a machine: one login, and waiting for a booting machine to answer. */
#include "providers/provider.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/ssh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int provider_ssh_info(const struct den_machine *dm, const char *key_path, struct ssh_info *out,
		      struct den_err *err)
{
	memset(out, 0, sizeof(*out));
	out->host = strdup(dm->rec.ssh_host ? dm->rec.ssh_host : "127.0.0.1");
	out->port = dm->rec.ssh_port;
	out->user = strdup(dm->rec.ssh_user ? dm->rec.ssh_user : "den");
	if (key_path != NULL)
		out->key_path = strdup(key_path);
	else if (asprintf(&out->key_path, "%s/" KEYS_CLIENT, dm->dir) < 0)
		out->key_path = NULL;
	if (asprintf(&out->known_hosts, "%s/known_hosts", dm->dir) < 0)
		out->known_hosts = NULL;
	if (!out->host || !out->user || !out->key_path || !out->known_hosts) {
		ssh_info_free(out);
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	}
	return 0;
}

int provider_ssh_open(const struct provider_ops *ops, struct den_machine *dm, int timeout_s,
		      struct den_ssh **out, struct den_err *err)
{
	struct ssh_info info;
	cleanup_free char *host_pub = NULL;
	int rc;

	if (ops->ssh_info(dm, &info, err) < 0)
		return -1;
	if (keys_public(dm->dir, KEYS_HOST, &host_pub, err) < 0) {
		ssh_info_free(&info);
		return -1;
	}
	struct den_ssh_target t = { info.host,
				    info.port,
				    info.user,
				    info.key_path,
				    info.host_key_unchecked ? NULL : host_pub,
				    timeout_s };
	rc = den_ssh_open(&t, out, err);
	ssh_info_free(&info);
	return rc;
}

int provider_ssh_wait(const struct provider_ops *ops, struct den_machine *dm, struct den_ssh **out,
		      struct den_err *err)
{
	time_t deadline = time(NULL) + (time_t)dm->cfg->boot_timeout;
	long long t0 = den_now_ms(), said_ready = 0;
	char last[512] = "";

	for (int tries = 1; time(NULL) <= deadline; tries++) {
		struct den_ssh *s = NULL;
		if (ops->not_ready_yet != NULL && ops->not_ready_yet(dm)) {
			snprintf(last, sizeof(last),
				 "its hook has not said it is made: see its vmm.log");
			usleep(10000);
			continue;
		}
		if (ops->not_ready_yet != NULL && said_ready == 0) {
			said_ready = den_now_ms();
			den_debug("%s: its hook said it is made, %lld ms in", dm->cfg->name,
				  said_ready - t0);
		}
		/*
		 * A login is the answer: den's key accepted, and the account too
		 * (sshd's PAM account step refuses logins while the boot still
		 * says nologin). A command on top would start the user's shell,
		 * which a slow guest takes a third of a second for.
		 */
		if (provider_ssh_open(ops, dm, 5, &s, err) == 0) {
			den_debug("%s: SSH answered in %lld ms (%d tries)", dm->cfg->name,
				  den_now_ms() - t0, tries);
			*out = s;
			return 0;
		}
		snprintf(last, sizeof(last), "%.500s", err->msg);
		den_err_clear(err);
		enum machine_state st;
		if (ops->state(dm, &st, err) == 0 && st != MACHINE_RUNNING)
			return den_err_set(err, 0, "machine %s stopped while booting (%s)",
					   dm->cfg->name, last);
		den_err_clear(err);
		usleep(10000); /* sshd starts within tens of ms: look often */
	}
	return den_err_set(err, 0,
			   "machine %s did not answer on SSH within %u s (%s); raise "
			   "boot_timeout if it is just slow",
			   dm->cfg->name, dm->cfg->boot_timeout, last);
}
