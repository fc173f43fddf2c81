/* SPDX-License-Identifier: MIT */
/* libext2fs's table (core/lazylib.h): a VM box's kernel, read from its image. */
#include <ext2fs/ext2fs.h>
#include <stddef.h>

#include "core/lazylib-internal.h"

#define FS ext2_filsys
#define F ext2_file_t
#define I ext2_ino_t
#define DIRFN int (*fn)(I, int, struct ext2_dir_entry *, int, int, char *, void *)

/* error_message is libcom_err's, found through libext2fs's own dependencies. */
#define DEN_EXT2FS_FUNCS(X, V)                                                                     \
	X(errcode_t, ext2fs_open2,                                                                 \
	  (const char *n, const char *o, int fl, int sb, unsigned bs, io_manager m, FS *fs),       \
	  (n, o, fl, sb, bs, m, fs))                                                               \
	X(errcode_t, ext2fs_close_free, (FS * fs), (fs))                                           \
	X(errcode_t, ext2fs_namei_follow, (FS fs, I r, I c, const char *n, I *i),                  \
	  (fs, r, c, n, i))                                                                        \
	X(errcode_t, ext2fs_read_inode, (FS fs, I i, struct ext2_inode * in), (fs, i, in))         \
	X(errcode_t, ext2fs_file_open, (FS fs, I i, int fl, F *f), (fs, i, fl, f))                 \
	X(errcode_t, ext2fs_file_read, (F f, void *b, unsigned w, unsigned *g), (f, b, w, g))      \
	X(errcode_t, ext2fs_file_get_lsize, (F f, __u64 * s), (f, s))                              \
	X(errcode_t, ext2fs_file_close, (F f), (f))                                                \
	X(errcode_t, ext2fs_dir_iterate2, (FS fs, I d, int fl, char *b, DIRFN, void *p),           \
	  (fs, d, fl, b, fn, p))                                                                   \
	X(const char *, error_message, (errcode_t e), (e))                                         \
	V(unix_io_manager)

LAZYLIB_DEFINE(lazylib_ext2fs, DEN_EXT2FS_FUNCS, DEN_SONAME_EXT2FS, DEN_PACKAGE_EXT2FS)

io_manager den_ext2fs_unix_io(void)
{
	return *(io_manager *)LAZYLIB_FN(unix_io_manager);
}
