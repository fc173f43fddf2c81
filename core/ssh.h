/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_SSH_H
#define DEN_CORE_SSH_H

/*
 * den's SSH client (libssh): one session per machine, reused across
 * commands (readiness checks, provisioners). The server's host key must
 * be the one den gave the machine; anything else is refused.
 */

#include <stddef.h>

#include "core/err.h"

struct den_ssh;

struct den_ssh_target {
	const char *host; /* "127.0.0.1" */
	int port;
	const char *user;
	const char *key_path; /* den's private key for the machine */
	const char *host_pub; /* "ssh-ed25519 AAAA...": the only host key accepted */
	int timeout_s;	      /* connect timeout */
};

/* Connects and logs in. */
int den_ssh_open(const struct den_ssh_target *t, struct den_ssh **out, struct den_err *err);

/*
 * Runs cmd; its output goes to out(buf, len, is_stderr, arg) as it comes
 * (out may be NULL). *status is its exit status.
 */
typedef void (*den_ssh_output_fn)(const char *buf, size_t len, int is_stderr, void *arg);
int den_ssh_exec(struct den_ssh *s, const char *cmd, den_ssh_output_fn out, void *arg, int *status,
		 struct den_err *err);

void den_ssh_close(struct den_ssh *s);

#endif
