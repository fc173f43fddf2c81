/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_LAZYLIB_H
#define DEN_CORE_LAZYLIB_H

/*
 * libcurl, libarchive, libssh, libslirp, libcrypto, libext2fs, libblkid
 * and libxml2 are loaded on first
 * use, not at start-up: `den status` takes 0.8 ms so, against 5.4 ms
 * with them preloaded (docs/decisions.md).
 *
 * Each library has one table, an X-macro list in its stub file
 * (boxes/lazy_curl.c, boxes/lazy_archive.c, core/lazy_ssh.c,
 * core/lazy_slirp.c, core/lazy_crypto.c, boxes/lazy_ext2fs.c,
 * boxes/lazy_blkid.c, boxes/lazy_xml.c) naming every function den calls
 * once: X(ret, name, (params), (args)). LAZYLIB_DEFINE makes of it the
 * table of names and addresses, and stubs under the libraries' own names
 * that jump through it; callers write plain library code. The file name
 * is the SONAME of the library pkg-config found (CMakeLists.txt). The
 * stub machinery is in core/lazylib-internal.h.
 *
 * Entry points that can fail load their library first (den_curl_load(err)
 * ...), which resolves the whole table or says what to install. A stub
 * that runs before its library loaded loads it itself; should that fail,
 * a load call is missing, which is a bug in den.
 */

#include <stddef.h>

#include "core/err.h"

struct lazylib {
	const char *soname;	  /* "libcurl.so.4": the SONAME pkg-config's library has */
	const char *package;	  /* Debian package shipping it, named in the message */
	const char *const *names; /* the functions den calls, one per table entry */
	void **fns;		  /* their addresses once loaded, NULL before */
	size_t n;		  /* entries in names and fns */
	void *handle;		  /* dlopen handle once loaded, NULL before */
};

/*
 * Loads lib and resolves every name of its table; 0 when it is loaded
 * already. Fails with "cannot load libcurl.so.4 (...); install the Debian
 * package libcurl4" and leaves lib unloaded.
 */
int lazylib_load(struct lazylib *lib, struct den_err *err);

/* The tables, and their loads for entry points. */
extern struct lazylib lazylib_curl, lazylib_archive, lazylib_ssh, lazylib_slirp, lazylib_crypto,
	lazylib_ext2fs, lazylib_blkid, lazylib_xml;

static inline int den_curl_load(struct den_err *err)
{
	return lazylib_load(&lazylib_curl, err);
}
static inline int den_archive_load(struct den_err *err)
{
	return lazylib_load(&lazylib_archive, err);
}
static inline int den_ssh_load(struct den_err *err)
{
	return lazylib_load(&lazylib_ssh, err);
}
static inline int den_slirp_load(struct den_err *err)
{
	return lazylib_load(&lazylib_slirp, err);
}
static inline int den_crypto_load(struct den_err *err)
{
	return lazylib_load(&lazylib_crypto, err);
}
static inline int den_ext2fs_load(struct den_err *err)
{
	return lazylib_load(&lazylib_ext2fs, err);
}
static inline int den_blkid_load(struct den_err *err)
{
	return lazylib_load(&lazylib_blkid, err);
}
static inline int den_xml_load(struct den_err *err)
{
	return lazylib_load(&lazylib_xml, err);
}

#endif
