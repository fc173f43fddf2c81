/* SPDX-License-Identifier: MIT */
/*
 * den's SSH server in a container with no sshd (providers/container/sshd.h).
 * One process listens; each connection is served by a process of its own:
 * den's key authenticated, then its session channels served side by side
 * from one event loop (sshd-internal.h, sshd_channel.c).
 */
#include "providers/container/sshd-internal.h"
#include "core/lazylib.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * libssh 0.10 marks its message API deprecated for the callback API; its
 * server-side SFTP (sftpd.c) is built on the message API, and so is this.
 */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#define AUTH_TRIES 20
#define LOOP_MS 1000

int ctr_sshd_prepare(struct ctr_sshd *d, const char *host_key, const char *client_key,
		     struct den_err *err)
{
	ssh_key host = NULL, client = NULL;

	if (den_ssh_load(err) < 0)
		return -1;
	/* libcrypto set up now, from the host's files: never from the image's configuration. */
	if (ssh_init() < 0)
		return den_err_set(err, 0, "cannot set up libssh");
	if (ssh_pki_import_privkey_file(host_key, NULL, NULL, NULL, &host) != SSH_OK)
		return den_err_set(err, 0, "cannot read the machine's host key %s", host_key);
	if (ssh_pki_import_pubkey_file(client_key, &client) != SSH_OK) {
		ssh_key_free(host);
		return den_err_set(err, 0, "cannot read den's key %s", client_key);
	}
	d->host_key = host;
	d->client_key = client;
	return 0;
}

/* Only den's key, signed: libssh checks the signature before it says VALID. */
static int authenticate(ssh_session s, const struct ctr_sshd *d)
{
	for (int tries = 0; tries < AUTH_TRIES;) {
		ssh_message m = ssh_message_get(s);
		bool done = false;

		if (m == NULL)
			return -1;
		if (ssh_message_type(m) == SSH_REQUEST_AUTH &&
		    ssh_message_subtype(m) == SSH_AUTH_METHOD_PUBLICKEY &&
		    ssh_key_cmp(ssh_message_auth_pubkey(m), d->client_key, SSH_KEY_CMP_PUBLIC) ==
			    0) {
			int state = ssh_message_auth_publickey_state(m);
			if (state == SSH_PUBLICKEY_STATE_NONE) {
				ssh_message_auth_reply_pk_ok_simple(m);
				ssh_message_free(m);
				continue;
			}
			if (state == SSH_PUBLICKEY_STATE_VALID) {
				ssh_message_auth_reply_success(m, 0);
				done = true;
			}
		}
		if (!done) {
			if (ssh_message_type(m) == SSH_REQUEST_AUTH)
				tries++;
			ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
			ssh_message_reply_default(m);
		}
		ssh_message_free(m);
		if (done)
			return 0;
	}
	return -1;
}

static struct sshd_chan *find(struct sshd_conn *conn, ssh_channel ch)
{
	for (size_t i = 0; i < SSHD_MAX_CHANNELS; i++)
		if (conn->chans[i] != NULL && conn->chans[i]->ch == ch)
			return conn->chans[i];
	return NULL;
}

/* A request on a channel: 0 when answered here, 1 for libssh's default answer (no). */
static int channel_request(struct sshd_conn *conn, ssh_message m)
{
	struct sshd_chan *c = find(conn, ssh_message_channel_request_channel(m));
	int sub = ssh_message_subtype(m);
	bool started = c != NULL && (c->pid != 0 || c->sftp != NULL);

	if (c == NULL || started)
		return 1;
	switch (sub) {
	case SSH_CHANNEL_REQUEST_PTY:
		c->pty = true;
		snprintf(c->term, sizeof(c->term), "%s", ssh_message_channel_request_pty_term(m));
		c->ws.ws_col = (unsigned short)ssh_message_channel_request_pty_width(m);
		c->ws.ws_row = (unsigned short)ssh_message_channel_request_pty_height(m);
		break;
	case SSH_CHANNEL_REQUEST_ENV: {
		const char *k = ssh_message_channel_request_env_name(m),
			   *v = ssh_message_channel_request_env_value(m);
		if (c->n_env < SSHD_CLIENT_ENV_MAX && k && v && strchr(k, '=') == NULL &&
		    asprintf(&c->env[c->n_env], "%s=%s", k, v) >= 0)
			c->n_env++;
		break;
	}
	case SSH_CHANNEL_REQUEST_EXEC:
	case SSH_CHANNEL_REQUEST_SHELL: {
		const char *cmd = sub == SSH_CHANNEL_REQUEST_EXEC
					  ? ssh_message_channel_request_command(m)
					  : NULL;
		if (sub == SSH_CHANNEL_REQUEST_EXEC && cmd == NULL)
			return 1;
		ssh_message_channel_request_reply_success(m);
		sshd_chan_start(c, cmd);
		return 0;
	}
	case SSH_CHANNEL_REQUEST_SUBSYSTEM:
		if (strcmp(ssh_message_channel_request_subsystem(m), "sftp") != 0)
			return 1;
		c->sftp = sftp_server_new(conn->s, c->ch);
		if (c->sftp == NULL)
			return 1;
		break;
	default:
		return 1; /* x11, agent forwarding, signals: not offered */
	}
	ssh_message_channel_request_reply_success(m);
	return 0;
}

/* libssh's message callback: session channels opened, their requests answered. */
static int on_message(ssh_session s, ssh_message m, void *ud)
{
	struct sshd_conn *conn = ud;

	(void)s;
	if (ssh_message_type(m) == SSH_REQUEST_CHANNEL_OPEN &&
	    ssh_message_subtype(m) == SSH_CHANNEL_SESSION) {
		ssh_channel ch = ssh_message_channel_request_open_reply_accept(m);
		if (ch != NULL && sshd_chan_new(conn, ch) == NULL) {
			ssh_channel_close(ch);
			ssh_channel_free(ch);
		}
		return 0;
	}
	if (ssh_message_type(m) == SSH_REQUEST_CHANNEL)
		return channel_request(conn, m);
	return 1; /* port forwarding, global requests: no */
}

/* SIGCHLD, as a descriptor the event loop wakes for; the loop reaps. */
static int on_sigchld(socket_t fd, int revents, void *ud)
{
	struct signalfd_siginfo si;

	(void)revents, (void)ud;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	return 0;
}

/* A connection, in its own process: authenticated, then its channels until it ends. */
static __attribute__((noreturn)) void serve_connection(ssh_session s, const struct ctr_sshd *d)
{
	struct sshd_conn conn = { .s = s, .d = d };
	sigset_t chld;
	int sigfd;

	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0 || ssh_handle_key_exchange(s) != SSH_OK || authenticate(s, d) < 0) {
		ssh_disconnect(s);
		_exit(1);
	}
	conn.ev = ssh_event_new();
	if (conn.ev == NULL || ssh_event_add_session(conn.ev, s) != SSH_OK ||
	    ssh_event_add_fd(conn.ev, sigfd, POLLIN, on_sigchld, NULL) != SSH_OK)
		_exit(1);
	ssh_set_message_callback(s, on_message, &conn);
	/* Requests the client sent right after it logged in are queued already. */
	ssh_execute_message_callbacks(s);
	while (ssh_is_connected(s)) {
		if (ssh_event_dopoll(conn.ev, LOOP_MS) == SSH_ERROR && !ssh_is_connected(s))
			break;
		for (size_t i = 0; i < SSHD_MAX_CHANNELS; i++) {
			struct sshd_chan *c = conn.chans[i];
			if (c == NULL)
				continue;
			sshd_chan_step(c);
			if (c->done)
				sshd_chan_free(c);
		}
	}
	for (size_t i = 0; i < SSHD_MAX_CHANNELS; i++)
		if (conn.chans[i] != NULL)
			sshd_chan_free(conn.chans[i]);
	ssh_disconnect(s);
	_exit(0);
}

int ctr_sshd_serve(const struct ctr_sshd *d)
{
	struct sigaction reap = { .sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT };
	ssh_bind b = ssh_bind_new();
	bool no = false;
	int port = d->port;

	/* Connections' processes are reaped by the kernel: none is waited for. */
	sigaction(SIGCHLD, &reap, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (b == NULL ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR,
				 d->loopback ? "127.0.0.1" : "0.0.0.0") != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT, &port) != SSH_OK ||
	    /* The image's /etc/ssh is the image's: libssh reads no configuration there. */
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
	    /*
	     * Clients order SFTP's symlink arguments by the server's name (libssh's
	     * client sends the draft's order to any server but OpenSSH): named as
	     * OpenSSH, every client sends OpenSSH's order, which sftpd.c takes.
	     */
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BANNER, "OpenSSH_9.2 den") != SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, d->host_key) != SSH_OK ||
	    ssh_bind_listen(b) != SSH_OK) {
		fprintf(stderr, "den: SSH server: cannot listen on port %d: %s\n", port,
			b ? ssh_get_error(b) : "out of memory");
		return 1;
	}
	fprintf(stderr, "den: SSH server listening on port %d\n", port);
	for (;;) {
		ssh_session s = ssh_new();
		if (s == NULL)
			return 1;
		if (ssh_bind_accept(b, s) != SSH_OK) {
			ssh_free(s);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			ssh_bind_free(b);
			serve_connection(s, d);
		}
		ssh_free(s);
	}
}
