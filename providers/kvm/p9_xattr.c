/* SPDX-License-Identifier: MIT */
/*
 * Extended attributes, 9P2000.L's way: Txattrwalk makes a fid whose reads
 * give a value (or the list of names), Txattrcreate turns a fid into one
 * whose writes fill a value set at its clunk. The guest sees and sets
 * "user." names only, never user.virtfs.* (its ownership, p9_meta.c):
 * trusted.* and security.* are the host's business, and system.* (ACLs)
 * would be enforced by the host against the VMM's user, not the guest's.
 */
#include "providers/kvm/p9-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static bool guest_may_see(const char *name)
{
	return strncmp(name, "user.", 5) == 0 && strncmp(name, "user.virtfs.", 12) != 0;
}

/* An xattr name from the guest: 1 to 255 bytes, no NUL. */
static int xattr_name(struct p9_str n, char out[P9_NAME_MAX + 1])
{
	if (n.len > P9_NAME_MAX)
		return -ERANGE;
	if (memchr(n.p, '\0', n.len) != NULL)
		return -EINVAL;
	memcpy(out, n.p, n.len);
	out[n.len] = '\0';
	return 0;
}

/* Drops the names the guest may not see from a listxattr() buffer; the new length. */
static size_t filter_names(char *buf, size_t n)
{
	size_t in = 0, kept = 0;

	while (in < n) {
		size_t len = strnlen(buf + in, n - in);
		if (in + len < n && guest_may_see(buf + in)) {
			memmove(buf + kept, buf + in, len + 1);
			kept += len + 1;
		}
		in += len + 1;
	}
	return kept;
}

/* The value of name (or, for "", the guest's list of names) of the object fd. */
static int fetch(int fd, mode_t type, const char *name, uint8_t **value, size_t *size)
{
	char proc[P9_PROC_PATH];
	ssize_t n = 0;
	uint8_t *buf = malloc(P9_XATTR_MAX);

	if (buf == NULL)
		return -ENOMEM;
	p9_proc_path(fd, proc);
	if (!S_ISREG(type) && !S_ISDIR(type)) {
		if (name[0]) {
			free(buf);
			return -ENODATA; /* Linux keeps none on other types */
		}
	} else if (name[0])
		n = getxattr(proc, name, buf, P9_XATTR_MAX);
	else
		n = listxattr(proc, (char *)buf, P9_XATTR_MAX);
	if (n < 0) {
		int e = errno;
		free(buf);
		return e == ERANGE ? -E2BIG : -e;
	}
	if (!name[0])
		n = (ssize_t)filter_names((char *)buf, (size_t)n);
	uint8_t *small = realloc(buf, n > 0 ? (size_t)n : 1);
	*value = small != NULL ? small : buf;
	*size = (size_t)n;
	return 0;
}

/* Takes value (and name) into f as an xattr fid, within the budget. */
static int attach(struct p9_server *s, struct p9_fid *f, char *name, uint8_t *value, size_t size,
		  int flags, bool writing)
{
	struct p9_xattr *x = calloc(1, sizeof(*x));

	if (x == NULL || size > P9_XATTR_BUDGET - s->xattr_bytes) {
		free(x);
		free(name);
		free(value);
		return x == NULL ? -ENOMEM : -ENOSPC;
	}
	*x = (struct p9_xattr){ name, value, size, 0, flags, writing };
	f->xattr = x;
	s->xattr_bytes += size;
	return 0;
}

int p9_op_xattrwalk(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in), newid = p9_get32(in);
	struct p9_str n = p9_get_str(in);
	char name[P9_NAME_MAX + 1];
	struct p9_fid *f, *nf;
	uint8_t *value = NULL;
	size_t size = 0;
	int rc;

	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (f->xattr != NULL || newid == id)
		return -EINVAL;
	if (p9_fid_get(s, newid) != NULL)
		return -EEXIST;
	if ((rc = xattr_name(n, name)) < 0)
		return rc;
	if (name[0] && !guest_may_see(name))
		return -ENODATA; /* as far as the guest can know, there is none */
	if ((rc = fetch(f->fd, f->type, name, &value, &size)) < 0)
		return rc;
	int fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	char *path = strdup(f->path);
	if (fd < 0 || path == NULL) {
		rc = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		free(path);
		free(value);
		return rc;
	}
	if ((rc = p9_fid_add(s, newid, fd, f->type, path, f->uid, &nf)) < 0) {
		free(value);
		return rc;
	}
	if ((rc = attach(s, nf, NULL, value, size, 0, false)) < 0) {
		p9_fid_clunk(s, nf);
		return rc;
	}
	p9_put64(out, size);
	return 0;
}

int p9_op_xattrcreate(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	struct p9_str n = p9_get_str(in);
	uint64_t size = p9_get64(in);
	uint32_t flags = p9_get32(in);
	char name[P9_NAME_MAX + 1];
	struct p9_fid *f;
	int rc;

	(void)out;
	if (in->bad)
		return -EPROTO;
	if ((f = p9_fid_get(s, id)) == NULL)
		return -EBADF;
	if (f->xattr != NULL || f->io >= 0)
		return -EINVAL;
	if ((rc = xattr_name(n, name)) < 0)
		return rc;
	if (strncmp(name, "user.virtfs.", 12) == 0)
		return -EPERM; /* the guest's ownership is set by chown and chmod only */
	if (!guest_may_see(name))
		return -EOPNOTSUPP;
	if (size > P9_XATTR_MAX)
		return -E2BIG;
	if (flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	if (!S_ISREG(f->type) && !S_ISDIR(f->type))
		return -EPERM; /* what Linux says for user xattrs on other types */
	char *dup = strdup(name);
	uint8_t *value = calloc(1, size ? size : 1);
	if (dup == NULL || value == NULL) {
		free(dup);
		free(value);
		return -ENOMEM;
	}
	return attach(s, f, dup, value, size, (int)flags, true);
}

int p9_xattr_read(struct p9_fid *f, uint64_t off, uint32_t count, struct p9_out *out)
{
	struct p9_xattr *x = f->xattr;

	if (x->writing)
		return -EINVAL;
	size_t room = p9_out_left(out);
	size_t n = off < x->size ? x->size - off : 0;
	if (room < 4)
		return -EMSGSIZE;
	if (n > count)
		n = count;
	if (n > room - 4)
		n = room - 4;
	p9_put32(out, (uint32_t)n);
	uint8_t *p = p9_put_room(out, n);
	if (p != NULL && n > 0)
		memcpy(p, x->value + off, n);
	return 0;
}

int p9_xattr_write(struct p9_fid *f, uint64_t off, const uint8_t *data, uint32_t count)
{
	struct p9_xattr *x = f->xattr;

	if (!x->writing || off != x->filled)
		return -EINVAL; /* the value comes in order, as Linux's client sends it */
	if (count > x->size - x->filled)
		return -ENOSPC;
	if (count > 0)
		memcpy(x->value + x->filled, data, count);
	x->filled += count;
	return 0;
}

int p9_xattr_commit(struct p9_fid *f)
{
	struct p9_xattr *x = f->xattr;
	char proc[P9_PROC_PATH];

	if (x == NULL || !x->writing)
		return 0;
	if (x->filled != x->size)
		return -EINVAL; /* clunked before the whole value came */
	p9_proc_path(f->fd, proc);
	/* Size 0 is how Linux's client asks for removexattr. */
	int r = x->size ? setxattr(proc, x->name, x->value, x->size, x->flags)
			: removexattr(proc, x->name);
	return r < 0 ? -errno : 0;
}

void p9_xattr_free(struct p9_server *s, struct p9_fid *f)
{
	struct p9_xattr *x = f->xattr;

	if (x == NULL)
		return;
	s->xattr_bytes -= x->size;
	free(x->name);
	free(x->value);
	free(x);
	f->xattr = NULL;
}
