/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_DOWNLOAD_H
#define DEN_BOXES_DOWNLOAD_H

/*
 * Downloads with libcurl (http, https, file): redirects followed, the
 * digest computed while the bytes arrive, a progress bar on a terminal,
 * and resumption with a Range request when the file is already partly
 * there (a killed den, a dropped connection).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/digest.h"
#include "core/err.h"

struct download {
	const char *url;
	const char *path;      /* destination; resumed when it already holds bytes */
	enum digest_kind kind; /* digest to compute */
	const char *label;     /* what the progress bar calls it */
	bool progress;	       /* draw a progress bar on stderr */
	/* Results: */
	char hex[DIGEST_HEX_MAX]; /* digest of the whole file */
	uint64_t size;		  /* bytes in the file */
	uint64_t resumed_from;	  /* bytes that were already there */
};

/* Fetches d->url into d->path. */
int download_file(struct download *d, struct den_err *err);

/* Fetches a small document (a catalog) into memory; at most max bytes. */
int download_text(const char *url, size_t max, char **out, size_t *len, struct den_err *err);

/* True when s looks like a URL den can fetch (http://, https://, file://). */
bool download_is_url(const char *s);

#endif
