/* SPDX-License-Identifier: MIT */
/*
 * The SFTP subsystem of den's SSH server (sshd.h): protocol version 3, as
 * OpenSSH's sftp-server speaks it, over libssh's server-side SFTP, on the
 * container's own files as its root. What den's client, OpenSSH's sftp and
 * Ansible use: realpath, stat, lstat, fstat, open, read, write, close,
 * setstat, fsetstat, opendir, readdir, mkdir, rmdir, remove, rename,
 * readlink, symlink.
 */
#include "providers/container/sshd-internal.h"

/* libssh 0.10's server-side SFTP is its message API's, which it marks deprecated. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX (256 * 1024)
#define NAMES_PER_READDIR 64

/* An open file or folder, behind an SFTP handle. */
struct open_thing {
	int fd;	  /* a file, or -1 */
	DIR *dir; /* a folder, or NULL */
	char path[PATH_MAX];
};

static uint32_t status_of(int e)
{
	switch (e) {
	case 0:
		return SSH_FX_OK;
	case ENOENT:
	case ENOTDIR:
		return SSH_FX_NO_SUCH_FILE;
	case EACCES:
	case EPERM:
		return SSH_FX_PERMISSION_DENIED;
	case EEXIST:
		return SSH_FX_FILE_ALREADY_EXISTS;
	default:
		return SSH_FX_FAILURE;
	}
}

static void reply_errno(sftp_client_message m, int e)
{
	sftp_reply_status(m, status_of(e), e ? strerror(e) : "ok");
}

static void attrs_of(const struct stat *st, struct sftp_attributes_struct *a)
{
	memset(a, 0, sizeof(*a));
	a->flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID |
		   SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME;
	a->size = (uint64_t)st->st_size;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->permissions = st->st_mode;
	a->atime = (uint32_t)st->st_atime;
	a->mtime = (uint32_t)st->st_mtime;
}

/* setstat: what the client asked to change, in the order OpenSSH's server does it. */
static int apply_attrs(const char *path, int fd, const struct sftp_attributes_struct *a)
{
	if (a == NULL)
		return 0;
	if ((a->flags & SSH_FILEXFER_ATTR_SIZE) &&
	    (fd >= 0 ? ftruncate(fd, (off_t)a->size) : truncate(path, (off_t)a->size)) < 0)
		return -1;
	if ((a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	    (fd >= 0 ? fchmod(fd, a->permissions & 07777) : chmod(path, a->permissions & 07777)) <
		    0)
		return -1;
	if ((a->flags & SSH_FILEXFER_ATTR_ACMODTIME)) {
		struct timeval tv[2] = { { (time_t)a->atime, 0 }, { (time_t)a->mtime, 0 } };
		if ((fd >= 0 ? futimes(fd, tv) : utimes(path, tv)) < 0)
			return -1;
	}
	if ((a->flags & SSH_FILEXFER_ATTR_UIDGID) &&
	    (fd >= 0 ? fchown(fd, a->uid, a->gid) : chown(path, a->uid, a->gid)) < 0)
		return -1;
	return 0;
}

static void reply_stat(sftp_client_message m, int r, const struct stat *st)
{
	struct sftp_attributes_struct a;

	if (r < 0) {
		reply_errno(m, errno);
		return;
	}
	attrs_of(st, &a);
	sftp_reply_attr(m, &a);
}

static void do_open(sftp_session sftp, sftp_client_message m, bool dir)
{
	struct open_thing *t = calloc(1, sizeof(*t));
	uint32_t f = sftp_client_message_get_flags(m);
	const char *path = sftp_client_message_get_filename(m);
	mode_t mode = m->attr && (m->attr->flags & SSH_FILEXFER_ATTR_PERMISSIONS)
			      ? (mode_t)(m->attr->permissions & 07777)
			      : 0644;
	int flags = O_CLOEXEC | O_NOCTTY;
	ssh_string h;

	if (t == NULL) {
		reply_errno(m, ENOMEM);
		return;
	}
	t->fd = -1;
	snprintf(t->path, sizeof(t->path), "%s", path);
	if (dir) {
		t->dir = opendir(path);
	} else {
		flags |= (f & SSH_FXF_READ) && (f & SSH_FXF_WRITE) ? O_RDWR
			 : (f & SSH_FXF_WRITE)			   ? O_WRONLY
								   : O_RDONLY;
		flags |= (f & SSH_FXF_CREAT ? O_CREAT : 0) | (f & SSH_FXF_TRUNC ? O_TRUNC : 0) |
			 (f & SSH_FXF_EXCL ? O_EXCL : 0) | (f & SSH_FXF_APPEND ? O_APPEND : 0);
		t->fd = open(path, flags, mode);
	}
	if (t->fd < 0 && t->dir == NULL) {
		reply_errno(m, errno);
		free(t);
		return;
	}
	h = sftp_handle_alloc(sftp, t);
	if (h == NULL) {
		if (t->fd >= 0)
			close(t->fd);
		if (t->dir != NULL)
			closedir(t->dir);
		free(t);
		reply_errno(m, EMFILE);
		return;
	}
	sftp_reply_handle(m, h);
	ssh_string_free(h);
}

static void do_read(struct open_thing *t, sftp_client_message m)
{
	static char buf[READ_MAX];
	uint32_t len = m->len < READ_MAX ? m->len : READ_MAX;
	ssize_t n;

	if (t == NULL || t->fd < 0) {
		sftp_reply_status(m, SSH_FX_BAD_MESSAGE, "not an open file");
		return;
	}
	n = pread(t->fd, buf, len, (off_t)m->offset);
	if (n < 0)
		reply_errno(m, errno);
	else if (n == 0)
		sftp_reply_status(m, SSH_FX_EOF, "end of file");
	else
		sftp_reply_data(m, buf, (int)n);
}

static void do_write(struct open_thing *t, sftp_client_message m)
{
	const char *data = ssh_string_data(m->data);
	size_t len = ssh_string_len(m->data), done = 0;

	if (t == NULL || t->fd < 0) {
		sftp_reply_status(m, SSH_FX_BAD_MESSAGE, "not an open file");
		return;
	}
	while (done < len) {
		ssize_t n = pwrite(t->fd, data + done, len - done, (off_t)(m->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			reply_errno(m, n < 0 ? errno : EIO);
			return;
		}
		done += (size_t)n;
	}
	reply_errno(m, 0);
}

/* An entry as `ls -l` shows it: what OpenSSH's sftp prints for its own `ls -l`. */
static void long_name(const char *name, const struct stat *st, char *out, size_t size)
{
	static const char types[] = "?pc?d?b?-?l?s???";
	char mode[11], when[16];
	struct tm tm;

	mode[0] = types[(st->st_mode >> 12) & 017];
	for (int i = 0; i < 9; i++)
		mode[1 + i] = st->st_mode & (0400 >> i) ? "rwxrwxrwx"[i] : '-';
	mode[10] = '\0';
	if (gmtime_r(&st->st_mtime, &tm) == NULL ||
	    strftime(when, sizeof(when), "%b %e %H:%M", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	snprintf(out, size, "%s %3lu %-8u %-8u %8lld %s %s", mode, (unsigned long)st->st_nlink,
		 st->st_uid, st->st_gid, (long long)st->st_size, when, name);
}

static void do_readdir(struct open_thing *t, sftp_client_message m)
{
	struct sftp_attributes_struct a;
	struct dirent *e;
	int n = 0;

	if (t == NULL || t->dir == NULL) {
		sftp_reply_status(m, SSH_FX_BAD_MESSAGE, "not an open folder");
		return;
	}
	while (n < NAMES_PER_READDIR && (e = readdir(t->dir)) != NULL) {
		struct stat st;
		char longname[PATH_MAX + 128];
		memset(&a, 0, sizeof(a));
		snprintf(longname, sizeof(longname), "%s", e->d_name);
		if (fstatat(dirfd(t->dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			attrs_of(&st, &a);
			long_name(e->d_name, &st, longname, sizeof(longname));
		}
		sftp_reply_names_add(m, e->d_name, longname, &a);
		n++;
	}
	if (n == 0)
		sftp_reply_status(m, SSH_FX_EOF, "no more entries");
	else
		sftp_reply_names(m);
}

static void do_close(sftp_session sftp, struct open_thing *t, sftp_client_message m)
{
	int r = 0;

	if (t == NULL) {
		sftp_reply_status(m, SSH_FX_BAD_MESSAGE, "not an open handle");
		return;
	}
	if (t->fd >= 0)
		r = close(t->fd);
	if (t->dir != NULL)
		r = closedir(t->dir);
	sftp_handle_remove(sftp, t);
	free(t);
	reply_errno(m, r < 0 ? errno : 0);
}

static void do_realpath(sftp_client_message m)
{
	const char *p = sftp_client_message_get_filename(m);
	struct sftp_attributes_struct a = { 0 };
	char real[PATH_MAX];

	/* "." and "" are the login's home; what does not exist yet is named as asked. */
	if (p[0] == '\0' || strcmp(p, ".") == 0)
		p = getenv("HOME") ? getenv("HOME") : "/root";
	if (realpath(p, real) == NULL)
		snprintf(real, sizeof(real), "%s", p);
	sftp_reply_name(m, real, &a);
}

void ctr_sftp_handle(sftp_session sftp, sftp_client_message m)
{
	const char *path = sftp_client_message_get_filename(m);
	struct open_thing *t = m->handle ? sftp_handle(sftp, m->handle) : NULL;
	struct stat st;
	char target[PATH_MAX];
	ssize_t n;

	switch (sftp_client_message_get_type(m)) {
	case SSH_FXP_REALPATH:
		do_realpath(m);
		break;
	case SSH_FXP_STAT:
		reply_stat(m, stat(path, &st), &st);
		break;
	case SSH_FXP_LSTAT:
		reply_stat(m, lstat(path, &st), &st);
		break;
	case SSH_FXP_FSTAT:
		if (t == NULL || t->fd < 0)
			sftp_reply_status(m, SSH_FX_BAD_MESSAGE, "not an open file");
		else
			reply_stat(m, fstat(t->fd, &st), &st);
		break;
	case SSH_FXP_OPEN:
		do_open(sftp, m, false);
		break;
	case SSH_FXP_OPENDIR:
		do_open(sftp, m, true);
		break;
	case SSH_FXP_READ:
		do_read(t, m);
		break;
	case SSH_FXP_WRITE:
		do_write(t, m);
		break;
	case SSH_FXP_READDIR:
		do_readdir(t, m);
		break;
	case SSH_FXP_CLOSE:
		do_close(sftp, t, m);
		break;
	case SSH_FXP_SETSTAT:
		reply_errno(m, apply_attrs(path, -1, m->attr) < 0 ? errno : 0);
		break;
	case SSH_FXP_FSETSTAT:
		reply_errno(m, t == NULL || t->fd < 0		       ? EBADF
			       : apply_attrs(NULL, t->fd, m->attr) < 0 ? errno
								       : 0);
		break;
	case SSH_FXP_MKDIR:
		reply_errno(m,
			    mkdir(path, m->attr && (m->attr->flags & SSH_FILEXFER_ATTR_PERMISSIONS)
						? (mode_t)(m->attr->permissions & 07777)
						: 0755) < 0
				    ? errno
				    : 0);
		break;
	case SSH_FXP_RMDIR:
		reply_errno(m, rmdir(path) < 0 ? errno : 0);
		break;
	case SSH_FXP_REMOVE:
		reply_errno(m, unlink(path) < 0 ? errno : 0);
		break;
	case SSH_FXP_RENAME:
		/* SFTP v3: fails when the new name exists, as OpenSSH's server does. */
		reply_errno(m, renameat2(AT_FDCWD, path, AT_FDCWD, sftp_client_message_get_data(m),
					 RENAME_NOREPLACE) < 0
				       ? errno
				       : 0);
		break;
	case SSH_FXP_READLINK:
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0) {
			reply_errno(m, errno);
		} else {
			struct sftp_attributes_struct a = { 0 };
			target[n] = '\0';
			sftp_reply_name(m, target, &a);
		}
		break;
	case SSH_FXP_EXTENDED:
		/* What libssh's server offers (its version reply): OpenSSH's rename and link. */
		if (strcmp(sftp_client_message_get_submessage(m), "posix-rename@openssh.com") == 0)
			reply_errno(m,
				    rename(path, sftp_client_message_get_data(m)) < 0 ? errno : 0);
		else if (strcmp(sftp_client_message_get_submessage(m), "hardlink@openssh.com") == 0)
			reply_errno(m, link(path, sftp_client_message_get_data(m)) < 0 ? errno : 0);
		else
			sftp_reply_status(m, SSH_FX_OP_UNSUPPORTED,
					  "not supported by den's SFTP server");
		break;
	case SSH_FXP_SYMLINK:
		/* OpenSSH's order, which its clients and libssh's send: the target, then the link. */
		reply_errno(m, symlink(path, sftp_client_message_get_data(m)) < 0 ? errno : 0);
		break;
	default:
		sftp_reply_status(m, SSH_FX_OP_UNSUPPORTED, "not supported by den's SFTP server");
		break;
	}
}
