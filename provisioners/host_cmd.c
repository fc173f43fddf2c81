/* SPDX-License-Identifier: MIT */
#include "provisioners/host_cmd.h"
#include "core/spawn.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

int prov_run_host(char *const argv[], char *const env_add[], const char *cwd,
		  struct prov_output *out, int *status, struct den_err *err)
{
	struct den_spawn sp = { .argv = (const char *const *)argv,
				.cwd = cwd,
				.env = (const char *const *)env_add,
				.in = DEN_SPAWN_NULL,
				.out = DEN_SPAWN_PIPE,
				.err_fd = DEN_SPAWN_PIPE };
	char buf[8192];
	int st;
	pid_t pid;

	if (den_spawn_start(&sp, &pid, err) < 0)
		return -1;
	struct pollfd p[2] = { { sp.out, POLLIN, 0 }, { sp.err_fd, POLLIN, 0 } };
	for (int open_fds = 2; open_fds > 0;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0) {
				prov_output_feed(buf, (size_t)n, i, out);
			} else if (n == 0 || errno != EINTR) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	prov_output_flush(out);
	if (den_spawn_wait(pid, &st, err) < 0)
		return -1;
	*status = den_spawn_exit_code(st);
	return 0;
}
