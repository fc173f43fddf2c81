/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk over a raw image file: read, write (refused when read-only),
 * flush (fdatasync) and get-id, one request queue, requests served as the
 * guest notifies.
 */
#include "providers/kvm/virtio.h"
#include "core/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK_F_RO (1ULL << 5)
#define BLK_F_FLUSH (1ULL << 9)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define SECTOR 512

struct blk {
	int fd;
	uint64_t sectors;
	bool ro;
};

static uint64_t config(struct virtio_dev *d, unsigned offset, unsigned size)
{
	struct blk *b = d->priv;
	uint8_t cfg[8];
	uint64_t v = 0;

	memcpy(cfg, &b->sectors, 8); /* capacity, the first field */
	for (unsigned i = 0; i < size && offset + i < sizeof(cfg); i++)
		v |= (uint64_t)cfg[offset + i] << (8 * i);
	return v;
}

/* One request: header (type, reserved, sector), data, then the status byte. */
static uint32_t serve(struct blk *b, struct vq_chain *c)
{
	struct vq_seg *st = &c->seg[c->n - 1];
	uint32_t type, written = 0;
	uint64_t sector;
	uint8_t status = S_OK;

	if (c->n < 2 || c->seg[0].writable || c->seg[0].len < 16 || !st->writable || st->len < 1)
		return 0; /* malformed: nothing to answer into */
	memcpy(&type, c->seg[0].p, 4);
	memcpy(&sector, c->seg[0].p + 8, 8);
	uint64_t size = b->sectors * SECTOR, off = sector * SECTOR;
	for (unsigned i = 1; i + 1 < c->n && status == S_OK; i++) {
		struct vq_seg *s = &c->seg[i];
		if (sector > b->sectors || off > size || s->len > size - off) {
			status = S_IOERR; /* past the end of the disk */
			break;
		}
		if (type == T_IN && s->writable) {
			if (pread(b->fd, s->p, s->len, (off_t)off) != (ssize_t)s->len)
				status = S_IOERR;
			written += s->len;
		} else if (type == T_OUT && !s->writable) {
			if (b->ro)
				status = S_IOERR;
			else if (pwrite(b->fd, s->p, s->len, (off_t)off) != (ssize_t)s->len)
				status = S_IOERR;
		} else if (type == T_GET_ID && s->writable) {
			memset(s->p, 0, s->len);
			memcpy(s->p, "den-disk", s->len < 8 ? s->len : 8);
			written += s->len;
		} else if (type != T_FLUSH) {
			status = type == T_IN || type == T_OUT ? S_IOERR : S_UNSUPP;
		}
		off += s->len;
	}
	if (type == T_FLUSH && fdatasync(b->fd) < 0)
		status = S_IOERR;
	else if (type != T_IN && type != T_OUT && type != T_FLUSH && type != T_GET_ID)
		status = S_UNSUPP;
	st->p[0] = status;
	return written + 1;
}

static void notify(struct virtio_dev *d, unsigned queue)
{
	struct vq_chain c;
	bool any = false;

	while (vq_pop(&d->q[queue], d->mem, &c) == 1) {
		vq_push(&d->q[queue], d->mem, c.head, serve(d->priv, &c));
		any = true;
	}
	if (any)
		virtio_signal(d);
}

int virtio_blk_init(struct virtio_dev *d, const char *path, bool ro, struct den_err *err)
{
	struct blk *b = calloc(1, sizeof(*b));
	struct stat st;

	if (b == NULL)
		return den_err_set(err, ENOMEM, "disk %s", path);
	b->ro = ro;
	b->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0 || fstat(b->fd, &st) < 0) {
		den_err_set(err, errno, "cannot open the disk %s", path);
		if (b->fd >= 0)
			close(b->fd);
		free(b);
		return -1;
	}
	/* A block device's size is not in st_size: ask where its end is. */
	off_t end = S_ISBLK(st.st_mode) ? lseek(b->fd, 0, SEEK_END) : st.st_size;
	b->sectors = end > 0 ? (uint64_t)end / SECTOR : 0;
	d->device_id = VIRTIO_ID_BLOCK;
	d->features = VIRTIO_F_VERSION_1 | BLK_F_FLUSH | (ro ? BLK_F_RO : 0);
	d->nqueues = 1;
	d->notify = notify;
	d->config = config;
	d->free = virtio_blk_free;
	d->priv = b;
	return 0;
}

void virtio_blk_free(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	if (b != NULL) {
		close(b->fd);
		free(b);
	}
	d->priv = NULL;
}
