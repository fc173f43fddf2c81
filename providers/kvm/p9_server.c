/* SPDX-License-Identifier: MIT */
/*
 * The 9P2000.L server's front: a request's header checked, its handler
 * found by type in one table (whose flag refuses writes on a read-only
 * share), the reply's header or an Rlerror written. And the messages that
 * touch no file: version, flush, lock, getlock.
 */
#include "providers/kvm/p9-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOCK_SUCCESS 0 /* Rlock's status */
#define LOCK_TYPE_UNLCK 2

/* Tversion: a new session (every fid goes) and the smaller of the two msizes. */
static int op_version(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t msize = p9_get32(in);
	struct p9_str v = p9_get_str(in);

	if (in->bad)
		return -EPROTO;
	if (msize < P9_MIN_MSIZE)
		return -EMSGSIZE; /* too small for an Rgetattr, and Linux's client refuses it too */
	p9_fid_clunk_all(s);
	if (v.len != 8 || memcmp(v.p, "9P2000.L", 8) != 0) {
		s->msize = 0; /* 9P's answer to a version den does not speak */
		p9_put32(out, msize < P9_MAX_MSIZE ? msize : P9_MAX_MSIZE);
		p9_put_str(out, "unknown", 7);
		return 0;
	}
	s->msize = msize < P9_MAX_MSIZE ? msize : P9_MAX_MSIZE;
	p9_put32(out, s->msize);
	p9_put_str(out, "9P2000.L", 8);
	return 0;
}

/* Tflush: every request is answered before the next is read, so none is ever in flight. */
static int op_flush(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	(void)s;
	(void)out;
	p9_get16(in); /* oldtag */
	return in->bad ? -EPROTO : 0;
}

/*
 * Tlock: granted, always. POSIX locks are advisory, the guest's kernel
 * already arbitrates between its own processes, and granting a host lock
 * for a guest would let the guest block the host's tools (or the VMM's
 * thread, for a waiting lock).
 */
static int op_lock(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	p9_get8(in);  /* type */
	p9_get32(in); /* flags */
	p9_get64(in); /* start */
	p9_get64(in); /* length */
	p9_get32(in); /* proc_id */
	p9_get_str(in);
	if (in->bad)
		return -EPROTO;
	if (p9_fid_get(s, id) == NULL)
		return -EBADF;
	p9_put8(out, LOCK_SUCCESS);
	return 0;
}

/* Tgetlock: nothing ever conflicts (see op_lock): the range is said to be unlocked. */
static int op_getlock(struct p9_server *s, struct p9_in *in, struct p9_out *out)
{
	uint32_t id = p9_get32(in);
	p9_get8(in);
	uint64_t start = p9_get64(in), length = p9_get64(in);
	uint32_t proc_id = p9_get32(in);
	struct p9_str client = p9_get_str(in);

	if (in->bad)
		return -EPROTO;
	if (p9_fid_get(s, id) == NULL)
		return -EBADF;
	p9_put8(out, LOCK_TYPE_UNLCK);
	p9_put64(out, start);
	p9_put64(out, length);
	p9_put32(out, proc_id);
	p9_put_str(out, (const char *)client.p, client.len);
	return 0;
}

static const struct p9_op {
	p9_op_fn *fn;
	bool writes; /* refused with EROFS on a read-only share (the others check themselves) */
} ops[256] = {
	[P9_TSTATFS] = { p9_op_statfs, false },
	[P9_TLOPEN] = { p9_op_lopen, false }, /* opening to write is refused there */
	[P9_TLCREATE] = { p9_op_lcreate, true },
	[P9_TSYMLINK] = { p9_op_symlink, true },
	[P9_TMKNOD] = { p9_op_mknod, true },
	[P9_TRENAME] = { p9_op_rename, true },
	[P9_TREADLINK] = { p9_op_readlink, false },
	[P9_TGETATTR] = { p9_op_getattr, false },
	[P9_TSETATTR] = { p9_op_setattr, false }, /* ctime alone changes nothing */
	[P9_TXATTRWALK] = { p9_op_xattrwalk, false },
	[P9_TXATTRCREATE] = { p9_op_xattrcreate, true },
	[P9_TREADDIR] = { p9_op_readdir, false },
	[P9_TFSYNC] = { p9_op_fsync, false },
	[P9_TLOCK] = { op_lock, false },
	[P9_TGETLOCK] = { op_getlock, false },
	[P9_TLINK] = { p9_op_link, true },
	[P9_TMKDIR] = { p9_op_mkdir, true },
	[P9_TRENAMEAT] = { p9_op_renameat, true },
	[P9_TUNLINKAT] = { p9_op_unlinkat, true },
	[P9_TVERSION] = { op_version, false },
	[P9_TATTACH] = { p9_op_attach, false },
	[P9_TFLUSH] = { op_flush, false },
	[P9_TWALK] = { p9_op_walk, false },
	[P9_TREAD] = { p9_op_read, false },
	[P9_TWRITE] = { p9_op_write, false }, /* only a fid opened to write can */
	[P9_TCLUNK] = { p9_op_clunk, false },
	[P9_TREMOVE] = { p9_op_remove, false }, /* it clunks even when refused */
};

static size_t rlerror(uint8_t *out, uint16_t tag, uint32_t ecode)
{
	p9_le32_put(out, P9_IOHDR);
	out[4] = P9_RLERROR;
	p9_le16_put(out + 5, tag);
	p9_le32_put(out + 7, ecode);
	return P9_IOHDR;
}

size_t p9_reply_error(const uint8_t *in, size_t in_len, uint32_t ecode, uint8_t *out,
		      size_t out_max)
{
	if (out_max < P9_IOHDR)
		return 0;
	uint16_t tag = in_len >= P9_HDR ? (uint16_t)(in[5] | in[6] << 8) : P9_NOTAG;
	return rlerror(out, tag, ecode);
}

size_t p9_handle(struct p9_server *s, const uint8_t *in, size_t in_len, uint8_t *out,
		 size_t out_max)
{
	uint32_t limit = s->msize ? s->msize : P9_MAX_MSIZE;

	if (out_max < P9_IOHDR)
		return 0; /* not even room to say what went wrong */
	if (in_len < P9_HDR)
		return p9_reply_error(in, in_len, EPROTO, out, out_max);
	struct p9_in m = { in, in_len, 0, false };
	uint32_t size = p9_get32(&m);
	uint8_t type = p9_get8(&m);
	uint16_t tag = p9_get16(&m);
	if (size != in_len)
		return rlerror(out, tag, EPROTO);
	if (size > limit)
		return rlerror(out, tag, EMSGSIZE);
	const struct p9_op *op = &ops[type];
	if (op->fn == NULL)
		return rlerror(out, tag, EOPNOTSUPP); /* 9P2000 and .u messages, Tauth, replies */
	if (s->msize == 0 && type != P9_TVERSION)
		return rlerror(out, tag, EPROTO); /* no session yet */
	if (op->writes && s->ro)
		return rlerror(out, tag, EROFS);
	struct p9_out o = { out, out_max < limit ? out_max : limit, P9_HDR, false };
	int rc = op->fn(s, &m, &o);
	if (rc == 0 && (m.bad || o.full))
		rc = m.bad ? -EPROTO : -EMSGSIZE;
	if (rc < 0)
		return rlerror(out, tag, (uint32_t)-rc);
	p9_le32_put(out, (uint32_t)o.at);
	out[4] = (uint8_t)(type + 1);
	p9_le16_put(out + 5, tag);
	return o.at;
}

int p9_server_new(const char *root, bool ro, struct p9_server **out, struct den_err *err)
{
	struct p9_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return den_err_set(err, ENOMEM, "cannot share %s", root);
	/*
	 * A folder den opened following no link comes as /proc/self/fd/N (the
	 * kvm provider's, as QEMU's get theirs): that link is followed, no other.
	 */
	bool inherited = strncmp(root, "/proc/self/fd/", 14) == 0;
	s->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC | (inherited ? 0 : O_NOFOLLOW));
	if (s->root_fd < 0) {
		int e = errno;
		free(s);
		return den_err_set(err, e,
				   "cannot share %s (a folder is needed; for a symlink to one, "
				   "give the folder itself)",
				   root);
	}
	s->ro = ro;
	*out = s;
	return 0;
}

void p9_server_free(struct p9_server *s)
{
	if (s == NULL)
		return;
	p9_fid_clunk_all(s);
	close(s->root_fd);
	free(s);
}

unsigned p9_server_fids(const struct p9_server *s)
{
	return s->nfids;
}
