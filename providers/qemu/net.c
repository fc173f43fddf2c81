/* SPDX-License-Identifier: MIT */
/*
 * A QEMU machine's network: `den net run` (den re-executed, detached) on
 * one end of a socket pair, QEMU's `-netdev stream` on the other. It
 * forwards SSH and the Envfile's ports from 127.0.0.1 and keeps the guest
 * off the host's loopback unless host_loopback says otherwise, which
 * QEMU's own user network cannot. It needs no pid of its own: when QEMU
 * ends, its end of the socket closes and `den net run` ends with it.
 */
#include "providers/qemu/qemu-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_NET_ARGS 80 /* den net run, 4 options, SSH and at most 64 forwards, NULL */

/* `den net run --fd 3 --ready-fd 4 ...` for m, malloc'd strings; NULL on no memory. */
static char **net_argv(const struct den_machine *m, int ssh_port, const int *hosts)
{
	const struct machine *c = m->cfg;
	char **v = calloc(MAX_NET_ARGS, sizeof(*v));
	size_t n = 0;
	bool ok = v != NULL && c->n_ports <= 64;

#define ADD(...) (ok = ok && asprintf(&v[n++], __VA_ARGS__) >= 0)
	ADD("den");
	ADD("net");
	ADD("run");
	ADD("--fd=3");
	ADD("--ready-fd=4");
	if (c->host_loopback)
		ADD("--host-loopback");
	ADD("--forward=tcp:127.0.0.1:%d:22", ssh_port);
	for (size_t i = 0; i < c->n_ports; i++)
		ADD("--forward=%s:%s:%d:%u", c->ports[i].protocol == FWD_UDP ? "udp" : "tcp",
		    c->ports[i].host_ip, hosts[i], c->ports[i].guest);
#undef ADD
	if (!ok) {
		for (size_t i = 0; v != NULL && i < n; i++)
			free(v[i]);
		free(v);
		return NULL;
	}
	return v;
}

static void free_argv(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int qemu_net_start(struct den_machine *m, int ssh_port, const int *hosts, int *qemu_end,
		   struct den_err *err)
{
	cleanup_free char *log = qemu_path(m, "net.log");
	char **argv = net_argv(m, ssh_port, hosts);
	int sv[2], ready[2];
	char tail[1024] = "", c;

	if (log == NULL || argv == NULL) {
		free_argv(argv);
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free_argv(argv);
		return den_err_set(err, errno, "machine %s: cannot make its network", m->cfg->name);
	}
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		free_argv(argv);
		return den_err_set(err, errno, "machine %s: cannot make its network", m->cfg->name);
	}
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		setsid();
		/* 3 and 4 may be taken: move both out of the way, then down. */
		int s = fcntl(sv[0], F_DUPFD_CLOEXEC, 256),
		    r = fcntl(ready[1], F_DUPFD_CLOEXEC, 256);
		if (fd < 0 || null < 0 || s < 0 || r < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 ||
		    dup2(fd, 2) < 0 || dup2(s, 3) < 0 || dup2(r, 4) < 0)
			_exit(126);
		close_range(5, ~0U, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	free_argv(argv);
	close(sv[0]);
	close(ready[1]);
	/* One byte once its ports are bound; nothing when it ended first. */
	ssize_t got;
	while ((got = read(ready[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (pid > 0 && got == 1) {
		*qemu_end = sv[1];
		return 0;
	}
	close(sv[1]);
	if (pid < 0)
		return den_err_set(err, errno, "machine %s: cannot start its network",
				   m->cfg->name);
	waitpid(pid, NULL, 0);
	den_read_tail(log, 4, tail, sizeof(tail));
	for (size_t n = strlen(tail); n > 0 && tail[n - 1] == '\n'; n--)
		tail[n - 1] = '\0';
	return den_err_set(err, 0, "machine %s: its network did not start: %s", m->cfg->name,
			   tail[0] ? tail : "no message");
}
