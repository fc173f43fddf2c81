/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_PACK_H
#define DEN_BOXES_PACK_H

/* Writing box archives with libarchive (`den box build`, `den box package`). */

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum pack_filter { PACK_NONE, PACK_GZIP, PACK_ZSTD };

/*
 * A tar of the tree at dir, members named "./...", owners, modes, links
 * and device nodes kept, other mounted file systems not entered: a root
 * file system as rootfs.tar.
 */
int pack_tree(const char *dir, const char *out, struct den_err *err);

/*
 * A box file at out holding files[i] (paths) under names[i], at the top;
 * written as out.part and renamed, so out is whole or absent.
 */
int pack_box(const char *out, const char *const *files, const char *const *names, size_t n,
	     enum pack_filter filter, struct den_err *err);

/*
 * A registry blob (registry/box_push.c): the tree at path as a tar, or
 * the file at path, compressed with zstd on every core into out, hashed
 * as it is written. out is written as out.part and renamed.
 */
struct pack_blob {
	char hex[129]; /* sha256 of the bytes written */
	uint64_t size; /* bytes written */
};
int pack_blob_tree(const char *dir, const char *out, struct pack_blob *b, struct den_err *err);
int pack_blob_file(const char *path, const char *out, struct pack_blob *b, struct den_err *err);

#endif
