/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_CONTAINER_SSHD_H
#define DEN_PROVIDERS_CONTAINER_SSHD_H

/*
 * den's own SSH server, for container boxes with no sshd (most container
 * images: docs/container.md, "den's SSH server"). It runs in the
 * container as den-init's main process, den's code forked there (the
 * image has no den binary): libssh's server API, public-key
 * authentication with den's per-machine key only, den's host key;
 * sessions run the image's own /bin/sh as root (exec, shell with a pty,
 * the image's Env and WorkingDir), and an SFTP subsystem (sftpd.c).
 * libssh and the keys are loaded before the container's root is entered:
 * nothing of the image's is read but what its sessions run.
 */

#include <stdbool.h>

#include "core/err.h"

#define CTR_SSHD_MAX_ENV 64

struct ctr_sshd {
	int port;	     /* where it listens: 22, or den's port (the host's network) */
	bool loopback;	     /* on 127.0.0.1 only (the host's network) */
	void *host_key;	     /* ssh_key: the machine's host key */
	void *client_key;    /* ssh_key: den's key, the only one let in */
	const char *workdir; /* the image's WorkingDir, or NULL (then /root) */
	const char *env[CTR_SSHD_MAX_ENV + 1]; /* the image's Env, "NAME=value" */
};

/* Before the root is entered: libssh loaded and set up, the keys read (from den's files). */
int ctr_sshd_prepare(struct ctr_sshd *d, const char *host_key, const char *client_key,
		     struct den_err *err);

/* In the container: listens and serves until SIGTERM; its exit code. */
int ctr_sshd_serve(const struct ctr_sshd *d);

#endif
