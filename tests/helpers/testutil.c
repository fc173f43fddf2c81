/* SPDX-License-Identifier: MIT */
#include "tests/helpers/testutil.h"
#include "core/envfile.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *den_bin(void)
{
	const char *b = getenv("DEN_BIN");
	cr_assert(b != NULL, "DEN_BIN is not set: run the tests through ctest");
	return b;
}

/* Reads both pipes until they close, so a chatty child never blocks. */
static void drain(int out_fd, int err_fd, char **out, char **err)
{
	size_t len[2] = { 0, 0 }, cap[2] = { 4096, 4096 };
	char *buf[2] = { malloc(cap[0]), malloc(cap[1]) };
	struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	int open_fds = 2;

	cr_assert(buf[0] && buf[1]);
	while (open_fds > 0) {
		if (poll(p, 2, -1) < 0) {
			cr_assert(errno == EINTR);
			continue;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (len[i] + 4096 > cap[i]) {
				cap[i] *= 2;
				buf[i] = realloc(buf[i], cap[i]);
				cr_assert(buf[i]);
			}
			ssize_t n = read(p[i].fd, buf[i] + len[i], cap[i] - len[i] - 1);
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			} else {
				len[i] += (size_t)n;
			}
		}
	}
	buf[0][len[0]] = '\0';
	buf[1][len[1]] = '\0';
	*out = buf[0];
	*err = buf[1];
}

void run_den(struct den_run *r, const char *dir, const char *const *env, const char *const *argv)
{
	int out[2], err[2];
	const char *bin = den_bin();

	cr_assert(pipe(out) == 0 && pipe(err) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		const char *args[64];
		size_t n = 0;

		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		if (dir != NULL && chdir(dir) < 0)
			_exit(126);
		for (size_t i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		args[n++] = "den";
		for (size_t i = 0; argv[i] != NULL && n < 63; i++)
			args[n++] = argv[i];
		args[n] = NULL;
		execv(bin, (char *const *)args);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	drain(out[0], err[0], &r->out, &r->err);
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void den_run_free(struct den_run *r)
{
	free(r->out);
	free(r->err);
}

char *make_temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;

	cr_assert(asprintf(&path, "%s/den-test-XXXXXX", tmp && tmp[0] ? tmp : "/tmp") > 0);
	cr_assert(mkdtemp(path) != NULL, "mkdtemp: %s", strerror(errno));
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void write_file(const char *dir, const char *name, const char *text)
{
	char *path = NULL;

	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	for (char *p = path + strlen(dir) + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL, "cannot write %s: %s", path, strerror(errno));
	cr_assert(fputs(text, f) >= 0);
	cr_assert(fclose(f) == 0);
	free(path);
}

char *source_path(const char *rel)
{
	const char *src = getenv("DEN_SOURCE_DIR");
	char *path = NULL;

	cr_assert(src != NULL, "DEN_SOURCE_DIR is not set: run the tests through ctest");
	cr_assert(asprintf(&path, "%s/%s", src, rel) > 0);
	return path;
}

struct envfile *load_steps(const char *project, const char *steps)
{
	char text[4096];
	struct envfile *ef = NULL;
	struct den_err err = { 0 };

	snprintf(text, sizeof(text),
		 "den: 1\nmachines:\n  web:\n    box: den/debian-12\n    provision:\n%s", steps);
	cr_assert(envfile_load_buffer(text, strlen(text), "Envfile", project, &ef, &err) == 0, "%s",
		  err.msg);
	return ef;
}
