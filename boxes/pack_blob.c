/* SPDX-License-Identifier: MIT */
/*
 * Box files as registry blobs (boxes/pack.h): zstd on every core
 * (libarchive's filter, its "raw" format for a lone file), hashed as the
 * compressed bytes are written, so a blob's digest costs no second read.
 */
#include "boxes/pack.h"
#include "boxes/pack-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/digest.h"
#include "core/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (1 << 20)

struct hashed_out {
	int fd;
	struct digest *digest;
	uint64_t size;
	int write_errno;
};

static la_ssize_t on_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct hashed_out *o = arg;

	(void)a;
	if (den_write_all(o->fd, buf, len) < 0) {
		o->write_errno = errno;
		return -1;
	}
	digest_update(o->digest, buf, len);
	o->size += len;
	return (la_ssize_t)len;
}

/* A zstd writer on every core into o; tar or raw. */
static struct archive *open_blob(struct hashed_out *o, bool tar, const char *out,
				 struct den_err *err)
{
	struct archive *a = archive_write_new();
	char threads[16];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (a == NULL) {
		den_err_set(err, ENOMEM, "cannot write %s", out);
		return NULL;
	}
	snprintf(threads, sizeof(threads), "%ld", cpus > 0 && cpus < 256 ? cpus : 1);
	if (tar)
		archive_write_set_format_pax_restricted(a);
	else
		archive_write_set_format_raw(a);
	archive_write_add_filter_zstd(a);
	/* Older libarchives lack the option: one thread then, the same bytes. */
	archive_write_set_filter_option(a, "zstd", "threads", threads);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open(a, o, NULL, on_write, NULL) != ARCHIVE_OK) {
		den_err_set(err, 0, "cannot write %s: %s", out, archive_error_string(a));
		archive_write_free(a);
		return NULL;
	}
	return a;
}

static int copy_file(struct archive *a, const char *path, struct den_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	cleanup_free char *buf = malloc(BLOCK);
	struct archive_entry *e = archive_entry_new();
	struct stat st;
	ssize_t n;
	int ret = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || buf == NULL || e == NULL) {
		ret = den_err_set(err, errno ? errno : ENOMEM, "cannot read %s", path);
		goto out;
	}
	archive_entry_set_pathname(e, "data");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, st.st_size);
	if (archive_write_header(a, e) < ARCHIVE_WARN) {
		ret = den_err_set(err, 0, "cannot pack %s: %s", path, archive_error_string(a));
		goto out;
	}
	while ((n = read(fd, buf, BLOCK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = den_err_set(err, errno, "cannot read %s", path);
			goto out;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			ret = den_err_set(err, 0, "cannot pack %s: %s", path,
					  archive_error_string(a));
			goto out;
		}
	}
out:
	if (e != NULL)
		archive_entry_free(e);
	return ret;
}

static int pack_blob(const char *in, bool tree, const char *out, struct pack_blob *b,
		     struct den_err *err)
{
	cleanup_free char *part = NULL;
	struct hashed_out o = { .fd = -1 };
	struct archive *a = NULL;
	int ret = -1;

	memset(b, 0, sizeof(*b));
	if (den_archive_load(err) < 0 || den_crypto_load(err) < 0)
		return -1;
	if (asprintf(&part, "%s.part", out) < 0)
		return den_err_set(err, ENOMEM, "cannot write %s", out);
	o.fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	o.digest = digest_new(DIGEST_SHA256);
	if (o.fd < 0 || o.digest == NULL) {
		den_err_set(err, errno ? errno : ENOMEM, "cannot write %s", part);
		goto out;
	}
	a = open_blob(&o, tree, out, err);
	if (a == NULL)
		goto out;
	if ((tree ? pack_tree_into(a, in, err) : copy_file(a, in, err)) < 0)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK) {
		if (o.write_errno != 0)
			den_err_set(err, o.write_errno, "cannot write %s", part);
		else
			den_err_set(err, 0, "cannot write %s: %s", part, archive_error_string(a));
		goto out;
	}
	if (rename(part, out) < 0) {
		den_err_set(err, errno, "cannot write %s", out);
		goto out;
	}
	digest_final_hex(o.digest, b->hex);
	b->size = o.size;
	ret = 0;
out:
	if (a != NULL)
		archive_write_free(a);
	digest_free(o.digest);
	if (o.fd >= 0)
		close(o.fd);
	if (ret < 0)
		unlink(part);
	return ret;
}

int pack_blob_tree(const char *dir, const char *out, struct pack_blob *b, struct den_err *err)
{
	return pack_blob(dir, true, out, b, err);
}

int pack_blob_file(const char *path, const char *out, struct pack_blob *b, struct den_err *err)
{
	return pack_blob(path, false, out, b, err);
}
