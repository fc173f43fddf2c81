/* SPDX-License-Identifier: MIT */
/*
 * Directory changes: mkdir, mknod, symlink, link, unlinkat, remove,
 * renameat, rename, and readlink. Each acts on a directory fid's
 * descriptor and one checked name; none follows a symlink, and a fid
 * known only by its path (remove, rename, link of a symlink) is checked
 * to still be that object first (p9_parent).
 */
#include "providers/kvm/p9-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* A directory fid and one name from the message: -EBADF, -EINVAL... */
static int dir_and_name(struct p9_server *s, uint32_t id, struct p9_str n, struct p9_fid **f,
			char name[P9_NAME_MAX + 1])
{
	if ((*f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if ((*f)->xattr != NULL)
		return -EINVAL;
	if (!S_ISDIR((*f)->type))
		return -ENOTDIR;
	return p9_name(n, name);
}

int p9_op_mkdir(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	struct p9_str n = p9_get_str(in);
	uint32_t mode = p9_get32(in), gid = p9_get32(in);
	char name[P9_NAME_MAX + 1], proc[P9_PROC_PATH];
	struct p9_fid *f;
	int rc;

	if (in->bad)
		return -EPROTO;
	if ((rc = dir_and_name(s, id, n, &f, name)) < 0)
		return rc;
	if (mkdirat(f->fd, name, 0700) < 0)
		return -errno;
	int fd = p9_openat(f->fd, name, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	p9_proc_path(fd, proc);
	rc = chmod(proc, p9_host_mode(mode, true)) < 0 ? -errno : 0;
	if (rc == 0)
		rc = p9_set_ids(fd, p9_owner(f), gid, S_IFDIR | (mode & 07777), UINT64_MAX);
	if (rc == 0)
		rc = p9_put_qid_of(fd, out);
	if (rc < 0)
		unlinkat(f->fd, name, AT_REMOVEDIR); /* without its owner it would mislead */
	close(fd);
	return rc;
}

/*
 * Tmknod, as QEMU's mapped model does it: a regular file (0600 on the
 * host) whose xattrs hold the node's type and rdev. The guest's kernel
 * makes the device or fifo of it; the host never sees one.
 */
int p9_op_mknod(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	struct p9_str n = p9_get_str(in);
	uint32_t mode = p9_get32(in), major = p9_get32(in), minor = p9_get32(in);
	uint32_t gid = p9_get32(in);
	char name[P9_NAME_MAX + 1];
	struct p9_fid *f;
	int rc;

	if (in->bad)
		return -EPROTO;
	if ((rc = dir_and_name(s, id, n, &f, name)) < 0)
		return rc;
	mode_t type = (mode & S_IFMT) ? (mode & S_IFMT) : S_IFREG;
	if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO &&
	    type != S_IFSOCK)
		return -EINVAL;
	int fd = p9_openat(f->fd, name, O_RDONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return fd;
	rc = fchmod(fd, type == S_IFREG ? p9_host_mode(mode, false) : 0600) < 0 ? -errno : 0;
	if (rc == 0)
		rc = p9_set_ids(fd, p9_owner(f), gid, type | (mode & 07777), makedev(major, minor));
	if (rc == 0)
		rc = p9_put_qid_of(fd, out);
	if (rc < 0)
		unlinkat(f->fd, name, 0);
	close(fd);
	return rc;
}

/*
 * Tsymlink: a real host symlink, which den never follows. Linux keeps no
 * user xattrs on symlinks, so its guest owner is the host's and gid is
 * dropped (a symlink's owner matters only in sticky directories).
 */
int p9_op_symlink(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	struct p9_str n = p9_get_str(in), t = p9_get_str(in);
	char name[P9_NAME_MAX + 1], target[P9_PATH_MAX];
	struct p9_fid *f;
	int rc;

	p9_get32(in); /* gid */
	if (in->bad)
		return -EPROTO;
	if ((rc = dir_and_name(s, id, n, &f, name)) < 0)
		return rc;
	if (t.len >= P9_PATH_MAX)
		return -ENAMETOOLONG;
	if (t.len == 0 || memchr(t.p, '\0', t.len) != NULL)
		return t.len == 0 ? -ENOENT : -EINVAL;
	memcpy(target, t.p, t.len);
	target[t.len] = '\0';
	if (symlinkat(target, f->fd, name) < 0)
		return -errno;
	int fd = p9_openat(f->fd, name, O_PATH, 0);
	if (fd < 0)
		return fd;
	rc = p9_put_qid_of(fd, out);
	close(fd);
	return rc;
}

/* A symlink's target; QEMU's mapped symlinks are files holding it, S_IFLNK in their mode xattr. */
int p9_op_readlink(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	char target[P9_PATH_MAX];
	struct p9_fid *f;
	struct stat st;
	ssize_t len;
	int rc;

	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (S_ISLNK(f->type)) {
		len = readlinkat(f->fd, "", target, sizeof(target) - 1);
	} else {
		if ((rc = p9_guest_stat(f->fd, &st)) < 0)
			return rc;
		if (!S_ISREG(f->type) || !S_ISLNK(st.st_mode))
			return -EINVAL;
		int io = p9_open_io(f->fd, f->type, O_RDONLY);
		if (io < 0)
			return io;
		len = pread(io, target, sizeof(target) - 1, 0);
		close(io);
	}
	if (len < 0)
		return -errno;
	p9_put_str(out, target, (size_t)len);
	return 0;
}

/* Tlink: a hard link to fid's object (never a directory) in dfid. */
int p9_op_link(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t did = p9_get32(in), id = p9_get32(in);
	struct p9_str n = p9_get_str(in);
	char name[P9_NAME_MAX + 1], base[P9_NAME_MAX + 1], proc[P9_PROC_PATH];
	struct p9_fid *d, *f;
	int rc, pdir = -1;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((rc = dir_and_name(s, did, n, &d, name)) < 0)
		return rc;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (S_ISDIR(f->type))
		return -EPERM;
	if (!S_ISLNK(f->type)) {
		/* The very object, by its descriptor: whatever its path says now. */
		p9_proc_path(f->fd, proc);
		return linkat(AT_FDCWD, proc, d->fd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
	}
	/* A symlink by its parent and name, checked, never followed. */
	if ((rc = p9_parent(s, f, &pdir, base)) < 0)
		return rc;
	rc = linkat(pdir, base, d->fd, name, 0) < 0 ? -errno : 0;
	close(pdir);
	return rc;
}

int p9_op_unlinkat(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	struct p9_str n = p9_get_str(in);
	uint32_t flags = p9_get32(in);
	char name[P9_NAME_MAX + 1];
	struct p9_fid *f;
	int rc;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((rc = dir_and_name(s, id, n, &f, name)) < 0)
		return rc;
	if (flags & ~(uint32_t)AT_REMOVEDIR) /* P9_DOTL_AT_REMOVEDIR is AT_REMOVEDIR */
		return -EINVAL;
	return unlinkat(f->fd, name, (int)flags) < 0 ? -errno : 0;
}

/* Tremove: unlinks the fid's object, and clunks the fid whatever happens (9P says so). */
int p9_op_remove(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	char base[P9_NAME_MAX + 1];
	struct p9_fid *f;
	int rc, pdir = -1;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (s->ro)
		rc = -EROFS;
	else if ((rc = p9_parent(s, f, &pdir, base)) == 0) {
		rc = unlinkat(pdir, base, S_ISDIR(f->type) ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
		close(pdir);
	}
	p9_fid_clunk(s, f);
	return rc;
}

/* Renames dir1/name1 to dir2/name2; fids below the old path follow it. */
static int rename_in(struct p9_server *s, int dir1, const char *from, const char *name1,
		     const struct p9_fid *dir2, const char *name2)
{
	char *to = NULL;
	int rc = p9_path_join(dir2->path, name2, &to);

	if (rc == 0 && renameat(dir1, name1, dir2->fd, name2) < 0)
		rc = -errno;
	if (rc == 0)
		p9_fids_renamed(s, from, to);
	free(to);
	return rc;
}

int p9_op_renameat(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id1 = p9_get32(in);
	struct p9_str n1 = p9_get_str(in);
	uint32_t id2 = p9_get32(in);
	struct p9_str n2 = p9_get_str(in);
	char name1[P9_NAME_MAX + 1], name2[P9_NAME_MAX + 1], *from = NULL;
	struct p9_fid *d1, *d2;
	int rc;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((rc = dir_and_name(s, id1, n1, &d1, name1)) < 0 ||
	    (rc = dir_and_name(s, id2, n2, &d2, name2)) < 0 ||
	    (rc = p9_path_join(d1->path, name1, &from)) < 0)
		return rc;
	rc = rename_in(s, d1->fd, from, name1, d2, name2);
	free(from);
	return rc;
}

/* Trename: the fid's object (found by its parent, checked) into dfid as name. */
int p9_op_rename(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in), did = p9_get32(in);
	struct p9_str n = p9_get_str(in);
	char name[P9_NAME_MAX + 1], base[P9_NAME_MAX + 1];
	struct p9_fid *f, *d;
	int rc, pdir = -1;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((rc = dir_and_name(s, did, n, &d, name)) < 0)
		return rc;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	char *from = strdup(f->path); /* f's own path changes on the way */
	if (from == NULL)
		return -ENOMEM;
	if ((rc = p9_parent(s, f, &pdir, base)) == 0) {
		rc = rename_in(s, pdir, from, base, d, name);
		close(pdir);
	}
	free(from);
	return rc;
}
