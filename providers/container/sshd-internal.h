/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_CONTAINER_SSHD_INTERNAL_H
#define DEN_PROVIDERS_CONTAINER_SSHD_INTERNAL_H

/*
 * Inside den's SSH server (sshd.h): one connection's process serves its
 * session channels side by side (a client such as den's keeps an SFTP
 * channel open while it runs commands on others), driven by one libssh
 * event loop: the connection's socket, each command's output, and a
 * signalfd for SIGCHLD.
 */

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#define WITH_SERVER 1
#include <libssh/sftp.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "providers/container/sshd.h"

#define SSHD_MAX_CHANNELS 32
#define SSHD_CLIENT_ENV_MAX 32

struct sshd_conn;

/* One session channel: a command (pipes or a pty), a login shell, or SFTP. */
struct sshd_chan {
	struct sshd_conn *conn;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	bool pty;
	char term[64];
	struct winsize ws;
	char *env[SSHD_CLIENT_ENV_MAX + 1];
	size_t n_env;
	pid_t pid; /* the command, once started */
	int status;
	bool exited;
	int in_fd, out_fd, err_fd; /* -1 once closed; with a pty, the master for all */
	bool out_eof, err_eof;	   /* seen by the event callbacks, closed by the loop */
	sftp_session sftp;
	bool sftp_ready;
	bool client_closed;
	bool done; /* finished: the loop frees it */
};

struct sshd_conn {
	ssh_session s;
	ssh_event ev;
	const struct ctr_sshd *d;
	struct sshd_chan *chans[SSHD_MAX_CHANNELS];
};

/* A channel the client opened, with its callbacks set; NULL when there is no room. */
struct sshd_chan *sshd_chan_new(struct sshd_conn *conn, ssh_channel ch);

/* Starts the channel's command (a login shell when cmd is NULL). */
void sshd_chan_start(struct sshd_chan *c, const char *cmd);

/* After each round of events: what the channel has to do (SFTP, its end). */
void sshd_chan_step(struct sshd_chan *c);

/* The connection ends: the command is ended, the channel freed. */
void sshd_chan_free(struct sshd_chan *c);

/* One SFTP request answered (sftpd.c). */
void ctr_sftp_handle(sftp_session sftp, sftp_client_message m);

#endif
