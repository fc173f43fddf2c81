/* SPDX-License-Identifier: MIT */
/* libblkid's table (core/lazylib.h): the partitions of a VM box's image. */
#include <blkid/blkid.h>
#include <stddef.h>

#include "core/lazylib-internal.h"

#define P blkid_probe
#define L blkid_loff_t

#define DEN_BLKID_FUNCS(X, V)                                                                      \
	X(P, blkid_new_probe, (void), ())                                                          \
	X(void, blkid_free_probe, (P p), (p))                                                      \
	X(int, blkid_probe_set_device, (P p, int fd, L off, L size), (p, fd, off, size))           \
	X(int, blkid_probe_enable_superblocks, (P p, int e), (p, e))                               \
	X(int, blkid_probe_enable_partitions, (P p, int e), (p, e))                                \
	X(int, blkid_do_fullprobe, (P p), (p))                                                     \
	X(blkid_partlist, blkid_probe_get_partitions, (P p), (p))                                  \
	X(int, blkid_partlist_numof_partitions, (blkid_partlist l), (l))                           \
	X(blkid_partition, blkid_partlist_get_partition, (blkid_partlist l, int n), (l, n))        \
	X(L, blkid_partition_get_start, (blkid_partition p), (p))                                  \
	X(L, blkid_partition_get_size, (blkid_partition p), (p))

LAZYLIB_DEFINE(lazylib_blkid, DEN_BLKID_FUNCS, DEN_SONAME_BLKID, DEN_PACKAGE_BLKID)
