/* SPDX-License-Identifier: MIT */
#include "providers/qemu/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int qemu_img(char *const argv[], char *out, size_t out_len, struct den_err *err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return den_err_set(err, errno, "cannot run qemu-img");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return den_err_set(err, errno, "cannot run qemu-img");
	}
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execvp("qemu-img", argv);
		_exit(127);
	}
	close(p[1]);
	size_t got = 0;
	for (;;) {
		char scratch[4096];
		char *dst = got + 1 < out_len ? out + got : scratch;
		size_t room = got + 1 < out_len ? out_len - 1 - got : sizeof(scratch);
		ssize_t n = read(p[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != scratch)
			got += (size_t)n;
	}
	out[got] = '\0';
	close(p[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return den_err_set(err, 0, "qemu-img is not installed (package qemu-utils)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *nl = strrchr(out, '\n');
		if (nl != NULL && nl[1] == '\0')
			*nl = '\0';
		return den_err_set(err, 0, "qemu-img %s failed: %s", argv[1], out);
	}
	return 0;
}

int qemu_disk_size(const char *path, const char *format, uint64_t *size, struct den_err *err)
{
	char *out = malloc(QEMU_IMG_OUTPUT_MAX);
	/* The format is given, never probed: a raw image may look like anything. */
	char *argv[] = { "qemu-img",   "info", "--output=json", "-f", (char *)format,
			 (char *)path, NULL };
	json_error_t jerr;

	if (out == NULL)
		return den_err_set(err, ENOMEM, "qemu-img");
	if (qemu_img(argv, out, QEMU_IMG_OUTPUT_MAX, err) < 0) {
		free(out);
		return -1;
	}
	json_t *info = json_loads(out, 0, &jerr);
	free(out);
	json_t *v = json_object_get(info, "virtual-size");
	json_t *data = json_object_get(
		json_object_get(json_object_get(info, "format-specific"), "data"), "data-file");
	int rc = 0;
	/* A box that reads other files of the host is hostile: its backing or data file. */
	if (json_object_get(info, "backing-filename") != NULL || data != NULL)
		rc = den_err_set(err, 0,
				 "%s refers to another file (a backing or data file): refused, a "
				 "box must be one self-contained image",
				 path);
	else if (!json_is_integer(v) || json_integer_value(v) < 0)
		rc = den_err_set(err, 0, "qemu-img info %s: no virtual size", path);
	else
		*size = (uint64_t)json_integer_value(v);
	json_decref(info);
	return rc;
}

int qemu_disk_create(const char *base, const char *base_format, const char *path, uint64_t size,
		     struct den_err *err)
{
	char out[4096], size_arg[32];
	uint64_t base_size = 0;

	if (base[0] != '/')
		return den_err_set(err, EINVAL, "the box image %s must be an absolute path", base);
	if (qemu_disk_size(base, base_format, &base_size, err) < 0)
		return den_err_wrap(err, "the box image");
	/* A disk_size under the box's is ignored: a disk never shrinks below its file systems. */
	snprintf(size_arg, sizeof(size_arg), "%llu",
		 (unsigned long long)(size > base_size ? size : base_size));
	char *argv[] = {
		"qemu-img",	     "create", "-q",	     "-f",	   "qcow2",  "-F",
		(char *)base_format, "-b",     (char *)base, (char *)path, size_arg, NULL
	};
	return qemu_img(argv, out, sizeof(out), err);
}
