/* SPDX-License-Identifier: MIT */
/* Copy-on-write disks over a raw base image (cow_disk.h has the format), and their copies. */
#include "providers/kvm/cow_disk.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "den-cow\n"
#define VERSION 1
#define HEADER 4096u
#define PAGE 4096u
#define SECTOR 512u
#define MIN_BITMAP_CLUSTERS (1ull << 24) /* room for 1 TiB: a disk can grow that far */
#define MAX_SIZE (1ull << 46)		 /* 64 TiB, disk_size's limit */

/* The header as it is on disk, little-endian (den runs on x86-64 only). */
struct header {
	char magic[8];
	uint32_t version;
	uint32_t cluster_shift;
	uint64_t size;		  /* the disk's size, bytes */
	uint64_t base_size;	  /* the base's size when the overlay was made */
	int64_t base_mtime_ns;	  /* and its mtime: a base replaced since is refused */
	uint64_t bitmap_clusters; /* room in the bitmap, in clusters */
	uint64_t data;		  /* offset of cluster 0 */
};

struct cow_disk {
	int fd, base_fd;
	struct header h;
	uint8_t *bitmap;  /* bitmap_clusters bits */
	uint8_t *dirty;	  /* one byte per bitmap page: written since the last flush */
	uint8_t *cluster; /* COW_CLUSTER bytes: a cluster being put together */
	const char *path; /* for messages; the caller's */
};

static bool allocated(const struct cow_disk *d, uint64_t c)
{
	return d->bitmap[c / 8] & (1u << (c % 8));
}

static void set_allocated(struct cow_disk *d, uint64_t c)
{
	d->bitmap[c / 8] |= (uint8_t)(1u << (c % 8));
	d->dirty[c / 8 / PAGE] = 1;
}

static uint64_t bitmap_bytes(uint64_t clusters)
{
	return (clusters / 8 + PAGE - 1) / PAGE * PAGE;
}

/* The base's bytes of cluster c, zeros past its end, into buf (COW_CLUSTER bytes). */
static int read_base(struct cow_disk *d, uint64_t c, uint8_t *buf)
{
	uint64_t at = c << COW_CLUSTER_SHIFT, n = 0;

	if (at < d->h.base_size)
		n = d->h.base_size - at < COW_CLUSTER ? d->h.base_size - at : COW_CLUSTER;
	memset(buf + n, 0, COW_CLUSTER - n);
	return n > 0 ? den_pread_all(d->base_fd, buf, n, at) : 0;
}

/* Copies len bytes between the iovecs (starting skip bytes in) and buf. */
static void iov_copy(const struct iovec *iov, int n, uint64_t skip, uint8_t *buf, size_t len,
		     bool to_iov)
{
	for (int i = 0; i < n && len > 0; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - skip < len ? iov[i].iov_len - skip : len;
		uint8_t *p = (uint8_t *)iov[i].iov_base + skip;
		memcpy(to_iov ? p : buf, to_iov ? buf : p, take);
		buf += take, len -= take, skip = 0;
	}
}

/* The length of iov when it fits in the disk at off; else -1 with err naming what. */
static int64_t span(const struct cow_disk *d, const struct iovec *iov, int n, uint64_t off,
		    const char *what, struct den_err *err)
{
	uint64_t total = 0;

	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (off > d->h.size || total > d->h.size - off)
		return den_err_set(err, 0, "disk %s: a %s past its end", d->path, what);
	return (int64_t)total;
}

/* The piece of a transfer at disk offset at with left bytes to go: its cluster, where in it, how long. */
static size_t piece(uint64_t at, uint64_t left, uint64_t *c, uint64_t *in)
{
	*c = at >> COW_CLUSTER_SHIFT;
	*in = at & (COW_CLUSTER - 1);
	return COW_CLUSTER - *in < left ? COW_CLUSTER - *in : left;
}

int cow_disk_readv(struct cow_disk *d, const struct iovec *iov, int n, uint64_t off,
		   struct den_err *err)
{
	int64_t total = span(d, iov, n, off, "read", err);

	for (uint64_t done = 0, c, in; total >= 0 && done < (uint64_t)total;) {
		uint64_t at = off + done;
		size_t len = piece(at, (uint64_t)total - done, &c, &in);
		int r = allocated(d, c) ? den_pread_all(d->fd, d->cluster, len, d->h.data + at)
					: read_base(d, c, d->cluster);
		if (r < 0)
			return den_err_set(err, errno, "cannot read the disk %s", d->path);
		iov_copy(iov, n, done, allocated(d, c) ? d->cluster : d->cluster + in, len, true);
		done += len;
	}
	return total < 0 ? -1 : 0;
}

int cow_disk_writev(struct cow_disk *d, const struct iovec *iov, int n, uint64_t off,
		    struct den_err *err)
{
	int64_t total = span(d, iov, n, off, "write", err);

	for (uint64_t done = 0, c, in; total >= 0 && done < (uint64_t)total;) {
		uint64_t at = off + done;
		size_t len = piece(at, (uint64_t)total - done, &c, &in);
		int r;
		if (allocated(d, c)) {
			iov_copy(iov, n, done, d->cluster, len, false);
			r = den_pwrite_all(d->fd, d->cluster, len, d->h.data + at);
		} else {
			/* First write to it: the whole cluster goes in, the base's bytes around. */
			r = len == COW_CLUSTER ? 0 : read_base(d, c, d->cluster);
			iov_copy(iov, n, done, d->cluster + in, len, false);
			if (r == 0)
				r = den_pwrite_all(d->fd, d->cluster, COW_CLUSTER,
						   d->h.data + (c << COW_CLUSTER_SHIFT));
			if (r == 0)
				set_allocated(d, c);
		}
		if (r < 0)
			return den_err_set(err, errno, "cannot write the disk %s", d->path);
		done += len;
	}
	return total < 0 ? -1 : 0;
}

int cow_disk_flush(struct cow_disk *d, struct den_err *err)
{
	uint64_t pages = bitmap_bytes(d->h.bitmap_clusters) / PAGE;
	bool any = false;

	if (fdatasync(d->fd) < 0)
		return den_err_set(err, errno, "cannot flush the disk %s", d->path);
	for (uint64_t p = 0; p < pages; p++) {
		if (!d->dirty[p])
			continue;
		if (den_pwrite_all(d->fd, d->bitmap + p * PAGE, PAGE, HEADER + p * PAGE) < 0)
			return den_err_set(err, errno, "cannot write the disk %s", d->path);
		d->dirty[p] = 0;
		any = true;
	}
	if (any && fdatasync(d->fd) < 0)
		return den_err_set(err, errno, "cannot flush the disk %s", d->path);
	return 0;
}

uint64_t cow_disk_size(const struct cow_disk *d)
{
	return d->h.size;
}

void cow_disk_close(struct cow_disk *d)
{
	struct den_err ignored = { 0 };

	if (d == NULL)
		return;
	cow_disk_flush(d, &ignored);
	close(d->fd);
	close(d->base_fd);
	free(d->bitmap);
	free(d->dirty);
	free(d->cluster);
	free(d);
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* A new overlay's header for a disk of size bytes over a base as st says. */
static void new_header(struct header *h, uint64_t size, const struct stat *st)
{
	uint64_t clusters = (size + COW_CLUSTER - 1) >> COW_CLUSTER_SHIFT;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, MAGIC, 8);
	h->version = VERSION;
	h->cluster_shift = COW_CLUSTER_SHIFT;
	h->size = size;
	h->base_size = (uint64_t)st->st_size;
	h->base_mtime_ns = mtime_ns(st);
	h->bitmap_clusters = clusters > MIN_BITMAP_CLUSTERS ? clusters : MIN_BITMAP_CLUSTERS;
	h->data = HEADER + bitmap_bytes(h->bitmap_clusters);
	h->data = (h->data + COW_CLUSTER - 1) / COW_CLUSTER * COW_CLUSTER;
}

/* The overlay's header, checked: den's own file, but read back as input. */
static int check_header(const struct header *h, const char *path, const struct stat *base,
			struct den_err *err)
{
	if (memcmp(h->magic, MAGIC, 8) != 0 || h->version != VERSION ||
	    h->cluster_shift != COW_CLUSTER_SHIFT || h->size == 0 || h->size % SECTOR != 0 ||
	    h->size > MAX_SIZE || h->bitmap_clusters > (MAX_SIZE >> COW_CLUSTER_SHIFT) ||
	    h->bitmap_clusters < (h->size + COW_CLUSTER - 1) >> COW_CLUSTER_SHIFT ||
	    h->data < HEADER + bitmap_bytes(h->bitmap_clusters) || h->data % COW_CLUSTER != 0)
		return den_err_set(err, 0,
				   "%s is not a disk den made (or one of another version); "
				   "`den destroy` the machine and `den up` it again",
				   path);
	if (h->base_size != (uint64_t)base->st_size || h->base_mtime_ns != mtime_ns(base))
		return den_err_set(err, 0,
				   "the box image under disk %s changed since the machine was "
				   "made; `den destroy` the machine and `den up` it again",
				   path);
	return 0;
}

/* Reads or makes the header and bitmap of d's overlay (fd open, base_fd too). */
static int load(struct cow_disk *d, uint64_t size, bool fresh, const struct stat *base,
		struct den_err *err)
{
	if (fresh) {
		new_header(&d->h, size, base);
	} else {
		if (den_pread_all(d->fd, &d->h, sizeof(d->h), 0) < 0)
			return den_err_set(err, errno, "cannot read the disk %s", d->path);
		if (check_header(&d->h, d->path, base, err) < 0)
			return -1;
		if (size != 0 && size < d->h.size)
			return den_err_set(
				err, 0, "disk %s is %llu bytes; it cannot shrink to %llu", d->path,
				(unsigned long long)d->h.size, (unsigned long long)size);
		if (size > d->h.bitmap_clusters << COW_CLUSTER_SHIFT)
			return den_err_set(
				err, 0,
				"disk %s can grow to %llu bytes at most; `den destroy` "
				"the machine to make it bigger",
				d->path,
				(unsigned long long)(d->h.bitmap_clusters << COW_CLUSTER_SHIFT));
		if (size > d->h.size)
			d->h.size = size;
	}
	uint64_t bytes = bitmap_bytes(d->h.bitmap_clusters);
	d->bitmap = calloc(1, bytes);
	d->dirty = calloc(bytes / PAGE, 1);
	d->cluster = malloc(COW_CLUSTER);
	if (d->bitmap == NULL || d->dirty == NULL || d->cluster == NULL)
		return den_err_set(err, ENOMEM, "disk %s", d->path);
	if (!fresh && den_pread_all(d->fd, d->bitmap, bytes, HEADER) < 0)
		return den_err_set(err, errno, "cannot read the disk %s", d->path);
	/* The header last: a den killed before it leaves a file the next open refuses. */
	if (ftruncate(d->fd, (off_t)(d->h.data + d->h.size)) < 0 ||
	    (fresh && den_pwrite_all(d->fd, d->bitmap, bytes, HEADER) < 0) ||
	    den_pwrite_all(d->fd, &d->h, sizeof(d->h), 0) < 0 || fdatasync(d->fd) < 0)
		return den_err_set(err, errno, "cannot write the disk %s", d->path);
	return 0;
}

int cow_disk_open(const char *overlay, const char *base, uint64_t size, struct cow_disk **out,
		  struct den_err *err)
{
	struct cow_disk *d = calloc(1, sizeof(*d));
	struct stat bst;
	bool fresh = false;

	if (d == NULL)
		return den_err_set(err, ENOMEM, "disk %s", overlay);
	d->path = overlay;
	d->fd = -1;
	d->base_fd = open(base, O_RDONLY | O_CLOEXEC);
	if (d->base_fd < 0 || fstat(d->base_fd, &bst) < 0 || !S_ISREG(bst.st_mode)) {
		den_err_set(err, d->base_fd < 0 ? errno : 0, "cannot open the box image %s", base);
		goto fail;
	}
	d->fd = open(overlay, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (d->fd < 0 && errno == ENOENT) {
		fresh = true;
		d->fd = open(overlay, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (d->fd < 0) {
		den_err_set(err, errno, "cannot open the disk %s", overlay);
		goto fail;
	}
	if (fresh && size == 0) /* the image's size, in whole sectors */
		size = ((uint64_t)bst.st_size + SECTOR - 1) / SECTOR * SECTOR;
	if (fresh && (size < (uint64_t)bst.st_size || size % SECTOR != 0 || size > MAX_SIZE)) {
		den_err_set(err, 0, "disk %s: %llu bytes is not a size for a disk over %s (%lld)",
			    overlay, (unsigned long long)size, base, (long long)bst.st_size);
		goto fail;
	}
	if (load(d, size, fresh, &bst, err) < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	if (fresh && d->fd >= 0)
		unlink(overlay);
	if (d->fd >= 0)
		close(d->fd);
	if (d->base_fd >= 0)
		close(d->base_fd);
	free(d->bitmap);
	free(d->dirty);
	free(d->cluster);
	free(d);
	return -1;
}

/* Copies [off, off + len) of in to out: in the kernel where it can, else skipping zero pages. */
static int copy_range(int in, int out, uint64_t off, uint64_t len, bool *in_kernel, uint8_t *buf)
{
	while (len > 0) {
		if (*in_kernel) {
			loff_t from = (loff_t)off, to = (loff_t)off;
			ssize_t n = copy_file_range(in, &from, out, &to, len, 0);
			if (n > 0) {
				off += (uint64_t)n, len -= (uint64_t)n;
				continue;
			}
			if (n == 0)
				return (errno = EIO, -1); /* the file shrank under us */
			if (errno == EINTR)
				continue;
			if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
			    errno != EOPNOTSUPP)
				return -1;
			*in_kernel = false; /* older kernels, other file systems: by hand */
		}
		size_t n = len < COW_CLUSTER ? (size_t)len : COW_CLUSTER;
		if (den_pread_all(in, buf, n, off) < 0)
			return -1;
		for (size_t at = 0; at < n; at += PAGE) {
			size_t take = n - at < PAGE ? n - at : PAGE;
			bool zero = buf[at] == 0 && memcmp(buf + at, buf + at + 1, take - 1) == 0;
			if (!zero && den_pwrite_all(out, buf + at, take, off + at) < 0)
				return -1;
		}
		off += n, len -= n;
	}
	return 0;
}

/* The ranges of in that hold data, into out (already src's size). */
static int copy_data(int in, int out, uint64_t size)
{
	cleanup_free uint8_t *buf = malloc(COW_CLUSTER);
	bool in_kernel = true;

	if (buf == NULL)
		return (errno = ENOMEM, -1);
	for (uint64_t at = 0; at < size;) {
		off_t data = lseek(in, (off_t)at, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* only a hole from here on */
		if (data < 0)
			return -1;
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		if (copy_range(in, out, (uint64_t)data, (uint64_t)(hole - data), &in_kernel, buf) <
		    0)
			return -1;
		at = (uint64_t)hole;
	}
	return 0;
}

int cow_disk_copy(const char *src, const char *dst, bool durable, struct den_err *err)
{
	cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	cleanup_free char *tmp = NULL, *dir = NULL;
	struct stat st;
	char magic[8];

	if (in < 0 || fstat(in, &st) < 0)
		return den_err_set(err, errno, "cannot open the disk %s", src);
	if (!S_ISREG(st.st_mode) || den_pread_all(in, magic, sizeof(magic), 0) < 0 ||
	    memcmp(magic, MAGIC, sizeof(magic)) != 0)
		return den_err_set(err, 0, "%s is not a copy-on-write disk den made", src);
	if (asprintf(&tmp, "%s.tmp.XXXXXX", dst) < 0 || (dir = strdup(dst)) == NULL)
		return den_err_set(err, ENOMEM, "cannot copy the disk %s", src);
	cleanup_close int out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0)
		return den_err_set(err, errno, "cannot copy the disk %s to %s", src, dst);
	/* A clone shares the blocks (btrfs, XFS): instant, and no room taken until either changes. */
	if (fchmod(out, 0600) < 0 ||
	    (ioctl(out, FICLONE, in) < 0 &&
	     (ftruncate(out, st.st_size) < 0 || copy_data(in, out, (uint64_t)st.st_size) < 0)) ||
	    (durable && fsync(out) < 0) || rename(tmp, dst) < 0) {
		int e = errno;
		unlink(tmp);
		return den_err_set(err, e, "cannot copy the disk %s to %s", src, dst);
	}
	if (!durable)
		return 0;
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	cleanup_close int dfd = open(slash != NULL ? (dir[0] ? dir : "/") : ".",
				     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return den_err_set(err, errno, "cannot sync the folder of %s", dst);
	return 0;
}
