/* SPDX-License-Identifier: MIT */
/* Uploads over SFTP (libssh), for provisioners and `den upload`. */
#include "core/ssh-internal.h"
#include "core/cleanup.h"
#include "core/log.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 64
/* One SFTP write: libssh 0.10 sends a write as one packet, and sftp-server drops any over 256K. */
#define CHUNK (32 * 1024)

static int sftp_fail(struct den_ssh *s, const char *what, const char *path, struct den_err *err)
{
	const char *why = ssh_get_error(s->session);
	int code = s->sftp ? sftp_get_error(s->sftp) : 0;

	if (code == SSH_FX_PERMISSION_DENIED)
		why = "permission denied (the SSH user cannot write there)";
	else if (code == SSH_FX_NO_SUCH_FILE)
		why = "no such file or folder";
	den_err_set(err, 0, "cannot %s %s in the machine: %s", what, path,
		    why && why[0] ? why : "SFTP error");
	/* A broken SFTP channel is not reused: the next upload opens a new one. */
	if (code != SSH_FX_PERMISSION_DENIED && code != SSH_FX_NO_SUCH_FILE &&
	    code != SSH_FX_FILE_ALREADY_EXISTS && code != SSH_FX_FAILURE)
		s->sftp_broken = true;
	return -1;
}

static int open_sftp(struct den_ssh *s, struct den_err *err)
{
	if (s->sftp != NULL && s->sftp_broken) {
		sftp_free(s->sftp);
		s->sftp = NULL;
	}
	s->sftp_broken = false;
	if (s->sftp != NULL)
		return 0;
	s->sftp = sftp_new(s->session);
	if (s->sftp == NULL || sftp_init(s->sftp) != SSH_OK) {
		den_err_set(err, 0, "cannot start SFTP in the machine: %s",
			    ssh_get_error(s->session));
		if (s->sftp != NULL)
			sftp_free(s->sftp);
		s->sftp = NULL;
		return -1;
	}
	return 0;
}

int den_ssh_home(struct den_ssh *s, const char **home, struct den_err *err)
{
	if (s->home == NULL) {
		if (open_sftp(s, err) < 0)
			return -1;
		char *h = sftp_canonicalize_path(s->sftp, ".");
		if (h == NULL)
			return sftp_fail(s, "find", "the home folder", err);
		s->home = strdup(h);
		ssh_string_free_char(h);
		if (s->home == NULL)
			return den_err_set(err, ENOMEM, "cannot find the home folder");
	}
	*home = s->home;
	return 0;
}

/* "~/x" -> "x" (SFTP paths are relative to the home already). */
static const char *guest_path(const char *p)
{
	if (strcmp(p, "~") == 0)
		return ".";
	return strncmp(p, "~/", 2) == 0 ? p + 2 : p;
}

int den_ssh_mkdir_p(struct den_ssh *s, const char *path, mode_t mode, struct den_err *err)
{
	char part[4096];
	const char *p = guest_path(path);
	size_t len = strlen(p);

	if (open_sftp(s, err) < 0)
		return -1;
	if (len >= sizeof(part))
		return den_err_set(err, ENAMETOOLONG, "cannot create %s", path);
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		snprintf(part, sizeof(part), "%.*s", (int)i, p);
		sftp_attributes a = sftp_stat(s->sftp, part);
		if (a != NULL) {
			bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
			sftp_attributes_free(a);
			if (!dir)
				return den_err_set(err, 0,
						   "cannot create %s in the machine: %s is a file",
						   path, part);
			continue;
		}
		if (sftp_mkdir(s->sftp, part, mode) < 0 &&
		    sftp_get_error(s->sftp) != SSH_FX_FILE_ALREADY_EXISTS)
			return sftp_fail(s, "create", part, err);
	}
	return 0;
}

static int parent_of(struct den_ssh *s, const char *remote, struct den_err *err)
{
	char dir[4096];
	const char *p = guest_path(remote), *slash = strrchr(p, '/');

	if (slash == NULL || slash == p)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - p), p);
	return den_ssh_mkdir_p(s, dir, 0755, err);
}

/* Writes from fd (or text when fd < 0) to remote, replacing it. */
static int put(struct den_ssh *s, int fd, const char *text, size_t len, const char *remote,
	       mode_t mode, struct den_err *err)
{
	char buf[CHUNK];
	const char *p = guest_path(remote);
	sftp_file f;
	int rc = 0;

	if (open_sftp(s, err) < 0 || parent_of(s, remote, err) < 0)
		return -1;
	f = sftp_open(s->sftp, p, O_WRONLY | O_CREAT | O_TRUNC, mode & 07777);
	if (f == NULL)
		return sftp_fail(s, "write", remote, err);
	if (fd < 0) {
		for (size_t off = 0; off < len && rc == 0;) {
			size_t want = len - off < CHUNK ? len - off : CHUNK;
			ssize_t n = sftp_write(f, text + off, want);
			if (n <= 0)
				rc = sftp_fail(s, "write", remote, err);
			else
				off += (size_t)n;
		}
	} else {
		ssize_t n;
		while (rc == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				rc = den_err_set(err, errno, "cannot read the file for %s", remote);
			for (ssize_t off = 0; rc == 0 && off < n;) {
				ssize_t w = sftp_write(f, buf + off, (size_t)(n - off));
				if (w <= 0)
					rc = sftp_fail(s, "write", remote, err);
				else
					off += w;
			}
		}
	}
	if (sftp_close(f) < 0 && rc == 0)
		rc = sftp_fail(s, "write", remote, err);
	/* The umask on the other side may have narrowed it. */
	if (rc == 0 && sftp_chmod(s->sftp, p, mode & 07777) < 0)
		rc = sftp_fail(s, "set the mode of", remote, err);
	return rc;
}

int den_ssh_put_text(struct den_ssh *s, const char *text, size_t len, const char *remote,
		     mode_t mode, struct den_err *err)
{
	return put(s, -1, text, len, remote, mode, err);
}

int den_ssh_put_file(struct den_ssh *s, const char *local, const char *remote, mode_t mode,
		     struct den_err *err)
{
	cleanup_close int fd = open(local, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return den_err_set(err, errno, "cannot read %s", local);
	return put(s, fd, NULL, 0, remote, mode, err);
}

static int put_entry(struct den_ssh *s, int dir_fd, const char *name, const char *shown,
		     const char *remote, int depth, mode_t *type, struct den_err *err);

static const char *special_kind(mode_t mode)
{
	return S_ISFIFO(mode) ? "a fifo" : S_ISSOCK(mode) ? "a socket" : "a device";
}

/* A symlink as a symlink (rsync -l): its target is text, never followed on the host. */
static int put_link(struct den_ssh *s, int dir_fd, const char *name, const char *shown,
		    const char *remote, struct den_err *err)
{
	char target[4096];
	const char *p = guest_path(remote);
	ssize_t n = readlinkat(dir_fd, name, target, sizeof(target));

	if (n < 0)
		return den_err_set(err, errno, "cannot read the symlink %s", shown);
	if ((size_t)n == sizeof(target))
		return den_err_set(err, ENAMETOOLONG, "cannot read the symlink %s", shown);
	target[n] = '\0';
	if (open_sftp(s, err) < 0 || parent_of(s, remote, err) < 0)
		return -1;
	/* Replaces what an earlier upload left there, as a file would be; never a folder. */
	sftp_attributes a = sftp_lstat(s->sftp, p);
	if (a != NULL) {
		bool dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
		sftp_attributes_free(a);
		if (dir)
			return den_err_set(
				err, 0,
				"cannot upload the symlink %s: %s is a folder in the machine",
				shown, remote);
		if (sftp_unlink(s->sftp, p) < 0)
			return sftp_fail(s, "replace", remote, err);
	}
	if (sftp_symlink(s->sftp, target, p) < 0)
		return sftp_fail(s, "create the symlink", remote, err);
	return 0;
}

/* A regular file, read through the descriptor opened here. */
static int put_regular(struct den_ssh *s, int dir_fd, const char *name, const char *shown,
		       const char *remote, struct den_err *err)
{
	/* O_NONBLOCK: a fifo swapped in since the fstatat must not hang den. */
	cleanup_close int fd =
		openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	if (fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	if (!S_ISREG(st.st_mode))
		return den_err_set(err, 0, "cannot upload %s: it changed while being read", shown);
	return put(s, fd, NULL, 0, remote, st.st_mode & 0777, err);
}

static int put_dir(struct den_ssh *s, int dir_fd, const char *name, const char *shown,
		   const char *remote, int depth, struct den_err *err)
{
	cleanup_close int fd =
		openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	struct dirent *e;
	int rc = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	/* No link is followed, so only bind mounts could loop: a depth limit is enough. */
	if (depth == MAX_DEPTH)
		return den_err_set(err, ELOOP, "cannot upload %s: nested too deep", shown);
	/* Writable while it fills (a 0555 source folder too); its own mode after. */
	if (den_ssh_mkdir_p(s, remote, 0755, err) < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (d == NULL)
		return den_err_set(err, errno, "cannot read %s", shown);
	fd = -1; /* the DIR has it now */
	while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
		cleanup_free char *from = NULL, *to = NULL;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (asprintf(&from, "%s/%s", shown, e->d_name) < 0 ||
		    asprintf(&to, "%s/%s", remote, e->d_name) < 0)
			rc = den_err_set(err, ENOMEM, "cannot upload %s", shown);
		else
			rc = put_entry(s, dirfd(d), e->d_name, from, to, depth + 1, NULL, err);
	}
	if (rc == 0 && errno != 0)
		rc = den_err_set(err, errno, "cannot read %s", shown);
	closedir(d);
	if (rc == 0 && sftp_chmod(s->sftp, guest_path(remote), st.st_mode & 0777) < 0)
		rc = sftp_fail(s, "set the mode of", remote, err);
	return rc;
}

/* name in dir_fd, whatever it is, looked at once and never followed. */
static int put_entry(struct den_ssh *s, int dir_fd, const char *name, const char *shown,
		     const char *remote, int depth, mode_t *type, struct den_err *err)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	if (type != NULL)
		*type = st.st_mode & S_IFMT;
	if (S_ISLNK(st.st_mode))
		return put_link(s, dir_fd, name, shown, remote, err);
	if (S_ISREG(st.st_mode))
		return put_regular(s, dir_fd, name, shown, remote, err);
	if (S_ISDIR(st.st_mode))
		return put_dir(s, dir_fd, name, shown, remote, depth, err);
	if (depth == 0)
		return den_err_set(err, 0,
				   "cannot upload %s: it is %s; den uploads files, folders and "
				   "symlinks",
				   shown, special_kind(st.st_mode));
	den_warn("skipped %s: it is %s", shown, special_kind(st.st_mode));
	return 0;
}

int den_ssh_put_tree(struct den_ssh *s, int dir_fd, const char *name, const char *shown,
		     const char *remote, mode_t *type, struct den_err *err)
{
	return put_entry(s, dir_fd, name, shown, remote, 0, type, err);
}
