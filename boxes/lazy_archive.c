/* SPDX-License-Identifier: MIT */
/* libarchive's table (core/lazylib.h): box files read, unpacked and written; LXD images. */
#include <archive.h>
#include <archive_entry.h>

#include "core/lazylib-internal.h"

#define A struct archive
#define E struct archive_entry
#define MODE __LA_MODE_T

#define DEN_ARCHIVE_FUNCS(X, V)                                                                    \
	/* Reading and unpacking. */                                                               \
	X(A *, archive_read_new, (void), ())                                                       \
	X(int, archive_read_free, (A * a), (a))                                                    \
	X(int, archive_read_support_filter_all, (A * a), (a))                                      \
	X(int, archive_read_support_format_tar, (A * a), (a))                                      \
	X(int, archive_read_support_format_gnutar, (A * a), (a))                                   \
	X(int, archive_read_support_format_zip, (A * a), (a))                                      \
	/* Container image layers: the raw stream hashed, then read as a tar (boxes/image_*.c). */ \
	X(int, archive_read_support_format_raw, (A * a), (a))                                      \
	X(int, archive_read_support_filter_gzip, (A * a), (a))                                     \
	X(int, archive_read_support_filter_zstd, (A * a), (a))                                     \
	X(int, archive_read_support_filter_xz, (A * a), (a))                                       \
	X(int, archive_read_support_filter_bzip2, (A * a), (a))                                    \
	X(int, archive_read_open,                                                                  \
	  (A * a, void *c, archive_open_callback *o, archive_read_callback *r,                     \
	   archive_close_callback *cl),                                                            \
	  (a, c, o, r, cl))                                                                        \
	X(int, archive_read_data_skip, (A * a), (a))                                               \
	/* tests/unit/test_qemu.c reads the seed ISO back. */                                      \
	X(int, archive_read_support_format_iso9660, (A * a), (a))                                  \
	X(int, archive_read_open_filename, (A * a, const char *f, size_t b), (a, f, b))            \
	X(int, archive_read_next_header, (A * a, E * *e), (a, e))                                  \
	X(int, archive_read_data_block, (A * a, const void **b, size_t *s, la_int64_t *o),         \
	  (a, b, s, o))                                                                            \
	X(la_ssize_t, archive_read_data, (A * a, void *b, size_t s), (a, b, s))                    \
	X(const char *, archive_error_string, (A * a), (a))                                        \
	X(A *, archive_write_disk_new, (void), ())                                                 \
	X(int, archive_write_disk_set_options, (A * a, int f), (a, f))                             \
	X(int, archive_write_disk_set_standard_lookup, (A * a), (a))                               \
	X(int, archive_write_header, (A * a, E * e), (a, e))                                       \
	X(la_ssize_t, archive_write_data_block, (A * a, const void *b, size_t s, la_int64_t o),    \
	  (a, b, s, o))                                                                            \
	X(int, archive_write_finish_entry, (A * a), (a))                                           \
	X(int, archive_write_free, (A * a), (a))                                                   \
	X(const char *, archive_entry_pathname, (E * e), (e))                                      \
	X(const char *, archive_entry_symlink, (E * e), (e))                                       \
	X(const char *, archive_entry_hardlink, (E * e), (e))                                      \
	X(MODE, archive_entry_filetype, (E * e), (e))                                              \
	X(MODE, archive_entry_mode, (E * e), (e))                                                  \
	X(la_int64_t, archive_entry_size, (E * e), (e))                                            \
	X(int, archive_entry_size_is_set, (E * e), (e))                                            \
	X(int, archive_entry_sparse_count, (E * e), (e))                                           \
	X(void, archive_entry_copy_pathname, (E * e, const char *p), (e, p))                       \
	X(void, archive_entry_copy_hardlink, (E * e, const char *p), (e, p))                       \
	/* Writing (den box build, den box package, the qemu seed ISO). */                         \
	X(A *, archive_write_new, (void), ())                                                      \
	X(int, archive_write_set_format_pax_restricted, (A * a), (a))                              \
	X(int, archive_write_set_format_iso9660, (A * a), (a))                                     \
	X(int, archive_write_set_format_option,                                                    \
	  (A * a, const char *m, const char *o, const char *v), (a, m, o, v))                      \
	X(int, archive_write_add_filter_gzip, (A * a), (a))                                        \
	X(int, archive_write_add_filter_zstd, (A * a), (a))                                        \
	X(int, archive_write_set_format_raw, (A * a), (a))                                         \
	X(int, archive_write_set_bytes_in_last_block, (A * a, int n), (a, n))                      \
	X(int, archive_write_set_filter_option,                                                    \
	  (A * a, const char *m, const char *o, const char *v), (a, m, o, v))                      \
	X(int, archive_write_open_filename, (A * a, const char *f), (a, f))                        \
	X(la_ssize_t, archive_write_data, (A * a, const void *b, size_t s), (a, b, s))             \
	X(int, archive_write_close, (A * a), (a))                                                  \
	X(A *, archive_read_disk_new, (void), ())                                                  \
	X(int, archive_read_disk_set_standard_lookup, (A * a), (a))                                \
	X(int, archive_read_disk_set_behavior, (A * a, int f), (a, f))                             \
	X(int, archive_read_disk_open, (A * a, const char *p), (a, p))                             \
	X(int, archive_read_disk_descend, (A * a), (a))                                            \
	X(int, archive_read_next_header2, (A * a, E * e), (a, e))                                  \
	X(E *, archive_entry_new, (void), ())                                                      \
	X(void, archive_entry_free, (E * e), (e))                                                  \
	X(E *, archive_entry_clear, (E * e), (e))                                                  \
	X(const char *, archive_entry_sourcepath, (E * e), (e))                                    \
	X(void, archive_entry_set_pathname, (E * e, const char *p), (e, p))                        \
	X(void, archive_entry_set_filetype, (E * e, unsigned int t), (e, t))                       \
	X(void, archive_entry_set_perm, (E * e, MODE m), (e, m))                                   \
	X(void, archive_entry_set_size, (E * e, la_int64_t s), (e, s))                             \
	X(void, archive_entry_set_mtime, (E * e, time_t t, long ns), (e, t, ns))                   \
	X(void, archive_entry_set_uid, (E * e, la_int64_t id), (e, id))                            \
	X(void, archive_entry_set_gid, (E * e, la_int64_t id), (e, id))                            \
	X(void, archive_entry_set_rdev, (E * e, dev_t d), (e, d))                                  \
	X(void, archive_entry_copy_symlink, (E * e, const char *s), (e, s))                        \
	X(void, archive_entry_xattr_add_entry, (E * e, const char *n, const void *v, size_t l),    \
	  (e, n, v, l))                                                                            \
	X(int, archive_write_open,                                                                 \
	  (A * a, void *d, archive_open_callback *o, archive_write_callback *w,                    \
	   archive_close_callback *c),                                                             \
	  (a, d, o, w, c))

LAZYLIB_DEFINE(lazylib_archive, DEN_ARCHIVE_FUNCS, DEN_SONAME_ARCHIVE, DEN_PACKAGE_ARCHIVE)
