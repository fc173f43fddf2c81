/* SPDX-License-Identifier: MIT */
/*
 * Names, paths, attach and walk: how a fid comes to name an object, and
 * why it can only ever name one beneath the root (p9.h, "Security model").
 */
#include "providers/kvm/p9-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int p9_name(struct p9_str n, char out[P9_NAME_MAX + 1])
{
	if (n.len == 0)
		return -EINVAL;
	if (n.len > P9_NAME_MAX)
		return -ENAMETOOLONG;
	/* A NUL would cut the name short in every call below: refused, as '/' is. */
	if (memchr(n.p, '/', n.len) != NULL || memchr(n.p, '\0', n.len) != NULL)
		return -EINVAL;
	memcpy(out, n.p, n.len);
	out[n.len] = '\0';
	if (strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return -EINVAL; /* only walk moves by these, and by the fid's path */
	return 0;
}

int p9_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	long fd;

	/* EAGAIN: the kernel saw a rename race it could not rule out; it says to retry. */
	for (int tries = 0; tries < 8; tries++) {
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd >= 0 ? (int)fd : -errno;
}

int p9_path_join(const char *dir, const char *name, char **out)
{
	size_t d = strlen(dir), n = strlen(name);
	size_t len = d + (d ? 1 : 0) + n;

	if (len + 1 > P9_PATH_MAX)
		return -ENAMETOOLONG;
	char *p = malloc(len + 1);
	if (p == NULL)
		return -ENOMEM;
	memcpy(p, dir, d);
	if (d)
		p[d] = '/';
	memcpy(p + len - n, name, n + 1);
	*out = p;
	return 0;
}

/* The directory part of path ("" for a name at the root) into dir, as openat2 takes it. */
static void dir_of(const char *path, char dir[P9_PATH_MAX])
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n == 0) {
		strcpy(dir, ".");
		return;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
}

int p9_parent(struct p9_server *s, const struct p9_fid *f, int *dirfd, char name[P9_NAME_MAX + 1])
{
	const char *slash = strrchr(f->path, '/');
	const char *base = slash ? slash + 1 : f->path;
	char dir[P9_PATH_MAX];
	struct stat here, mine;

	if (f->path[0] == '\0')
		return -EBUSY; /* the root has no parent the guest may touch */
	if (strlen(base) > P9_NAME_MAX)
		return -ESTALE;
	strcpy(name, base);
	dir_of(f->path, dir);
	int d = p9_openat(s->root_fd, dir, O_PATH | O_DIRECTORY, 0);
	if (d < 0)
		return d == -ENOENT ? -ESTALE : d;
	/* The path is only a hint (the host may have moved things): the object decides. */
	if (fstatat(d, name, &here, AT_SYMLINK_NOFOLLOW) < 0 || fstat(f->fd, &mine) < 0 ||
	    here.st_ino != mine.st_ino || here.st_dev != mine.st_dev) {
		close(d);
		return -ESTALE;
	}
	*dirfd = d;
	return 0;
}

static bool is_dot(struct p9_str n, size_t dots)
{
	return n.len == dots && memcmp(n.p, "..", dots) == 0;
}

/* One step of a walk from (*fd, *path), which it replaces: a name, ".", or "..". */
static int step(struct p9_server *s, int *fd, char **path, mode_t *type, struct p9_str n)
{
	char name[P9_NAME_MAX + 1], *next = NULL;
	int rc, nfd;

	if (!S_ISDIR(*type))
		return -ENOTDIR;
	if (is_dot(n, 1))
		return 0;
	if (is_dot(n, 2)) {
		if ((*path)[0] == '\0')
			return 0; /* ".." of the root is the root */
		char dir[P9_PATH_MAX];
		dir_of(*path, dir);
		/* Up by the path, from the root and beneath it: never above the root. */
		nfd = p9_openat(s->root_fd, dir, O_PATH | O_DIRECTORY, 0);
		if (nfd < 0)
			return nfd;
		next = strcmp(dir, ".") == 0 ? strdup("") : strdup(dir);
		if (next == NULL) {
			close(nfd);
			return -ENOMEM;
		}
	} else {
		if ((rc = p9_name(n, name)) < 0)
			return rc;
		if ((rc = p9_path_join(*path, name, &next)) < 0)
			return rc;
		nfd = p9_openat(*fd, name, O_PATH, 0);
		if (nfd < 0) {
			free(next);
			return nfd;
		}
	}
	struct stat st;
	if (fstat(nfd, &st) < 0) {
		rc = -errno;
		close(nfd);
		free(next);
		return rc;
	}
	close(*fd);
	free(*path);
	*fd = nfd;
	*path = next;
	*type = st.st_mode & S_IFMT;
	return 0;
}

int p9_op_attach(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	p9_get32(in); /* afid: there is no Tauth, so nothing to check it against */
	p9_get_str(in);
	p9_get_str(in); /* aname: one root per server */
	uint32_t uid = p9_get32(in);
	struct p9_fid *f;

	if (in->bad)
		return -EPROTO;
	int fd = fcntl(s->root_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	char *path = strdup("");
	if (path == NULL) {
		close(fd);
		return -ENOMEM;
	}
	int rc = p9_fid_add(s, id, fd, S_IFDIR, path, uid, &f);
	if (rc < 0)
		return rc;
	if ((rc = p9_put_qid_of(f->fd, out)) < 0) {
		p9_fid_clunk(s, f);
		return rc;
	}
	return 0;
}

/*
 * Twalk: up to P9_MAX_WALK steps. The first failing step ends it: none
 * done is an Rlerror, some done an Rwalk with their qids and newfid left
 * alone, as 9P says; newfid is made only when all succeed.
 */
int p9_op_walk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in), newid = p9_get32(in);
	uint16_t n = p9_get16(in);
	struct p9_str names[P9_MAX_WALK];
	struct p9_fid *f, *nf;
	int rc = 0;

	if (n > P9_MAX_WALK)
		return in->bad ? -EPROTO : -EINVAL;
	for (unsigned i = 0; i < n; i++)
		names[i] = p9_get_str(in);
	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (f->xattr != NULL || (newid == id && n > 0 && f->io >= 0))
		return -EINVAL; /* an xattr fid names no object; an open fid stays where it is */
	if (newid != id && p9_fid_get(s, newid) != NULL)
		return -EEXIST;
	if (newid == id && n == 0) {
		p9_put16(out, 0); /* a clone onto itself: nothing to do */
		return 0;
	}
	int fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	char *path = strdup(f->path);
	mode_t type = f->type;
	uint8_t *count = p9_put_room(out, 2);
	unsigned done = 0;
	if (path == NULL)
		rc = -ENOMEM;
	for (; rc == 0 && done < n; done++) {
		if ((rc = step(s, &fd, &path, &type, names[done])) < 0 ||
		    (rc = p9_put_qid_of(fd, out)) < 0)
			break;
	}
	if (rc < 0 || count == NULL) {
		close(fd);
		free(path);
		if (done == 0 || count == NULL)
			return rc < 0 ? rc : -EMSGSIZE;
		p9_le16_put(count, (uint16_t)done);
		return 0;
	}
	p9_le16_put(count, (uint16_t)done);
	if (newid == id)
		return p9_fid_move(s, f, fd, type, path);
	return p9_fid_add(s, newid, fd, type, path, f->uid, &nf);
}
