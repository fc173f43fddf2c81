/* SPDX-License-Identifier: MIT */
#include "provisioners/host_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int prov_run_host(char *const argv[], char *const env_add[], const char *cwd,
		  struct prov_output *out, int *status, struct den_err *err)
{
	int fds[2][2] = { { -1, -1 }, { -1, -1 } }, st;
	char buf[8192];
	pid_t pid;

	if (pipe2(fds[0], O_CLOEXEC) < 0 || pipe2(fds[1], O_CLOEXEC) < 0) {
		for (int i = 0; i < 2; i++)
			if (fds[i][0] >= 0)
				close(fds[i][0]), close(fds[i][1]);
		return den_err_set(err, errno, "cannot run %s", argv[0]);
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(fds[0][1], 1) < 0 ||
		    dup2(fds[1][1], 2) < 0 || (cwd != NULL && chdir(cwd) < 0))
			_exit(126);
		for (size_t i = 0; env_add != NULL && env_add[i] != NULL; i++)
			putenv(env_add[i]);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0][1]);
	close(fds[1][1]);
	if (pid < 0) {
		close(fds[0][0]);
		close(fds[1][0]);
		return den_err_set(err, errno, "cannot run %s", argv[0]);
	}
	struct pollfd p[2] = { { fds[0][0], POLLIN, 0 }, { fds[1][0], POLLIN, 0 } };
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
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return den_err_set(err, errno, "cannot wait for %s", argv[0]);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}
