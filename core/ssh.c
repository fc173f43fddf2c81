/* SPDX-License-Identifier: MIT */
#include "core/ssh-internal.h"
#include "core/clock.h"
#include "core/lazylib.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's key must be ours: compared in full, not by fingerprint text. */
static int check_host_key(ssh_session s, const struct den_ssh_target *t, struct den_err *err)
{
	ssh_key server = NULL, expected = NULL;
	char type[64] = "", b64[1024] = "";
	int rc;

	if (sscanf(t->host_pub, "%63s %1023s", type, b64) != 2)
		return den_err_set(err, 0, "the recorded host key is damaged");
	if (ssh_get_server_publickey(s, &server) != SSH_OK)
		return den_err_set(err, 0, "the server sent no host key");
	if (ssh_pki_import_pubkey_base64(b64, SSH_KEYTYPE_ED25519, &expected) != SSH_OK) {
		ssh_key_free(server);
		return den_err_set(err, 0, "the recorded host key is damaged");
	}
	rc = ssh_key_cmp(server, expected, SSH_KEY_CMP_PUBLIC);
	ssh_key_free(server);
	ssh_key_free(expected);
	if (rc != 0)
		return den_err_set(err, 0,
				   "the host key of %s:%d is not the one den gave the machine: "
				   "something else answers on that port",
				   t->host, t->port);
	return 0;
}

int den_ssh_open(const struct den_ssh_target *t, struct den_ssh **out, struct den_err *err)
{
	struct den_ssh *d;
	ssh_key key = NULL;
	long timeout = t->timeout_s > 0 ? t->timeout_s : 10;
	int port = t->port, no = 0;

	if (den_ssh_load(err) < 0)
		return -1;
	d = calloc(1, sizeof(*d));
	if (d == NULL || (d->session = ssh_new()) == NULL) {
		free(d);
		return den_err_set(err, ENOMEM, "cannot open an SSH session");
	}
	ssh_options_set(d->session, SSH_OPTIONS_HOST, t->host);
	ssh_options_set(d->session, SSH_OPTIONS_PORT, &port);
	ssh_options_set(d->session, SSH_OPTIONS_USER, t->user);
	ssh_options_set(d->session, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(d->session, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519");
	/* Small packets back and forth (one per step): Nagle would hold each ~40 ms. */
	int one = 1;
	ssh_options_set(d->session, SSH_OPTIONS_NODELAY, &one);
	/* Only what the caller gives: no ~/.ssh/config, no agent, no known_hosts files. */
	ssh_options_set(d->session, SSH_OPTIONS_PROCESS_CONFIG, &no);
	long long t0 = den_now_ms();
	if (ssh_connect(d->session) != SSH_OK) {
		den_err_set(err, 0, "cannot connect to %s:%d: %s", t->host, t->port,
			    ssh_get_error(d->session));
		goto fail;
	}
	long long t_kex = den_now_ms();
	if (t->host_pub != NULL && check_host_key(d->session, t, err) < 0)
		goto fail;
	if (ssh_pki_import_privkey_file(t->key_path, NULL, NULL, NULL, &key) != SSH_OK) {
		den_err_set(err, 0, "cannot read the key %s", t->key_path);
		goto fail;
	}
	if (ssh_userauth_publickey(d->session, t->user, key) != SSH_AUTH_SUCCESS) {
		ssh_key_free(key);
		den_err_set(err, 0, "%s@%s:%d refused den's key: %s", t->user, t->host, t->port,
			    ssh_get_error(d->session));
		goto fail;
	}
	ssh_key_free(key);
	den_debug("SSH to %s:%d: keys exchanged in %lld ms, logged in %lld ms after", t->host,
		  t->port, t_kex - t0, den_now_ms() - t_kex);
	*out = d;
	return 0;
fail:
	den_ssh_close(d);
	return -1;
}

int den_ssh_exec(struct den_ssh *s, const char *cmd, den_ssh_output_fn out, void *arg, int *status,
		 struct den_err *err)
{
	ssh_channel ch = ssh_channel_new(s->session);
	char buf[16384];
	int rc = 0;

	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		rc = den_err_set(err, 0, "cannot run a command over SSH: %s",
				 ssh_get_error(s->session));
		goto out;
	}
	/* Both streams as they come: an unread one would stall the channel's window. */
	for (;;) {
		int n1 = ssh_channel_read_timeout(ch, buf, sizeof(buf), 0, 50);
		if (n1 > 0 && out != NULL)
			out(buf, (size_t)n1, 0, arg);
		int n2 = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 1);
		if (n2 > 0 && out != NULL)
			out(buf, (size_t)n2, 1, arg);
		if (n1 == SSH_ERROR || n2 == SSH_ERROR) {
			rc = den_err_set(err, 0, "SSH connection lost: %s",
					 ssh_get_error(s->session));
			goto out;
		}
		if (n1 <= 0 && n2 <= 0 && ssh_channel_is_eof(ch))
			break;
	}
	ssh_channel_send_eof(ch);
	*status = ssh_channel_get_exit_status(ch);
out:
	if (ch != NULL) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return rc;
}

void den_ssh_close(struct den_ssh *s)
{
	if (s == NULL)
		return;
	if (s->sftp != NULL)
		sftp_free(s->sftp);
	free(s->home);
	if (s->session != NULL) {
		ssh_disconnect(s->session);
		ssh_free(s->session);
	}
	free(s);
}
