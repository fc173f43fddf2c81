/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_UNPACK_H
#define DEN_BOXES_UNPACK_H

/*
 * Unpacking box archives (tar, tar.gz, tar.xz, tar.zst, zip: libarchive
 * tells them apart) into a folder, treating the archive as hostile.
 */

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

enum unpack_policy {
	/*
	 * A box file: refuse absolute paths, "..", links that leave the
	 * folder, hard links to outside, device nodes, FIFOs, setuid/setgid.
	 */
	UNPACK_BOX,
	/*
	 * A container's root file system (rootfs.tar inside a box): setuid
	 * programs (sudo) and absolute symlinks are normal there, since the
	 * container resolves them against its own root; still no "..", no
	 * writing through links, and device nodes are skipped (den-init
	 * makes /dev).
	 */
	UNPACK_ROOTFS,
};

#define UNPACK_DEFAULT_MAX ((uint64_t)64 << 30) /* 64 GiB unpacked */

/*
 * Unpacks the archive at path into dir (which exists and is empty),
 * stopping with an error when the contents pass max_bytes; *used (may be
 * NULL) gets the bytes written. On failure dir may hold part of the
 * contents: the caller removes it.
 */
int unpack_archive(const char *path, const char *dir, enum unpack_policy policy, uint64_t max_bytes,
		   uint64_t *used, struct den_err *err);

/*
 * path opened for reading with libarchive: any compression, tar (and zip
 * when asked). NULL with err ("PATH is not a box archive...") when it cannot be.
 */
struct archive;
struct archive *unpack_open(const char *path, bool zip, struct den_err *err);

/*
 * Unpacks one container image layer, a tar read from in (open), over the
 * root file system being built in dir, with UNPACK_ROOTFS's rules and the
 * layer's whiteouts applied (boxes/layer.h). An empty layer is fine.
 */
struct layer;
int unpack_layer(struct archive *in, const char *shown, const char *dir, struct layer *layer,
		 uint64_t max_bytes, uint64_t *used, struct den_err *err);

/*
 * A compressed file (zstd, gzip, xz: a registry blob of a box file) at
 * path decompressed into out (created; removed again on failure), at most
 * max_bytes; *used (may be NULL) gets its size.
 */
int unpack_blob_file(const char *path, const char *out, uint64_t max_bytes, uint64_t *used,
		     struct den_err *err);

/* The size cap: $DEN_BOX_MAX_SIZE (a size such as 10G) or 64 GiB. */
int unpack_max_bytes(uint64_t *out, struct den_err *err);

#endif
