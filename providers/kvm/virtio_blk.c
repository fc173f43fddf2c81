/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk over a raw image file, or a copy-on-write overlay over one
 * (cow_disk.h): read, write (refused when read-only), flush and get-id,
 * one request queue of up to 62 data segments a request
 * (VIRTIO_BLK_F_SEG_MAX), served on the device's thread as the guest
 * notifies.
 */
#include "providers/kvm/virtio.h"
#include "core/cleanup.h"
#include "providers/kvm/cow_disk.h"
#include "providers/kvm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define BLK_F_SEG_MAX (1ULL << 2)
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
	int fd;		      /* a raw image, or -1 */
	struct cow_disk *cow; /* an overlay, or NULL */
	uint64_t sectors;
	bool ro;
};

/* One read or write of the request's data; false on an I/O error. */
static bool transfer(struct blk *b, bool in, const struct iovec *iov, unsigned n, uint64_t off,
		     uint64_t total)
{
	struct den_err err = { 0 };

	if (b->cow != NULL)
		return (in ? cow_disk_readv(b->cow, iov, (int)n, off, &err)
			   : cow_disk_writev(b->cow, iov, (int)n, off, &err)) == 0;
	ssize_t r = in ? preadv(b->fd, iov, (int)n, (off_t)off)
		       : pwritev(b->fd, iov, (int)n, (off_t)off);
	return r == (ssize_t)total;
}

static bool flush(struct blk *b)
{
	struct den_err err = { 0 };

	return b->cow != NULL ? cow_disk_flush(b->cow, &err) == 0 : fdatasync(b->fd) == 0;
}

static uint64_t config(struct virtio_dev *d, unsigned offset, unsigned size)
{
	struct blk *b = d->priv;
	uint8_t cfg[16] = { 0 };
	uint32_t seg_max = 62; /* 64 descriptors a request: the header and the status take two */
	uint64_t v = 0;

	memcpy(cfg, &b->sectors, 8); /* capacity, size_max (not offered), seg_max */
	memcpy(cfg + 12, &seg_max, 4);
	for (unsigned i = 0; i < size && offset + i < sizeof(cfg); i++)
		v |= (uint64_t)cfg[offset + i] << (8 * i);
	return v;
}

/* get-id: "den-disk", cut to fit the guest's buffers (20 bytes at most). */
static uint32_t get_id(struct vq_chain *c)
{
	static const char id[20] = "den-disk";
	uint32_t at = 0;

	for (unsigned i = 1; i + 1 < c->n && at < sizeof(id); i++) {
		uint32_t take = c->seg[i].len < sizeof(id) - at ? c->seg[i].len : sizeof(id) - at;
		memcpy(c->seg[i].p, id + at, take);
		at += take;
	}
	return at;
}

/*
 * One request: header (type, reserved, sector), data, then the status
 * byte. Reads and writes are one preadv/pwritev over the data segments.
 */
static uint32_t serve(struct virtio_dev *d, struct vq_chain *c)
{
	struct blk *b = d->priv;
	struct vq_seg *st = &c->seg[c->n - 1];
	struct iovec iov[VQ_MAX_SEGS];
	uint32_t type, written = 0;
	uint64_t sector, total = 0;
	uint8_t status = S_OK;
	unsigned n = 0;

	if (c->n < 2 || c->seg[0].writable || c->seg[0].len < 16 || !st->writable || st->len < 1)
		return 0; /* malformed: nothing to answer into */
	memcpy(&type, c->seg[0].p, 4);
	memcpy(&sector, c->seg[0].p + 8, 8);
	bool to_guest = type == T_IN || type == T_GET_ID;
	for (unsigned i = 1; i + 1 < c->n; i++) {
		if (c->seg[i].writable != to_guest)
			status = S_IOERR; /* a buffer the wrong way round */
		iov[n++] = (struct iovec){ c->seg[i].p, c->seg[i].len };
		total += c->seg[i].len;
	}
	uint64_t size = b->sectors * SECTOR, off = sector * SECTOR;
	switch (type) {
	case T_IN:
	case T_OUT:
		if (sector > b->sectors || total > size - off || (type == T_OUT && b->ro)) {
			status = S_IOERR; /* past the end of the disk, or read-only */
		} else if (status == S_OK) {
			if (!transfer(b, type == T_IN, iov, n, off, total))
				status = S_IOERR;
			else if (type == T_IN)
				written = (uint32_t)total;
		}
		break;
	case T_FLUSH:
		if (!flush(b))
			status = S_IOERR;
		break;
	case T_GET_ID:
		if (status == S_OK)
			written = get_id(c);
		break;
	default:
		status = S_UNSUPP;
	}
	st->p[0] = status;
	return written + 1;
}

/* Requests are served with d->lock let go: the vCPUs read and ack interrupts meanwhile. */
static void notify(struct virtio_dev *d, unsigned queue)
{
	virtio_serve_unlocked(d, queue, serve);
}

/*
 * Before a snapshot, with no request in flight: every write so far in the
 * file (an overlay's bitmap too), so that a copy of it is the disk the
 * snapshot's guest knows.
 */
static int snap_prepare(struct virtio_dev *d, struct den_err *err)
{
	struct blk *b = d->priv;

	if (b->ro)
		return 0;
	if (b->cow != NULL)
		return cow_disk_flush(b->cow, err);
	if (fdatasync(b->fd) < 0)
		return den_err_set(err, errno, "cannot flush the disk %s", d->name);
	return 0;
}

static const struct virtio_snap_ops snap_ops = { .prepare = snap_prepare };

/* The disk's file: a raw image (its size) or an overlay over a base. */
static int open_disk(struct blk *b, const struct vmm_disk *disk, struct den_err *err)
{
	struct stat st;

	if (disk->base != NULL) {
		if (cow_disk_open(disk->path, disk->base, disk->size, &b->cow, err) < 0)
			return -1;
		b->sectors = cow_disk_size(b->cow) / SECTOR;
		return 0;
	}
	b->fd = open(disk->path, (disk->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0 || fstat(b->fd, &st) < 0)
		return den_err_set(err, errno, "cannot open the disk %s", disk->path);
	/* A block device's size is not in st_size: ask where its end is. */
	off_t end = S_ISBLK(st.st_mode) ? lseek(b->fd, 0, SEEK_END) : st.st_size;
	b->sectors = end > 0 ? (uint64_t)end / SECTOR : 0;
	return 0;
}

int virtio_blk_init(struct virtio_dev *d, const struct vmm_disk *disk, struct den_err *err)
{
	struct blk *b = calloc(1, sizeof(*b));
	bool ro = disk->ro;

	if (b == NULL)
		return den_err_set(err, ENOMEM, "disk %s", disk->path);
	b->ro = ro;
	b->fd = -1;
	if (open_disk(b, disk, err) < 0) {
		if (b->fd >= 0)
			close(b->fd);
		free(b);
		return -1;
	}
	d->device_id = VIRTIO_ID_BLOCK;
	d->features = VIRTIO_F_VERSION_1 | BLK_F_FLUSH | BLK_F_SEG_MAX | (ro ? BLK_F_RO : 0);
	d->nqueues = 1;
	d->notify = notify;
	d->config = config;
	d->free = virtio_blk_free;
	d->snap = &snap_ops;
	d->priv = b;
	return 0;
}

void virtio_blk_free(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	if (b != NULL) {
		if (b->fd >= 0)
			close(b->fd);
		cow_disk_close(b->cow);
		free(b);
	}
	d->priv = NULL;
}
