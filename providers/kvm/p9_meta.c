/* SPDX-License-Identifier: MIT */
/*
 * Ownership and attributes: QEMU's mapped-xattr model (p9.h). The guest's
 * uid, gid, mode and rdev live in user.virtfs.* on the host object; the
 * host's own owner never changes, and its mode bits only ever within the
 * safe ones (rwx, the owner's always on). getattr, setattr and statfs.
 */
#include "providers/kvm/p9-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#define XA_UID "user.virtfs.uid"
#define XA_GID "user.virtfs.gid"
#define XA_MODE "user.virtfs.mode"
#define XA_RDEV "user.virtfs.rdev"

/* Tsetattr's valid bits (Linux's P9_ATTR_*). */
#define ATTR_MODE 0x001u
#define ATTR_UID 0x002u
#define ATTR_GID 0x004u
#define ATTR_SIZE 0x008u
#define ATTR_ATIME 0x010u
#define ATTR_MTIME 0x020u
#define ATTR_ATIME_SET 0x080u
#define ATTR_MTIME_SET 0x100u
#define GETATTR_BASIC 0x7ffull /* what Rgetattr always fills */

void p9_proc_path(int fd, char buf[P9_PROC_PATH])
{
	snprintf(buf, P9_PROC_PATH, "/proc/self/fd/%d", fd);
}

/* Linux keeps user xattrs on regular files and directories only. */
static bool keeps_xattrs(mode_t type)
{
	return S_ISREG(type) || S_ISDIR(type);
}

static bool get_le(const char *proc, const char *name, unsigned n, uint64_t *v)
{
	uint8_t b[8];

	if (getxattr(proc, name, b, n) != (ssize_t)n)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return true;
}

/*
 * The guest's mode from the xattr, with a type the host object can carry:
 * a host directory stays one (walks depend on it), and a host file may be
 * anything but a directory (QEMU's mknod and symlinks are such files).
 */
static mode_t guest_mode(mode_t host_type, uint64_t v)
{
	mode_t type = (mode_t)v & S_IFMT;

	if (S_ISDIR(host_type))
		type = S_IFDIR;
	else if (type != S_IFLNK && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO &&
		 type != S_IFSOCK)
		type = S_IFREG;
	return type | ((mode_t)v & 07777);
}

int p9_guest_stat(int fd, struct stat *st)
{
	char proc[P9_PROC_PATH];
	uint64_t v;

	if (fstat(fd, st) < 0)
		return -errno;
	if (!keeps_xattrs(st->st_mode))
		return 0;
	p9_proc_path(fd, proc);
	if (get_le(proc, XA_UID, 4, &v))
		st->st_uid = (uid_t)v;
	if (get_le(proc, XA_GID, 4, &v))
		st->st_gid = (gid_t)v;
	if (get_le(proc, XA_MODE, 4, &v))
		st->st_mode = guest_mode(st->st_mode & S_IFMT, v);
	if (get_le(proc, XA_RDEV, 8, &v))
		st->st_rdev = (dev_t)v;
	return 0;
}

struct p9_qid p9_qid_of(const struct stat *st)
{
	uint8_t type = S_ISDIR(st->st_mode)   ? P9_QT_DIR
		       : S_ISLNK(st->st_mode) ? P9_QT_SYMLINK
					      : P9_QT_FILE;
	/* QEMU's version, so a client caching by it sees the same as under QEMU. */
	uint32_t version = (uint32_t)(st->st_mtime ^ (st->st_size << 8));

	return (struct p9_qid){ type, version, (uint64_t)st->st_ino };
}

int p9_put_qid_of(int fd, struct p9_out *out)
{
	struct stat st;
	int rc = p9_guest_stat(fd, &st);

	if (rc == 0) {
		struct p9_qid q = p9_qid_of(&st);
		p9_put_qid(out, &q);
	}
	return rc;
}

uint32_t p9_owner(const struct p9_fid *f)
{
	return f->uid == P9_NONUNAME ? P9_UNSET : f->uid;
}

static int set_le(const char *proc, const char *name, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return setxattr(proc, name, b, n, 0) < 0 ? -errno : 0;
}

int p9_set_ids(int fd, uint32_t uid, uint32_t gid, uint32_t mode, uint64_t rdev)
{
	char proc[P9_PROC_PATH];
	int rc = 0;

	p9_proc_path(fd, proc);
	if (rc == 0 && uid != P9_UNSET)
		rc = set_le(proc, XA_UID, uid, 4);
	if (rc == 0 && gid != P9_UNSET)
		rc = set_le(proc, XA_GID, gid, 4);
	if (rc == 0 && mode != P9_UNSET)
		rc = set_le(proc, XA_MODE, mode, 4);
	if (rc == 0 && rdev != UINT64_MAX)
		rc = set_le(proc, XA_RDEV, rdev, 8);
	return rc;
}

mode_t p9_host_mode(uint32_t guest_mode, bool dir)
{
	/* Never writable by the host's other users: the guest cannot open the project to them. */
	return (mode_t)(guest_mode & 0755) | (dir ? 0700 : 0600);
}

int p9_op_getattr(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	p9_get64(in); /* request_mask: the basic set is always cheap, so always sent */
	struct p9_fid *f;
	struct stat st;
	int rc;

	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if ((rc = p9_guest_stat(f->fd, &st)) < 0)
		return rc;
	/*
	 * A symlink keeps no xattrs: it is the share's owner's inside (den gives
	 * the share's root to the folder's owner), so the user who makes links
	 * in its folder can also touch and remove them (tar does both).
	 */
	struct stat root;
	if (S_ISLNK(st.st_mode) && p9_guest_stat(s->root_fd, &root) == 0) {
		st.st_uid = root.st_uid;
		st.st_gid = root.st_gid;
	}
	struct p9_qid q = p9_qid_of(&st);
	p9_put64(out, GETATTR_BASIC);
	p9_put_qid(out, &q);
	p9_put32(out, st.st_mode);
	p9_put32(out, st.st_uid);
	p9_put32(out, st.st_gid);
	p9_put64(out, st.st_nlink);
	p9_put64(out, st.st_rdev);
	p9_put64(out, (uint64_t)st.st_size);
	p9_put64(out, (uint64_t)st.st_blksize);
	p9_put64(out, (uint64_t)st.st_blocks);
	p9_put64(out, (uint64_t)st.st_atim.tv_sec);
	p9_put64(out, (uint64_t)st.st_atim.tv_nsec);
	p9_put64(out, (uint64_t)st.st_mtim.tv_sec);
	p9_put64(out, (uint64_t)st.st_mtim.tv_nsec);
	p9_put64(out, (uint64_t)st.st_ctim.tv_sec);
	p9_put64(out, (uint64_t)st.st_ctim.tv_nsec);
	for (int i = 0; i < 4; i++)
		p9_put64(out, 0); /* btime, gen, data_version: not kept */
	return 0;
}

/* chmod: the guest's mode in the xattr (its type kept), the safe bits on the host. */
static int set_mode(struct p9_fid *f, uint32_t mode)
{
	char proc[P9_PROC_PATH];
	struct stat st;
	int rc;

	if ((rc = p9_guest_stat(f->fd, &st)) < 0)
		return rc;
	if ((rc = p9_set_ids(f->fd, P9_UNSET, P9_UNSET, (st.st_mode & S_IFMT) | (mode & 07777),
			     UINT64_MAX)) < 0)
		return rc;
	p9_proc_path(f->fd, proc);
	/* Best effort: a host file the VMM's user does not own keeps its host bits. */
	if (chmod(proc, p9_host_mode(mode, S_ISDIR(f->type))) < 0 && errno != EPERM)
		return -errno;
	return 0;
}

static struct timespec when(bool given, bool set, uint64_t sec, uint64_t nsec)
{
	if (!given)
		return (struct timespec){ 0, UTIME_OMIT };
	if (!set)
		return (struct timespec){ 0, UTIME_NOW };
	return (struct timespec){ (time_t)sec, (long)(nsec < 1000000000 ? nsec : 999999999) };
}

int p9_op_setattr(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in), valid = p9_get32(in), mode = p9_get32(in);
	uint32_t uid = p9_get32(in), gid = p9_get32(in);
	uint64_t size = p9_get64(in), asec = p9_get64(in), ansec = p9_get64(in);
	uint64_t msec = p9_get64(in), mnsec = p9_get64(in);
	char proc[P9_PROC_PATH];
	struct p9_fid *f;
	int rc = 0;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	valid &= ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE | ATTR_ATIME | ATTR_MTIME |
		 ATTR_ATIME_SET | ATTR_MTIME_SET;
	if (valid == 0)
		return 0; /* ctime alone: the host sets it itself */
	if (s->ro)
		return -EROFS;
	/*
	 * A symlink holds no xattrs on Linux: its guest owner and mode are the
	 * host's, and chown, chmod or times on it are accepted and change
	 * nothing (Linux ignores a symlink's mode; its times are cosmetic).
	 * Host fifos, sockets and device nodes are left alone altogether.
	 */
	if (S_ISLNK(f->type))
		return (valid & ATTR_SIZE) ? -EINVAL : 0;
	if (!keeps_xattrs(f->type))
		return -EPERM;
	p9_proc_path(f->fd, proc);
	if (valid & ATTR_MODE)
		rc = set_mode(f, mode);
	if (rc == 0 && (valid & (ATTR_UID | ATTR_GID)))
		rc = p9_set_ids(f->fd, (valid & ATTR_UID) ? uid : P9_UNSET,
				(valid & ATTR_GID) ? gid : P9_UNSET, P9_UNSET, UINT64_MAX);
	if (rc == 0 && (valid & ATTR_SIZE)) {
		if (!S_ISREG(f->type))
			rc = S_ISDIR(f->type) ? -EISDIR : -EINVAL;
		else if (size > INT64_MAX)
			rc = -EFBIG;
		else if (truncate(proc, (off_t)size) < 0)
			rc = -errno;
	}
	if (rc == 0 && (valid & (ATTR_ATIME | ATTR_MTIME))) {
		struct timespec ts[2] = {
			when(valid & ATTR_ATIME, valid & ATTR_ATIME_SET, asec, ansec),
			when(valid & ATTR_MTIME, valid & ATTR_MTIME_SET, msec, mnsec),
		};
		if (utimensat(AT_FDCWD, proc, ts, 0) < 0)
			rc = -errno;
	}
	return rc;
}

int p9_op_statfs(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	struct p9_fid *f;
	struct statfs st;

	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (fstatfs(f->fd, &st) < 0)
		return -errno;
	p9_put32(out, (uint32_t)st.f_type);
	p9_put32(out, (uint32_t)st.f_bsize);
	p9_put64(out, st.f_blocks);
	p9_put64(out, st.f_bfree);
	p9_put64(out, st.f_bavail);
	p9_put64(out, st.f_files);
	p9_put64(out, st.f_ffree);
	p9_put64(out, (uint64_t)(uint32_t)st.f_fsid.__val[0] |
			      (uint64_t)(uint32_t)st.f_fsid.__val[1] << 32);
	p9_put32(out, (uint32_t)st.f_namelen);
	return 0;
}
