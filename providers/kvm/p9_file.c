/* SPDX-License-Identifier: MIT */
/*
 * File I/O: lopen, lcreate, read, write, readdir, fsync and clunk. A fid
 * is opened by reopening its own O_PATH descriptor through /proc/self/fd,
 * so what is opened is the object the fid named when it was walked, and
 * only ever a regular file or a directory.
 */
#include "providers/kvm/p9-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Tlopen's and Tlcreate's flags (Linux's P9_DOTL_*), translated one by one. */
#define DOTL_ACCMODE 03
#define DOTL_EXCL 0200
#define DOTL_TRUNC 01000
#define DOTL_APPEND 02000
#define DOTL_DSYNC 010000
#define DOTL_DIRECTORY 0200000
#define DOTL_SYNC 04000000

#define DIRENT_BUF (32u << 10)

/* The open(2) flags den honours; the rest (O_DIRECT, O_NOATIME, O_ASYNC...) are dropped. */
static int host_flags(uint32_t dotl)
{
	static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR, -1 };
	int f = acc[dotl & DOTL_ACCMODE];

	if (f < 0)
		return -1;
	if (dotl & DOTL_TRUNC)
		f |= O_TRUNC;
	if (dotl & DOTL_APPEND)
		f |= O_APPEND;
	if (dotl & DOTL_SYNC)
		f |= O_SYNC;
	else if (dotl & DOTL_DSYNC)
		f |= O_DSYNC;
	return f;
}

static bool writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

int p9_open_io(int fd, mode_t type, int flags)
{
	char proc[P9_PROC_PATH];

	if (S_ISLNK(type))
		return -ELOOP;
	/* A fifo would block the VMM's thread; a device node is the host's, not the guest's. */
	if (!S_ISREG(type) && !S_ISDIR(type))
		return -ENXIO;
	if (S_ISDIR(type)) {
		if (writes(flags))
			return -EISDIR;
		flags = O_RDONLY | O_DIRECTORY;
	}
	p9_proc_path(fd, proc);
	int io = open(proc, flags | O_CLOEXEC | O_NOCTTY);
	return io < 0 ? -errno : io;
}

/* Rlopen and Rlcreate: the object's qid and iounit 0 (msize decides). */
static int reply_opened(struct p9_fid *f, struct p9_out *out)
{
	int rc = p9_put_qid_of(f->fd, out);

	if (rc < 0)
		return rc;
	p9_put32(out, 0);
	return 0;
}

/* Tlopen's and Tlcreate's fid: one not open yet and no xattr fid, with flags host_flags took. */
static int unopened_fid(struct p9_server *s, uint32_t id, int flags, struct p9_fid **f)
{
	if ((*f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if ((*f)->io >= 0 || (*f)->xattr != NULL || flags < 0)
		return -EINVAL;
	return 0;
}

/* Tread's and Twrite's file fid (xattr fids aside): open, not a directory, off an off_t. */
static int file_at(const struct p9_fid *f, uint64_t off)
{
	if (f->io < 0)
		return -EBADF;
	if (S_ISDIR(f->type))
		return -EISDIR;
	if (off > INT64_MAX)
		return -EINVAL;
	return 0;
}

int p9_op_lopen(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in), dotl = p9_get32(in);
	int flags = host_flags(dotl), rc;
	struct p9_fid *f;

	if (in->bad)
		return -EPROTO;
	if ((rc = unopened_fid(s, id, flags, &f)) < 0)
		return rc;
	if (s->ro && writes(flags))
		return -EROFS;
	if ((dotl & DOTL_DIRECTORY) && !S_ISDIR(f->type))
		return -ENOTDIR;
	int io = p9_open_io(f->fd, f->type, flags);
	if (io < 0)
		return io;
	f->io = io;
	return reply_opened(f, out);
}

/*
 * Tlcreate: name made in the fid's directory (or opened, when it is there
 * and O_EXCL was not asked) and the fid moved onto it, open. A new file is
 * the VMM's user's on the host, mode & 0755 | 0600; the guest's owner and
 * mode go to the xattrs.
 */
int p9_op_lcreate(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	struct p9_str n = p9_get_str(in);
	uint32_t dotl = p9_get32(in), mode = p9_get32(in), gid = p9_get32(in);
	int flags = host_flags(dotl), rc;
	char name[P9_NAME_MAX + 1], *path = NULL;
	struct p9_fid *f;

	if (in->bad)
		return -EPROTO;
	if ((rc = unopened_fid(s, id, flags, &f)) < 0)
		return rc;
	if ((rc = p9_name(n, name)) < 0 || (rc = p9_path_join(f->path, name, &path)) < 0)
		return rc;
	bool created = true;
	int io = p9_openat(f->fd, name, flags | O_CREAT | O_EXCL, 0600);
	if (io == -EEXIST && !(dotl & DOTL_EXCL)) {
		created = false;
		int pfd = p9_openat(f->fd, name, O_PATH, 0);
		struct stat st;
		io = pfd < 0		   ? pfd
		     : fstat(pfd, &st) < 0 ? -errno
		     : S_ISDIR(st.st_mode) ? -EISDIR /* as open(2) with O_CREAT says */
					   : p9_open_io(pfd, st.st_mode, flags);
		if (pfd >= 0)
			close(pfd);
	}
	if (io < 0) {
		free(path);
		return io;
	}
	if (created) {
		rc = fchmod(io, p9_host_mode(mode, false)) < 0 ? -errno : 0;
		if (rc == 0)
			rc = p9_set_ids(io, p9_owner(f), gid, S_IFREG | (mode & 07777), UINT64_MAX);
		if (rc < 0) {
			/* Without its owner the file would look like the VMM's user's: undone. */
			unlinkat(f->fd, name, 0);
			close(io);
			free(path);
			return rc;
		}
	}
	char proc[P9_PROC_PATH];
	p9_proc_path(io, proc);
	int pfd = open(proc, O_PATH | O_CLOEXEC); /* the very file opened, for the fid */
	if (pfd < 0 || (rc = p9_fid_move(s, f, pfd, S_IFREG, path)) < 0) {
		rc = pfd < 0 ? -errno : rc;
		if (pfd < 0)
			free(path);
		close(io);
		return rc;
	}
	f->io = io;
	return reply_opened(f, out);
}

int p9_op_read(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	uint64_t off = p9_get64(in);
	uint32_t count = p9_get32(in);
	struct p9_fid *f;
	int rc;

	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (f->xattr != NULL)
		return p9_xattr_read(f, off, count, out);
	if ((rc = file_at(f, off)) < 0)
		return rc;
	size_t room = p9_out_left(out);
	if (room < 4)
		return -EMSGSIZE;
	size_t n = count < room - 4 ? count : room - 4; /* msize bounds it, whatever count says */
	uint8_t *len = p9_put_room(out, 4), *data = p9_put_room(out, n);
	ssize_t r = pread(f->io, data, n, (off_t)off);
	if (r < 0)
		return -errno;
	out->at -= n - (size_t)r;
	p9_le32_put(len, (uint32_t)r);
	return 0;
}

int p9_op_write(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	uint64_t off = p9_get64(in);
	uint32_t count = p9_get32(in);
	const uint8_t *data = p9_get_bytes(in, count);
	struct p9_fid *f;
	int rc;

	if (in->bad)
		return -EPROTO; /* count runs past the message */
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (f->xattr != NULL) {
		if ((rc = p9_xattr_write(f, off, data, count)) < 0)
			return rc;
		p9_put32(out, count);
		return 0;
	}
	if ((rc = file_at(f, off)) < 0)
		return rc;
	ssize_t r = pwrite(f->io, data, count, (off_t)off);
	if (r < 0)
		return -errno;
	p9_put32(out, (uint32_t)r);
	return 0;
}

/* What getdents64 fills. */
struct kernel_dirent64 {
	uint64_t ino;
	int64_t off;
	uint16_t reclen;
	uint8_t type;
	char name[];
};

/* Entries from the fd's place while they fit in dst; stops at the end or the first that does not. */
static int fill_entries(int fd, struct p9_out *dst)
{
	uint8_t *buf = malloc(DIRENT_BUF);
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	for (bool full = false; !full;) {
		long got = syscall(SYS_getdents64, fd, buf, DIRENT_BUF);
		if (got <= 0) {
			rc = got < 0 && dst->at == 0 ? -errno : 0;
			break;
		}
		for (long pos = 0; pos < got;) {
			struct kernel_dirent64 *d = (struct kernel_dirent64 *)(buf + pos);
			size_t len = strnlen(d->name,
					     d->reclen - offsetof(struct kernel_dirent64, name));
			if (P9_QID_SIZE + 8 + 1 + 2 + len > p9_out_left(dst)) {
				full = true; /* the guest asks again from the last offset it got */
				break;
			}
			struct p9_qid q = { d->type == DT_DIR	? P9_QT_DIR
					    : d->type == DT_LNK ? P9_QT_SYMLINK
								: P9_QT_FILE,
					    0, d->ino };
			p9_put_qid(dst, &q);
			p9_put64(dst, (uint64_t)d->off);
			p9_put8(dst, d->type);
			p9_put_str(dst, d->name, len);
			pos += d->reclen;
		}
	}
	free(buf);
	return rc;
}

/* Treaddir: offset is a cookie from an earlier reply (each entry's d_off), 0 the start. */
int p9_op_readdir(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	uint64_t off = p9_get64(in);
	uint32_t count = p9_get32(in);
	struct p9_fid *f;
	int rc;

	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (f->io < 0 || !S_ISDIR(f->type))
		return f->io < 0 ? -EBADF : -ENOTDIR;
	size_t room = p9_out_left(out);
	if (room < 4)
		return -EMSGSIZE;
	if (off > INT64_MAX || lseek(f->io, (off_t)off, SEEK_SET) < 0)
		return -EINVAL;
	uint8_t *len = p9_put_room(out, 4);
	struct p9_out entries = { out->p + out->at, count < room - 4 ? count : room - 4, 0, false };
	if ((rc = fill_entries(f->io, &entries)) < 0)
		return rc;
	out->at += entries.at;
	p9_le32_put(len, (uint32_t)entries.at);
	return 0;
}

int p9_op_fsync(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in), datasync = p9_get32(in);
	struct p9_fid *f;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (f->io < 0)
		return -EBADF;
	return (datasync ? fdatasync(f->io) : fsync(f->io)) < 0 ? -errno : 0;
}

/* Tclunk: the fid goes whatever happens; an xattrcreate's value is set first. */
int p9_op_clunk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	struct p9_fid *f;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	int rc = p9_xattr_commit(f);
	p9_fid_clunk(s, f);
	return rc;
}
