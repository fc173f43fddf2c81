/* SPDX-License-Identifier: MIT */
/*
 * Blobs: looked up, downloaded through their digest (resumed with a Range
 * after a cut), and uploaded: mounted from another repository when the
 * registry offers it, else in one PUT or, when large, in chunks that a
 * dropped connection resumes from where the registry says it got to.
 */
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/digest.h"
#include "core/log.h"
#include "registry/client-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESUMES 4

int registry_blob_exists(struct registry_client *c, const char *digest, struct den_err *err)
{
	cleanup_free char *url = NULL, *suffix = NULL;
	struct registry_call call = { .method = "HEAD", .body_fd = -1 };
	int r;

	if (asprintf(&suffix, "blobs/%s", digest) < 0 || (url = registry_url(c, suffix)) == NULL)
		return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	call.url = url;
	if (registry_perform(c, &call, err) < 0)
		return -1;
	r = call.status == 200	 ? 1
	    : call.status == 404 ? 0
				 : registry_status_error(c, &call, "HEAD of a blob", err);
	registry_call_reset(&call);
	return r;
}

/* The hex of data's sha256 into "sha256:HEX" form in out. */
static void sha256_of(const void *data, size_t len, char out[72])
{
	struct digest *d = digest_new(DIGEST_SHA256);
	char hex[DIGEST_HEX_MAX] = "";

	if (d != NULL) {
		digest_update(d, data, len);
		digest_final_hex(d, hex);
		digest_free(d);
	}
	snprintf(out, 72, "sha256:%.64s", hex);
}

int registry_get_blob_mem(struct registry_client *c, const char *digest, uint64_t size, char **out,
			  struct den_err *err)
{
	cleanup_free char *url = NULL, *suffix = NULL;
	struct den_membuf m = { .max = (size_t)size };
	struct registry_call call = { .method = "GET",
				      .body_fd = -1,
				      .follow = true,
				      .sink = den_membuf_write,
				      .sink_arg = &m };
	char got[72];

	*out = NULL;
	if (!registry_digest_valid(digest))
		return den_err_set(err, 0, "registry %s names a blob by '%s': not a sha256 digest",
				   registry_name(c), digest);
	if (asprintf(&suffix, "blobs/%s", digest) < 0 || (url = registry_url(c, suffix)) == NULL)
		return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	call.url = url;
	/* Cut after some bytes: small enough to ask for whole again. */
	for (int tries = 1; registry_perform(c, &call, err) < 0 && call.delivered > 0 &&
			    !m.too_big && tries < RESUMES;
	     tries++) {
		free(m.data);
		memset(&m, 0, sizeof(m));
		m.max = (size_t)size;
		call.delivered = 0;
		registry_call_reset(&call);
		den_err_clear(err);
	}
	if (den_err_is_set(err)) {
		free(m.data);
		return m.too_big ? den_err_set(err, 0,
					       "registry %s sent more than the %" PRIu64
					       " bytes blob %s has",
					       registry_name(c), size, digest)
				 : -1;
	}
	if (call.status != 200) {
		free(m.data);
		registry_status_error(c, &call, "GET of a blob", err);
		registry_call_reset(&call);
		return -1;
	}
	registry_call_reset(&call);
	sha256_of(m.data ? m.data : "", m.len, got);
	if (m.len != size || strcmp(got, digest) != 0) {
		free(m.data);
		return den_err_set(err, 0,
				   "registry %s sent blob %s with other bytes (%zu bytes, %s): "
				   "refused, nothing was stored",
				   registry_name(c), digest, m.len, got);
	}
	*out = m.data ? m.data : strdup("");
	return *out ? 0 : den_err_set(err, ENOMEM, "registry %s", registry_name(c));
}

/* A download into a file: appended, hashed, never past the blob's size. */
struct file_sink {
	int fd;
	const struct registry_tee *tee; /* or NULL */
	struct digest *digest;
	uint64_t have, size;
	int write_errno;
	bool too_big;
};

static size_t to_file(char *data, size_t size, size_t n, void *arg)
{
	struct file_sink *f = arg;
	size_t len = size * n;

	if (len > f->size - f->have) {
		f->too_big = true;
		return 0;
	}
	if (den_write_all(f->fd, data, len) < 0) {
		f->write_errno = errno;
		return 0;
	}
	digest_update(f->digest, data, len);
	if (f->tee != NULL)
		f->tee->data(data, len, f->tee->arg);
	f->have += len;
	return len;
}

/* Starts the file (and its hash) over from nothing. */
static int restart_file(struct file_sink *f, const char *path, struct den_err *err)
{
	if (ftruncate(f->fd, 0) < 0)
		return den_err_set(err, errno, "cannot write %s", path);
	if (f->tee != NULL) {
		f->tee->restart(f->tee->arg);
		f->tee = NULL;
	}
	digest_free(f->digest);
	f->digest = digest_new(DIGEST_SHA256);
	f->have = 0;
	return f->digest ? 0 : den_err_set(err, ENOMEM, "cannot write %s", path);
}

/* Feeds what the file already holds to the hash, so a resumed blob is checked whole. */
static int hash_existing(struct file_sink *f, const char *path, struct den_err *err)
{
	static char buf[1 << 16];
	ssize_t n;

	if (lseek(f->fd, 0, SEEK_SET) < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	f->have = 0;
	while ((n = read(f->fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return den_err_set(err, errno, "cannot read %s", path);
		digest_update(f->digest, buf, (size_t)n);
		if (f->tee != NULL)
			f->tee->data(buf, (size_t)n, f->tee->arg);
		f->have += (uint64_t)n;
	}
	return 0;
}

/* One GET from f->have on. 0: the answer was read (whole or cut: see f->have). */
static int get_range(struct registry_client *c, const char *url, struct file_sink *f,
		     const char *path, const char *label, bool progress, struct den_err *err)
{
	char range[64];
	const char *hdrs[2] = { range, NULL };
	struct registry_call call = { .method = "GET",
				      .url = url,
				      .body_fd = -1,
				      .follow = true,
				      .sink = to_file,
				      .sink_arg = f,
				      .progress_label = progress ? label : NULL,
				      .progress_base = f->have,
				      .progress_total = f->size };
	uint64_t from = f->have;
	int r;

	snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-", from);
	call.headers = from > 0 ? hdrs : NULL;
	call.want_partial = from > 0;
	r = registry_perform(c, &call, err);
	if (call.range_ignored) {
		/* The registry ignored the range: take the whole blob again. */
		registry_call_reset(&call);
		den_err_clear(err);
		return restart_file(f, path, err) < 0 ? -1 : 1;
	}
	if (r == 0 && call.status == 416 && from > 0) {
		registry_call_reset(&call);
		return restart_file(f, path, err) < 0 ? -1 : 1;
	}
	if (r == 0 && call.status != 200 && call.status != 206)
		r = registry_status_error(c, &call, "GET of a blob", err);
	registry_call_reset(&call);
	if (f->write_errno != 0)
		return den_err_set(err, f->write_errno, "cannot write %s", path);
	if (f->too_big)
		return den_err_set(err, 0,
				   "registry %s sent more than the %" PRIu64
				   " bytes the blob has: refused",
				   registry_name(c), f->size);
	/* A cut after some bytes is worth another Range; den_err says why it stopped. */
	if (r < 0 && f->have > from && f->have < f->size)
		return 1;
	return r;
}

/*
 * The cache file, locked: two dens pulling images that share a layer take
 * turns, and the second finds it whole (or moved away by the first: then
 * a new file).
 */
static int open_locked(const char *path)
{
	for (;;) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -1;
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR) {
				close(fd);
				return -1;
			}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
}

int registry_get_blob_file(struct registry_client *c, const char *digest, uint64_t size,
			   const struct registry_blob_dst *dst, struct den_err *err)
{
	cleanup_free char *url = NULL, *suffix = NULL;
	struct file_sink f = { .size = size, .tee = dst->tee };
	const char *path = dst->path, *label = dst->label;
	bool progress = dst->progress;
	char hex[DIGEST_HEX_MAX];
	int r = -1;

	if (!registry_digest_valid(digest))
		return den_err_set(err, 0, "registry %s names a blob by '%s': not a sha256 digest",
				   registry_name(c), digest);
	if (asprintf(&suffix, "blobs/%s", digest) < 0 || (url = registry_url(c, suffix)) == NULL)
		return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	f.fd = open_locked(path);
	if (f.fd < 0)
		return den_err_set(err, errno, "cannot write %s", path);
	f.digest = digest_new(DIGEST_SHA256);
	if (f.digest == NULL) {
		den_err_set(err, ENOMEM, "cannot write %s", path);
		goto out;
	}
	if (hash_existing(&f, path, err) < 0)
		goto out;
	if (f.have > size && restart_file(&f, path, err) < 0)
		goto out;
	if (f.have > 0)
		den_verbose("%s: resuming after %" PRIu64 " of %" PRIu64 " bytes", label, f.have,
			    size);
	for (int tries = 0; f.have < size; tries++) {
		struct den_err cut = { 0 };
		r = get_range(c, url, &f, path, label, progress, &cut);
		if (r < 0) {
			*err = cut;
			goto out;
		}
		if (r == 1 && tries + 1 >= RESUMES) {
			den_err_set(err, 0,
				    "%s; %" PRIu64 " of %" PRIu64
				    " bytes are kept: run again to resume",
				    cut.msg, f.have, size);
			goto out_keep;
		}
		if (r == 0 && f.have < size) {
			den_err_set(err, 0,
				    "registry %s ended blob %s after %" PRIu64 " of its %" PRIu64
				    " bytes; run again to resume",
				    registry_name(c), digest, f.have, size);
			goto out_keep;
		}
		if (r == 1)
			den_verbose("%s: %s; resuming", label, cut.msg);
	}
	digest_final_hex(f.digest, hex);
	if (strcmp(hex, digest + 7) != 0) {
		unlink(path);
		r = den_err_set(err, 0,
				"registry %s sent blob %s with other bytes (they hash to "
				"sha256:%s): refused, nothing was stored",
				registry_name(c), digest, hex);
		goto out;
	}
	/* Under the lock: another den waiting for it finds it gone, not half moved. */
	if (dst->move_to != NULL && rename(path, dst->move_to) < 0) {
		r = den_err_set(err, errno, "cannot move %s to %s", path, dst->move_to);
		goto out;
	}
	r = 0;
	goto out;
out_keep:
	r = -1;
out:
	digest_free(f.digest);
	close(f.fd);
	return r;
}
