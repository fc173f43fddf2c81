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
