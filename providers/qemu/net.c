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
#include "core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_NET_ARGS 80 /* den net run, 4 options, SSH and at most 64 forwards, NULL */

/* `den net run --fd 3 --ready-fd 4 ...` for dm, malloc'd strings; NULL on no memory. */
static char **net_argv(const struct den_machine *dm, int ssh_port, const int *hosts)
{
	const struct machine *c = dm->cfg;
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

int qemu_net_start(struct den_machine *dm, int ssh_port, const int *hosts, int *qemu_end,
		   struct den_err *err)
{
	cleanup_free char *log = provider_path(dm, "net.log");
	cleanup_close int log_fd = -1;
	char **argv = net_argv(dm, ssh_port, hosts);
	int sv[2], ready[2], st;
	char tail[1024] = "", c;
	pid_t pid;

	if (log == NULL || argv == NULL) {
		free_argv(argv);
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	}
	log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		free_argv(argv);
		return den_err_set(err, errno, "machine %s: cannot write %s", dm->cfg->name, log);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free_argv(argv);
		return den_err_set(err, errno, "machine %s: cannot make its network",
				   dm->cfg->name);
	}
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		free_argv(argv);
		return den_err_set(err, errno, "machine %s: cannot make its network",
				   dm->cfg->name);
	}
	/* Its end of the socket pair and of the ready pipe are its 3 and 4; nothing else. */
	int give[2] = { sv[0], ready[1] };
	struct den_spawn sp = { .argv = (const char *const *)argv,
				.path = "/proc/self/exe",
				.in = DEN_SPAWN_NULL,
				.out = log_fd,
				.err_fd = log_fd,
				.fds = give,
				.n_fds = 2,
				.close_fds = true,
				.setsid = true };
	int rc = den_spawn_start(&sp, &pid, err);
	free_argv(argv);
	close(sv[0]);
	close(ready[1]);
	/* One byte once its ports are bound; nothing when it ended first. */
	ssize_t got = 0;
	while (rc == 0 && (got = read(ready[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (rc == 0 && got == 1) {
		*qemu_end = sv[1];
		return 0;
	}
	close(sv[1]);
	if (rc < 0)
		return den_err_wrap(err, "machine %s: cannot start its network", dm->cfg->name);
	den_spawn_wait(pid, &st, err);
	den_read_tail(log, 4, tail, sizeof(tail));
	for (size_t n = strlen(tail); n > 0 && tail[n - 1] == '\n'; n--)
		tail[n - 1] = '\0';
	return den_err_set(err, 0, "machine %s: its network did not start: %s", dm->cfg->name,
			   tail[0] ? tail : "no message");
}
