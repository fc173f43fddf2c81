/* SPDX-License-Identifier: MIT */
/*
 * Applying an image's layers: each blob is read once, and on its way hashed
 * twice (as stored, for its digest; uncompressed, for its diff_id) and
 * unpacked. libarchive does the decompressing ("raw" format: the blob's
 * bytes, uncompressed) and then reads that stream as a tar.
 */
#include "boxes/image.h"
#include "boxes/layer.h"
#include "boxes/unpack.h"
#include "core/cleanup.h"
#include "core/digest.h"
#include "core/lazylib.h"
#include "core/log.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1 << 16)

/* The blob as stored, hashed as libarchive reads it. */
struct blob_stream {
	int fd;
	struct digest *digest;
	uint64_t bytes;
	int error; /* errno of a failed read */
	char buf[CHUNK];
};

/* The blob uncompressed, hashed as the tar reader reads it. */
struct tar_stream {
	struct archive *raw;
	struct digest *digest;
	bool failed;
	char buf[CHUNK];
};

static la_ssize_t read_blob(struct archive *a, void *ctx, const void **out)
{
	struct blob_stream *s = ctx;
	ssize_t n;

	(void)a;
	do
		n = read(s->fd, s->buf, sizeof(s->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->error = errno;
		return -1;
	}
	digest_update(s->digest, s->buf, (size_t)n);
	s->bytes += (uint64_t)n;
	*out = s->buf;
	return n;
}

static la_ssize_t read_tar(struct archive *a, void *ctx, const void **out)
{
	struct tar_stream *s = ctx;
	la_ssize_t n;

	(void)a;
	n = archive_read_data(s->raw, s->buf, sizeof(s->buf));
	if (n < 0) {
		s->failed = true;
		return -1;
	}
	digest_update(s->digest, s->buf, (size_t)n);
	*out = s->buf;
	return n;
}

/* What the tar reader left of the stream (its padding) still counts: read and hashed. */
static int drain(struct blob_stream *b, struct tar_stream *t)
{
	const void *p;

	while (read_tar(NULL, t, &p) > 0)
		;
	while (read_blob(NULL, b, &p) > 0)
		;
	return t->failed || b->error ? -1 : 0;
}

static int check(struct digest *d, const char *want, const char *what, size_t i,
		 struct den_err *err)
{
	char hex[DIGEST_HEX_MAX];

	digest_final_hex(d, hex);
	if (want == NULL || strcmp(want + 7, hex) == 0)
		return 0;
	return den_err_set(err, 0,
			   "refused: layer %zu does not match its %s (sha256:%s, but %s was "
			   "named); nothing was added",
			   i + 1, what, hex, want);
}

/* The raw reader: the blob's bytes, decompressed by libarchive's own filters only. */
static struct archive *open_raw(struct blob_stream *b)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	if (a == NULL)
		return NULL;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, b, NULL, read_blob, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int apply_one(int dirfd, const struct image_layer *l, size_t i, const char *root,
		     uint64_t max, uint64_t *used, struct den_err *err)
{
	struct blob_stream *b = calloc(1, sizeof(*b));
	struct tar_stream *t = calloc(1, sizeof(*t));
	struct archive *tar = NULL;
	struct layer *layer = layer_new();
	char shown[64];
	int rc = -1;

	snprintf(shown, sizeof(shown), "layer %zu", i + 1);
	if (b != NULL)
		b->fd = -1;
	if (b == NULL || t == NULL || layer == NULL) {
		den_err_set(err, ENOMEM, "cannot apply %s", shown);
		goto out;
	}
	b->fd = image_open_below(dirfd, l->file);
	if (b->fd < 0) {
		den_err_set(err, errno, "the image has no %s (%s), or it leads outside the image",
			    l->file, shown);
		goto out;
	}
	b->digest = digest_new(DIGEST_SHA256);
	t->digest = digest_new(DIGEST_SHA256);
	if (b->digest == NULL || t->digest == NULL) {
		den_err_set(err, ENOMEM, "cannot apply %s", shown);
		goto out;
	}
	t->raw = open_raw(b);
	tar = archive_read_new();
	if (t->raw == NULL || tar == NULL) {
		den_err_set(err, b->error, "%s (%s) is not a layer: it cannot be read", shown,
			    l->file);
		goto out;
	}
	archive_read_support_format_tar(tar);
	archive_read_support_format_gnutar(tar);
	if (archive_read_open(tar, t, NULL, read_tar, NULL) != ARCHIVE_OK) {
		den_err_set(err, 0, "%s (%s) is not a tar: %s", shown, l->file,
			    archive_error_string(tar));
		goto out;
	}
	if (unpack_layer(tar, shown, root, layer, max, used, err) < 0) {
		den_err_wrap(err, "%s", shown);
		goto out;
	}
	if (drain(b, t) < 0) {
		den_err_set(err, b->error, "cannot read %s (%s) to its end", shown, l->file);
		goto out;
	}
	if (check(b->digest, l->digest, "digest", i, err) < 0 ||
	    check(t->digest, l->diff_id, "diff_id", i, err) < 0)
		goto out;
	den_debug("layer %zu: %llu bytes, applied", i + 1, (unsigned long long)b->bytes);
	rc = 0;
out:
	if (tar != NULL)
		archive_read_free(tar);
	if (t != NULL && t->raw != NULL)
		archive_read_free(t->raw);
	if (b != NULL) {
		if (b->fd >= 0)
			close(b->fd);
		digest_free(b->digest);
	}
	if (t != NULL)
		digest_free(t->digest);
	free(b);
	free(t);
	layer_free(layer);
	return rc;
}

int image_apply_layers(int dirfd, const struct image *img, const char *root, uint64_t max,
		       uint64_t *used, struct den_err *err)
{
	uint64_t total = 0;

	if (den_archive_load(err) < 0 || den_crypto_load(err) < 0)
		return -1;
	for (size_t i = 0; i < img->n_layers; i++) {
		uint64_t one = 0;
		if (apply_one(dirfd, &img->layers[i], i, root, max - total, &one, err) < 0)
			return -1;
		total += one;
	}
	if (used != NULL)
		*used = total;
	return 0;
}
