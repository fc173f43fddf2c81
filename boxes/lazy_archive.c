/* SPDX-License-Identifier: MIT */
/* libarchive, loaded on first use (core/lazylib.h). */
#include <archive.h>
#include <archive_entry.h>

#include "core/lazylib.h"

static struct lazylib la = { "libarchive.so.13", "libarchive13", NULL };

#define A struct archive
#define E struct archive_entry

LAZYLIB_STUB(la, A *, archive_read_new, (void), ())
LAZYLIB_STUB(la, int, archive_read_free, (A * a), (a))
LAZYLIB_STUB(la, int, archive_read_support_filter_all, (A * a), (a))
LAZYLIB_STUB(la, int, archive_read_support_format_tar, (A * a), (a))
LAZYLIB_STUB(la, int, archive_read_support_format_gnutar, (A * a), (a))
LAZYLIB_STUB(la, int, archive_read_support_format_zip, (A * a), (a))
LAZYLIB_STUB(la, int, archive_read_open_filename, (A * a, const char *f, size_t b), (a, f, b))
LAZYLIB_STUB(la, int, archive_read_next_header, (A * a, E **e), (a, e))
LAZYLIB_STUB(la, int, archive_read_data_block, (A * a, const void **b, size_t *s, la_int64_t *o),
	     (a, b, s, o))
LAZYLIB_STUB(la, const char *, archive_error_string, (A * a), (a))
LAZYLIB_STUB(la, A *, archive_write_disk_new, (void), ())
LAZYLIB_STUB(la, int, archive_write_disk_set_options, (A * a, int f), (a, f))
LAZYLIB_STUB(la, int, archive_write_disk_set_standard_lookup, (A * a), (a))
LAZYLIB_STUB(la, int, archive_write_header, (A * a, E *e), (a, e))
LAZYLIB_STUB(la, la_ssize_t, archive_write_data_block,
	     (A * a, const void *b, size_t s, la_int64_t o), (a, b, s, o))
LAZYLIB_STUB(la, int, archive_write_finish_entry, (A * a), (a))
LAZYLIB_STUB(la, int, archive_write_free, (A * a), (a))
LAZYLIB_STUB(la, const char *, archive_entry_pathname, (E * e), (e))
LAZYLIB_STUB(la, const char *, archive_entry_symlink, (E * e), (e))
LAZYLIB_STUB(la, const char *, archive_entry_hardlink, (E * e), (e))
LAZYLIB_STUB(la, __LA_MODE_T, archive_entry_filetype, (E * e), (e))
LAZYLIB_STUB(la, __LA_MODE_T, archive_entry_mode, (E * e), (e))
LAZYLIB_STUB_VOID(la, archive_entry_copy_pathname, (E * e, const char *p), (e, p))
LAZYLIB_STUB_VOID(la, archive_entry_copy_hardlink, (E * e, const char *p), (e, p))

/* Writing (den box build, den box package). */
LAZYLIB_STUB(la, A *, archive_write_new, (void), ())
LAZYLIB_STUB(la, int, archive_write_set_format_pax_restricted, (A * a), (a))
LAZYLIB_STUB(la, int, archive_write_add_filter_gzip, (A * a), (a))
LAZYLIB_STUB(la, int, archive_write_add_filter_zstd, (A * a), (a))
LAZYLIB_STUB(la, int, archive_write_open_filename, (A * a, const char *f), (a, f))
LAZYLIB_STUB(la, int, archive_write_set_format_iso9660, (A * a), (a))
LAZYLIB_STUB(la, int, archive_write_set_format_option,
	     (A * a, const char *m, const char *o, const char *v), (a, m, o, v))
LAZYLIB_STUB(la, int, archive_read_support_format_iso9660, (A * a), (a))
LAZYLIB_STUB(la, la_ssize_t, archive_write_data, (A * a, const void *b, size_t s), (a, b, s))
LAZYLIB_STUB(la, int, archive_write_close, (A * a), (a))
LAZYLIB_STUB(la, A *, archive_read_disk_new, (void), ())
LAZYLIB_STUB(la, int, archive_read_disk_set_standard_lookup, (A * a), (a))
LAZYLIB_STUB(la, int, archive_read_disk_set_behavior, (A * a, int f), (a, f))
LAZYLIB_STUB(la, int, archive_read_disk_open, (A * a, const char *p), (a, p))
LAZYLIB_STUB(la, int, archive_read_disk_descend, (A * a), (a))
LAZYLIB_STUB(la, int, archive_read_next_header2, (A * a, E *e), (a, e))
LAZYLIB_STUB(la, la_ssize_t, archive_read_data, (A * a, void *b, size_t s), (a, b, s))
LAZYLIB_STUB(la, E *, archive_entry_new, (void), ())
LAZYLIB_STUB_VOID(la, archive_entry_free, (E * e), (e))
LAZYLIB_STUB(la, E *, archive_entry_clear, (E * e), (e))
LAZYLIB_STUB(la, la_int64_t, archive_entry_size, (E * e), (e))
LAZYLIB_STUB(la, const char *, archive_entry_sourcepath, (E * e), (e))
LAZYLIB_STUB_VOID(la, archive_entry_set_pathname, (E * e, const char *p), (e, p))
LAZYLIB_STUB_VOID(la, archive_entry_set_filetype, (E * e, unsigned int t), (e, t))
LAZYLIB_STUB_VOID(la, archive_entry_set_perm, (E * e, __LA_MODE_T m), (e, m))
LAZYLIB_STUB_VOID(la, archive_entry_set_size, (E * e, la_int64_t s), (e, s))
LAZYLIB_STUB_VOID(la, archive_entry_set_mtime, (E * e, time_t t, long ns), (e, t, ns))
LAZYLIB_STUB(la, int, archive_entry_sparse_count, (E * e), (e))
LAZYLIB_STUB(la, int, archive_entry_size_is_set, (E * e), (e))
