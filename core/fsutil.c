/* SPDX-License-Identifier: MIT */
#include "core/fsutil.h"
#include "core/cleanup.h"
#include "core/utf8.h"

#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int den_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (errno = EIO, -1);
		done += (size_t)r;
	}
	return 0;
}

int den_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t r = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (errno = EIO, -1);
		done += (size_t)r;
	}
	return 0;
}

int den_write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t r = write(fd, (const char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : (errno = EIO, -1);
		done += (size_t)r;
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
	if (fchmod(fd, mode) < 0 || den_pwrite_all(fd, data, len, 0) < 0 || fsync(fd) < 0) {
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

/* Reads what is left of fd, at most max bytes (path names it in errors). */
static int read_fd(int fd, const char *path, size_t max, char **out, size_t *len,
		   struct den_err *err)
{
	cleanup_free char *buf = NULL;
	size_t got = 0, cap = 0;

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

int den_read_fd(int fd, const char *shown, size_t max, char **out, size_t *len, struct den_err *err)
{
	return read_fd(fd, shown, max, out, len, err);
}

int den_read_file(const char *path, size_t max, char **out, size_t *len, struct den_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	return read_fd(fd, path, max, out, len, err);
}

int den_read_own_file(const char *path, size_t max, char **out, size_t *len, struct den_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ELOOP)
		return den_err_set(err, ELOOP,
				   "%s is a link, and den never makes one there: something "
				   "changed den's state; remove it (or `den destroy` the machine)",
				   path);
	if (fd < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	if (fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return den_err_set(err, EPERM,
				   "%s is not a file of den's (%s): something changed den's "
				   "state; remove it (or `den destroy` the machine)",
				   path,
				   !S_ISREG(st.st_mode) ? "not a plain file" : "another owner");
	return read_fd(fd, path, max, out, len, err);
}

int den_check_own_socket(const char *path, struct den_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return den_err_set(err, errno, "cannot connect to %s", path);
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return den_err_set(err, ECONNREFUSED,
				   "%s is not a socket of den's (%s): something changed den's "
				   "state; remove it",
				   path, !S_ISSOCK(st.st_mode) ? "not a socket" : "another owner");
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

int den_sync_dir(const char *path, struct den_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return den_err_set(err, e, "cannot sync the folder %s", path);
	}
	close(fd);
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

/* Where den_rm_rf is, for its error: the path below its top, built as it goes. */
struct rm_walk {
	char path[PATH_MAX];
	size_t len;
};

/*
 * Removes name in directory at and everything below it, one directory fd at a
 * time: never following a symbolic link (a machine may have made them),
 * never entering another mount (its files are not this tree's: EBUSY),
 * and by each entry's own type, so a file system that reports other
 * devices for its files (an overlayfs over two file systems) is no
 * different. On failure w->path names the entry that failed.
 */
static int rm_at(int at, const char *name, struct rm_walk *w, unsigned depth);

static int rm_entry(int at, const char *name, struct rm_walk *w, unsigned depth)
{
	struct statx sx;
	int rc = 0;

	if (statx(at, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &sx) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sx.stx_mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	if (sx.stx_attributes_mask & sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)
		return errno = EBUSY, -1;
	if (depth == 512)
		return errno = ELOOP, -1;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? 0 : -1;
	}
	for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rc = rm_at(dirfd(d), e->d_name, w, depth + 1);
	int saved = errno;
	closedir(d);
	if (rc < 0)
		return errno = saved, -1;
	return unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_at(int at, const char *name, struct rm_walk *w, unsigned depth)
{
	size_t len = w->len;

	if (len + 1 + strlen(name) >= sizeof(w->path))
		return errno = ENAMETOOLONG, -1;
	w->len += (size_t)snprintf(w->path + len, sizeof(w->path) - len, "%s%s", len ? "/" : "",
				   name);
	if (rm_entry(at, name, w, depth) < 0)
		return -1;
	w->len = len;
	w->path[len] = '\0';
	return 0;
}

int den_rm_rf(const char *path, struct den_err *err)
{
	return den_rm_rf_at(AT_FDCWD, path, err);
}

int den_rm_rf_at(int at, const char *path, struct den_err *err)
{
	struct rm_walk w = { .len = 0 };

	if (rm_at(at, path, &w, 0) < 0) {
		if (errno == EBUSY)
			return den_err_set(
				err, 0,
				"cannot remove %s: %s is a mount point; unmount it, then "
				"try again",
				path, w.path);
		return den_err_set(err, errno, "cannot remove %s", w.path);
	}
	return 0;
}

/* How much of a log's end den_read_tail reads: a log may be huge, and is the guest's. */
#define TAIL_READ (64 << 10)

/*
 * s[0..len) into out (room for 4 * len + 1), every control character but
 * newline and tab (C0, DEL, C1) and every byte that is not valid UTF-8
 * written as \xHH: what a machine wrote never drives the terminal.
 */
static size_t escape_text(const unsigned char *s, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, k = 1;

	for (size_t i = 0; i < len; i += k) {
		long cp = den_utf8_next(s + i, len - i, &k);
		if (cp >= 0 && (!den_is_control(cp) || cp == '\n' || cp == '\t')) {
			memcpy(out + o, s + i, k);
			o += k;
			continue;
		}
		if (cp < 0)
			k = 1;
		for (size_t j = 0; j < k; j++) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[s[i + j] >> 4];
			out[o++] = hex[s[i + j] & 0xf];
		}
	}
	out[o] = '\0';
	return o;
}

void den_read_tail(const char *path, int lines, char *buf, size_t n)
{
	cleanup_close int fd = -1;
	cleanup_free char *text = NULL, *shown = NULL;
	const char *first, *p, *s, *end;
	size_t len = 0, slen;
	struct stat st;
	off_t from;

	if (n == 0)
		return;
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (lines <= 0 || fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (text = malloc(TAIL_READ)) == NULL)
		return;
	from = st.st_size > TAIL_READ ? st.st_size - TAIL_READ : 0;
	while (len < TAIL_READ) {
		ssize_t got = pread(fd, text + len, TAIL_READ - len, from + (off_t)len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	/* The last `lines` lines; a line cut by the read window is left out. */
	first = text;
	if (from > 0 && (p = memchr(text, '\n', len)) != NULL && p + 1 < text + len)
		first = p + 1;
	p = text + len;
	if (p > first && p[-1] == '\n')
		p--;
	for (int seen = 0; p > first; p--)
		if (p[-1] == '\n' && ++seen == lines)
			break;
	len = (size_t)(text + len - p);
	if ((shown = malloc(4 * len + 1)) == NULL)
		return;
	slen = escape_text((const unsigned char *)p, len, shown);
	s = shown;
	end = shown + slen;
	if (slen >= n) {
		/* The end matters most: keep what fits, from a line start if one is there. */
		s = end - (n - 1);
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (nl != NULL && nl + 1 < end)
			s = nl + 1;
		while (s < end && ((unsigned char)*s & 0xc0) == 0x80)
			s++;
	}
	memcpy(buf, s, (size_t)(end - s) + 1);
}

size_t den_proc_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	cleanup_close int fd = -1;
	ssize_t n;

	if (pid <= 0 || size == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, buf, size - 1)) <= 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}
