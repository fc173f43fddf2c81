/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_QEMU_DISK_H
#define DEN_PROVIDERS_QEMU_DISK_H

/*
 * A machine's disk: a qcow2 overlay in .den/machines/NAME/ backed by the
 * box's image (qemu-img create -b), so up copies nothing; disk_size grows
 * it past the box's size (never shrinks it).
 */

#include <stdint.h>

#include "core/err.h"

/* Most of what qemu-img prints that den reads (qemu-img info's JSON). */
#define QEMU_IMG_OUTPUT_MAX (64 << 10)

/*
 * Runs qemu-img with argv (argv[0] "qemu-img"); its stdout (bounded by
 * out_len) in out. Its failure is an error quoting the end of its stderr.
 */
int qemu_img(char *const argv[], char *out, size_t out_len, struct den_err *err);

/* base_format: "qcow2" or "raw"; size 0: the box's own. */
int qemu_disk_create(const char *base, const char *base_format, const char *path, uint64_t size,
		     struct den_err *err);

/*
 * The virtual size of an image of the given format, in bytes (qemu-img
 * info, the format never probed). An image that refers to another file (a
 * backing or external data file) is refused: a box could read the host's.
 */
int qemu_disk_size(const char *path, const char *format, uint64_t *size, struct den_err *err);

#endif
