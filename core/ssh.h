/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_SSH_H
#define DEN_CORE_SSH_H

/*
 * den's SSH client (libssh): one session per machine, reused across
 * commands (readiness checks, provisioners). The server's host key must
 * be the one den gave the machine; anything else is refused.
 */

#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"

struct den_ssh;

struct den_ssh_target {
	const char *host; /* "127.0.0.1" */
	int port;
	const char *user;
	const char *key_path; /* den's private key for the machine */
	const char *host_pub; /* "ssh-ed25519 AAAA...": the only host key accepted; NULL: any
				 (a Vagrant box's first boot, before den's key is in it) */
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

/*
 * SFTP, on a channel opened with the first call and kept. Guest paths are
 * absolute or relative to the login user's home; "~/x" means the same.
 */
/* The login user's home ("/home/den"); the string lives with the session. */
int den_ssh_home(struct den_ssh *s, const char **home, struct den_err *err);
/* mkdir -p in the guest; new folders get mode. */
int den_ssh_mkdir_p(struct den_ssh *s, const char *path, mode_t mode, struct den_err *err);
/*
 * A host file to path in the guest (parents created), with mode. local is
 * opened following symlinks: only for den's own files, never a project's
 * (those go through den_ssh_put_tree()).
 */
int den_ssh_put_file(struct den_ssh *s, const char *local, const char *remote, mode_t mode,
		     struct den_err *err);
/* Text to path in the guest (parents created), with mode. */
int den_ssh_put_text(struct den_ssh *s, const char *text, size_t len, const char *remote,
		     mode_t mode, struct den_err *err);
/*
 * The host file, folder or symlink `name` in the folder dir_fd (as
 * core/hostpath.h resolves it) to remote: a file with its mode; a folder
 * recursively, its contents into remote (created as needed), modes kept;
 * a symlink, there or inside a folder, as a symlink with the same target
 * (rsync -l), never followed. Each entry is opened relative to its
 * folder's descriptor without following links and read through what was
 * opened, so nothing is looked up again by path. Fifos, sockets and
 * devices inside a folder are skipped with a warning; `name` itself being
 * one is an error. shown names the source in messages. *type (may be
 * NULL) gets what name was (S_IFREG, S_IFDIR, S_IFLNK).
 */
int den_ssh_put_tree(struct den_ssh *s, int dir_fd, const char *name, const char *shown,
		     const char *remote, mode_t *type, struct den_err *err);

void den_ssh_close(struct den_ssh *s);

#endif
