/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_COW_DISK_H
#define DEN_PROVIDERS_KVM_COW_DISK_H

/*
 * A machine's disk as copy-on-write over a box's raw image (docs/vmm.md,
 * "Disks"): the base is opened read-only and never written; what the
 * guest writes goes to the overlay, one 64 KiB cluster at a time, with a
 * bitmap of the clusters it holds. The overlay is one file:
 *
 *	0       header (4 KiB): magic, version, cluster size, the disk's size,
 *	        the base's size and mtime (a changed base is refused)
 *	4096    bitmap, one bit per cluster, room for bitmap_clusters
 *	data    cluster i at data + i * 64 KiB (a sparse file: only written
 *	        clusters take room)
 *
 * Data is written before the bitmap bit that points at it reaches the
 * file, and the bitmap only at flush and close: a den killed between two
 * flushes loses at most what the guest had not flushed, as a real disk.
 * Reads past the base's end and of clusters never written are zeros.
 * One thread uses a cow_disk at a time.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/err.h"

#define COW_CLUSTER_SHIFT 16
#define COW_CLUSTER (1u << COW_CLUSTER_SHIFT)

struct cow_disk;

/*
 * Opens overlay over base, creating the overlay when it is missing. size
 * is the disk's size in bytes (a multiple of 512, at least the base's):
 * 0 keeps an existing overlay's size, or makes a new one the base's size
 * (in whole sectors); larger than the overlay's grows the disk
 * (disk_size), smaller is refused.
 */
int cow_disk_open(const char *overlay, const char *base, uint64_t size, struct cow_disk **out,
		  struct den_err *err);

/* The disk's size in bytes. */
uint64_t cow_disk_size(const struct cow_disk *d);

/* Reads or writes n iovecs at off; the whole range lies within the disk. */
int cow_disk_readv(struct cow_disk *d, const struct iovec *iov, int n, uint64_t off,
		   struct den_err *err);
int cow_disk_writev(struct cow_disk *d, const struct iovec *iov, int n, uint64_t off,
		    struct den_err *err);

/* Makes every write so far durable: the data, then the bitmap. */
int cow_disk_flush(struct cow_disk *d, struct den_err *err);

/* Flushes (errors are lost: flush first to see them) and frees. */
void cow_disk_close(struct cow_disk *d);

/*
 * Copies the overlay at src to dst (replaced if there, mode 0600) for a
 * snapshot: a clone sharing the file's extents (FICLONE) where the file
 * system can, else only the ranges holding data (SEEK_DATA, SEEK_HOLE),
 * by copy_file_range, or read and write skipping zeros: as sparse as the
 * overlay. Written under a temporary name and renamed. Nothing may
 * write src meanwhile: its VM is paused with its disks flushed (a
 * `snapshot` with "then": "pause"). durable: synced (file and folder)
 * before it returns; else left to the page cache, for a disk a VM is about
 * to run on, whose first flush (fdatasync) syncs it: a sync here would
 * wait for everything else the file system has to write (ext4's ordered
 * journal), seconds on a busy host.
 */
int cow_disk_copy(const char *src, const char *dst, bool durable, struct den_err *err);

#endif
