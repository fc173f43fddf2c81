/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_MEMBUF_H
#define DEN_CORE_MEMBUF_H

/*
 * An answer read into memory, up to a cap: small downloads (catalogs)
 * and LXD's answers. den_membuf_write has libcurl's write-callback shape
 * (CURLOPT_WRITEFUNCTION, with the membuf as CURLOPT_WRITEDATA); nothing
 * here needs libcurl itself.
 */

#include <stdbool.h>
#include <stddef.h>

struct den_membuf {
	char *data;   /* NUL-terminated once anything arrived, else NULL; malloc'd */
	size_t len;   /* bytes in data, the NUL not counted */
	size_t cap;   /* bytes allocated */
	size_t max;   /* refused past this many bytes */
	bool too_big; /* more than max arrived: the transfer was stopped */
};

/* Appends size * n bytes; 0 (which stops libcurl) past max or out of memory. */
size_t den_membuf_write(char *data, size_t size, size_t n, void *membuf);

#endif
