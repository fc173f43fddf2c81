/* SPDX-License-Identifier: MIT */
/*
 * virtio-9p: a synced folder. One request queue; a chain is the
 * T-message in its readable descriptors (one per page, as Linux's client
 * sends it) and room for the R-message in its writable ones. The message
 * is copied out of guest RAM once, whole, before anything reads it (the
 * guest cannot change it under the parser), answered by the 9P server
 * (p9.h) and copied back. Served with d->lock let go, as virtio-blk is
 * (virtio_serve_unlocked): a slow file system never stalls a vCPU touching
 * the device's registers.
 */
#include "providers/kvm/virtio.h"
#include "providers/kvm/p9.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MOUNT_TAG (1ULL << 0) /* VIRTIO_9P_MOUNT_TAG: the tag is in config space */

struct p9dev {
	struct p9_server *srv;
	/* One request at a time: the server and the buffers (two vCPUs may notify at once). */
	pthread_mutex_t serve;
	uint8_t *in, *out; /* P9_MAX_MSIZE each */
	uint16_t tag_len;
	char tag[VIRTIO_9P_TAG_MAX + 1];
	char name[VIRTIO_9P_TAG_MAX + 16];
};

/* Config space: u16 tag_len, then the tag's bytes (no NUL). */
static uint64_t config(struct virtio_dev *d, unsigned offset, unsigned size)
{
	struct p9dev *p = d->priv;
	uint8_t cfg[2 + VIRTIO_9P_TAG_MAX];
	uint64_t v = 0;

	cfg[0] = (uint8_t)p->tag_len;
	cfg[1] = (uint8_t)(p->tag_len >> 8);
	memcpy(cfg + 2, p->tag, p->tag_len);
	for (unsigned i = 0; i < size && i < 8 && offset + i < 2u + p->tag_len; i++)
		v |= (uint64_t)cfg[offset + i] << (8 * i);
	return v;
}

/* The reply into the chain's writable descriptors, in order. */
static void scatter(const struct vq_chain *c, const uint8_t *src, size_t len)
{
	for (unsigned i = 0; i < c->n && len > 0; i++) {
		if (!c->seg[i].writable)
			continue;
		size_t take = c->seg[i].len < len ? c->seg[i].len : len;
		memcpy(c->seg[i].p, src, take);
		src += take;
		len -= take;
	}
}

/*
 * One chain: how many bytes of reply it got. Garbage (readable after
 * writable, more than P9_MAX_MSIZE) is answered with an Rlerror where
 * there is room; a chain with no writable byte gets nothing.
 */
static uint32_t serve_chain(struct p9dev *p, const struct vq_chain *c)
{
	size_t in_len = 0, room = 0;
	bool writable_seen = false, misordered = false, too_big = false;

	for (unsigned i = 0; i < c->n; i++) {
		const struct vq_seg *seg = &c->seg[i];
		if (seg->writable) {
			writable_seen = true;
			room += seg->len;
			continue;
		}
		misordered |= writable_seen; /* the spec puts every readable one first */
		size_t take = seg->len < P9_MAX_MSIZE - in_len ? seg->len : P9_MAX_MSIZE - in_len;
		too_big |= take < seg->len;
		memcpy(p->in + in_len, seg->p, take);
		in_len += take;
	}
	if (room > P9_MAX_MSIZE)
		room = P9_MAX_MSIZE;
	size_t n = misordered ? p9_reply_error(p->in, in_len, EPROTO, p->out, room)
		   : too_big  ? p9_reply_error(p->in, in_len, EMSGSIZE, p->out, room)
			      : p9_handle(p->srv, p->in, in_len, p->out, room);
	scatter(c, p->out, n);
	return (uint32_t)n;
}

static uint32_t serve(struct virtio_dev *d, struct vq_chain *c)
{
	struct p9dev *p = d->priv;

	pthread_mutex_lock(&p->serve);
	uint32_t written = serve_chain(p, c);
	pthread_mutex_unlock(&p->serve);
	return written;
}

static void notify(struct virtio_dev *d, unsigned queue)
{
	virtio_serve_unlocked(d, queue, serve);
}

/*
 * Each fid holds a descriptor, and Linux's client keeps a fid for every
 * name in its dentry cache: the soft limit (often 1024) would run out
 * under a `find` in the guest. The hard limit is den's to take.
 */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

static bool tag_ok(const char *tag)
{
	static const char ok[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
	size_t n = strlen(tag);

	return n > 0 && n <= VIRTIO_9P_TAG_MAX && strspn(tag, ok) == n;
}

/*
 * A snapshot carries no host descriptors: it is taken only while the guest
 * holds no fid (the share unmounted), and a restored guest mounts it anew.
 */
static int snap_prepare(struct virtio_dev *d, struct den_err *err)
{
	struct p9dev *p = d->priv;

	pthread_mutex_lock(&p->serve);
	unsigned n = p9_server_fids(p->srv);
	pthread_mutex_unlock(&p->serve);
	if (n > 0)
		return den_err_set(err, 0,
				   "the guest has share %s mounted (%u files open): unmount it "
				   "first",
				   p->tag, n);
	return 0;
}

static const struct virtio_snap_ops snap = { .prepare = snap_prepare };

int virtio_9p_init(struct virtio_dev *d, const char *root, const char *tag, bool ro,
		   struct den_err *err)
{
	if (!tag_ok(tag))
		return den_err_usage(err,
				     "share %s: the tag '%s' must be 1 to %d letters, digits, '_', "
				     "'.' or '-'",
				     root, tag, VIRTIO_9P_TAG_MAX);
	struct p9dev *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return den_err_set(err, ENOMEM, "share %s", root);
	p->in = malloc(P9_MAX_MSIZE);
	p->out = malloc(P9_MAX_MSIZE);
	if (p->in == NULL || p->out == NULL) {
		free(p->in);
		free(p->out);
		free(p);
		return den_err_set(err, ENOMEM, "share %s", root);
	}
	if (p9_server_new(root, ro, &p->srv, err) < 0) {
		free(p->in);
		free(p->out);
		free(p);
		return -1;
	}
	pthread_mutex_init(&p->serve, NULL);
	p->tag_len = (uint16_t)strlen(tag);
	memcpy(p->tag, tag, p->tag_len);
	snprintf(p->name, sizeof(p->name), "virtio-9p %s", tag);
	raise_fd_limit();
	d->name = p->name;
	d->device_id = VIRTIO_ID_9P;
	d->features = VIRTIO_F_VERSION_1 | MOUNT_TAG;
	d->nqueues = 1;
	d->notify = notify;
	d->config = config;
	d->free = virtio_9p_free;
	d->snap = &snap;
	d->priv = p;
	return 0;
}

void virtio_9p_free(struct virtio_dev *d)
{
	struct p9dev *p = d->priv;

	if (p != NULL) {
		p9_server_free(p->srv);
		pthread_mutex_destroy(&p->serve);
		free(p->in);
		free(p->out);
		free(p);
	}
	d->priv = NULL;
}
