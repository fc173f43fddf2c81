/* SPDX-License-Identifier: MIT */
#include "core/fsutil.h"
#include "core/cleanup.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -1;
	return 0;
}

int den_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		     struct den_err *err)
{
	cleanup_free char *tmp = NULL;
	const char *slash = strrchr(path, '/');
	int fd;

	/* ".NAME.tmp.XXXXXX" beside the target, so rename() stays in one filesystem. */
	if (asprintf(&tmp, "%.*s.%s.tmp.XXXXXX", slash ? (int)(slash - path + 1) : 0, path,
		     slash ? slash + 1 : path) < 0)
		return den_err_set(err, ENOMEM, "cannot write %s", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return den_err_set(err, errno, "cannot write %s", path);
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return den_err_set(err, e, "cannot write %s", path);
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return den_err_set(err, e, "cannot write %s", path);
	}
	if (fsync_dir_of(path) < 0)
		return den_err_set(err, errno, "cannot sync the folder of %s", path);
	return 0;
}

int den_write_file_atomic(const char *path, const char *text, mode_t mode, struct den_err *err)
{
	return den_write_atomic(path, text, strlen(text), mode, err);
}

int den_read_file(const char *path, size_t max, char **out, size_t *len, struct den_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	size_t got = 0, cap = 0;

	if (fd < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	for (;;) {
		if (got == cap) {
			if (cap > max)
				return den_err_set(err, EFBIG,
						   "cannot read %s (larger than %zu bytes)", path,
						   max);
			cap = cap ? cap * 2 : 4096;
			char *p = realloc(buf, cap + 1);
			if (p == NULL)
				return den_err_set(err, ENOMEM, "cannot read %s", path);
			buf = p;
		}
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return den_err_set(err, errno, "cannot read %s", path);
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max)
		return den_err_set(err, EFBIG, "cannot read %s (larger than %zu bytes)", path, max);
	buf[got] = '\0';
	*out = steal_pointer(&buf);
	if (len != NULL)
		*len = got;
	return 0;
}

int den_mkdir_p(const char *path, mode_t mode, struct den_err *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return den_err_set(err, ENAMETOOLONG, "cannot create %s", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return den_err_set(err, errno, "cannot create %s", buf);
		*p = saved;
		if (saved == '\0')
			break;
	}
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return den_err_set(err, ENOTDIR, "cannot create %s", path);
	return 0;
}

int den_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool den_on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p != '\0';) {
		size_t len = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, p, prog);
		if (access(buf, X_OK) == 0)
			return true;
		p += len;
		if (*p == ':')
			p++;
	}
	return false;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int den_rm_rf(const char *path, struct den_err *err)
{
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return den_err_set(err, errno, "cannot remove %s", path);
	return 0;
}

void den_read_tail(const char *path, int lines, char *buf, size_t n)
{
	cleanup_free char *text = NULL;
	struct den_err ignored;
	size_t len = 0;

	buf[0] = '\0';
	if (den_read_file(path, 64 << 20, &text, &len, &ignored) < 0)
		return;
	const char *p = text + len;
	for (int seen = 0; p > text && seen < lines; p--)
		if (p[-1] == '\n' && p != text + len)
			seen++;
	snprintf(buf, n, "%s", p);
}
