/* SPDX-License-Identifier: MIT */
/*
 * Blob uploads (the distribution spec's "pushing blobs"): a HEAD first,
 * so a blob the repository has is never sent again; a cross-repository
 * mount when den pushed the blob to another repository of the registry;
 * else an upload session: one PUT for a small blob, PATCHes of CHUNK
 * bytes for a large one, each resumed from the offset the registry
 * reports after a dropped connection.
 */
#include "core/cleanup.h"
#include "core/log.h"
#include "registry/client-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK ((uint64_t)64 << 20)
#define RESUMES 4

/* What is being sent: a file, or bytes in memory. */
struct upload {
	const char *digest;
	int fd; /* -1: data */
	const char *data;
	uint64_t size;
	const char *label;
	bool progress;
	char *location; /* the session's URL, as the registry last gave it (absolute) */
};

/*
 * The session URL in a Location header: relative to the registry, or
 * absolute on the registry itself. den's Authorization goes with it, so
 * another host is refused.
 */
static int take_location(struct registry_client *c, const struct registry_call *call,
			 struct upload *u, struct den_err *err)
{
	size_t blen = strlen(c->base);
	char *next = NULL;

	if (call->location[0] == '/') {
		if (asprintf(&next, "%s%s", c->base, call->location) < 0)
			return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	} else if (strncmp(call->location, c->base, blen) == 0 &&
		   (call->location[blen] == '/' || call->location[blen] == '\0')) {
		next = strdup(call->location);
		if (next == NULL)
			return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	} else {
		return den_err_set(err, 0,
				   "registry %s sent den to upload to '%.200s', which is not "
				   "on the registry: refused",
				   registry_name(c), call->location);
	}
	free(u->location);
	u->location = next;
	return 0;
}

/* location with one more query parameter. */
static char *with_param(const char *location, const char *param)
{
	char *url = NULL;

	return asprintf(&url, "%s%c%s", location, strchr(location, '?') ? '&' : '?', param) < 0
		       ? NULL
		       : url;
}

/* POST .../blobs/uploads/ (with a mount when from is given): 1 mounted, 0 a session. */
static int start(struct registry_client *c, struct upload *u, const char *from, struct den_err *err)
{
	cleanup_free char *suffix = NULL, *url = NULL, *scope = NULL;
	struct registry_call call = { .method = "POST", .body_fd = -1 };
	int r;

	if ((from != NULL ? asprintf(&suffix, "blobs/uploads/?mount=%s&from=%s", u->digest, from)
			  : asprintf(&suffix, "blobs/uploads/")) < 0 ||
	    (url = registry_url(c, suffix)) == NULL ||
	    (from != NULL && asprintf(&scope, "repository:%s:pull", from) < 0))
		return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	call.url = url;
	call.extra_scope = scope;
	if (registry_perform(c, &call, err) < 0)
		return -1;
	if (from != NULL && call.status == 201)
		r = 1;
	else if (call.status == 202 && call.location[0] != '\0')
		r = take_location(c, &call, u, err);
	else
		r = registry_status_error(c, &call, "POST of a blob upload", err);
	registry_call_reset(&call);
	return r;
}

/* Sends [off, off + len) of the blob in one request: a PATCH, or the closing PUT. */
static int send_part(struct registry_client *c, struct upload *u, const char *method, uint64_t off,
		     uint64_t len, struct den_err *err)
{
	cleanup_free char *url = NULL, *param = NULL;
	char range[80];
	const char *hdrs[3] = { "Content-Type: application/octet-stream", NULL, NULL };
	bool put = strcmp(method, "PUT") == 0;
	struct registry_call call = { .method = method,
				      .body_fd = u->fd,
				      .body = u->fd < 0 ? u->data + off : NULL,
				      .body_off = u->fd < 0 ? 0 : off,
				      .body_size = len,
				      .has_body = true,
				      .headers = hdrs,
				      .progress_label = u->progress ? u->label : NULL,
				      .progress_base = off,
				      .progress_total = u->size };
	int r = 0;

	if (len > 0) {
		snprintf(range, sizeof(range), "Content-Range: %" PRIu64 "-%" PRIu64, off,
			 off + len - 1);
		hdrs[1] = put ? NULL : range;
	}
	if (put) {
		if (asprintf(&param, "digest=%s", u->digest) < 0 ||
		    (url = with_param(u->location, param)) == NULL)
			return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	}
	call.url = put ? url : u->location;
	if (registry_perform(c, &call, err) < 0)
		return -1;
	if (call.status == (put ? 201 : 202))
		r = call.location[0] != '\0' && !put ? take_location(c, &call, u, err) : 0;
	else
		r = registry_status_error(
			c, &call,
			put ? "the PUT that ends a blob upload" : "a PATCH of a blob upload", err);
	registry_call_reset(&call);
	return r;
}

/* After a dropped PATCH: the offset the registry has, from the session's Range ("0-N"). */
static int session_offset(struct registry_client *c, struct upload *u, uint64_t *off,
			  struct den_err *err)
{
	struct registry_call call = { .method = "GET", .url = u->location, .body_fd = -1 };
	unsigned long long a = 0, b = 0;
	int r = 0;

	if (registry_perform(c, &call, err) < 0)
		return -1;
	if (call.status != 204)
		r = registry_status_error(c, &call, "GET of a blob upload's status", err);
	else if (call.location[0] != '\0' && take_location(c, &call, u, err) < 0)
		r = -1;
	else if (call.range[0] == '\0')
		*off = 0;
	else if (sscanf(call.range, "%llu-%llu", &a, &b) == 2 && a == 0 && b < u->size)
		*off = b + 1;
	else
		r = den_err_set(err, 0, "registry %s reports an upload range '%s' den cannot use",
				registry_name(c), call.range);
	registry_call_reset(&call);
	return r;
}

static int send_chunks(struct registry_client *c, struct upload *u, struct den_err *err)
{
	uint64_t off = 0;
	int resumes = 0;

	while (off < u->size) {
		uint64_t len = u->size - off < CHUNK ? u->size - off : CHUNK;
		struct den_err cut = { 0 };
		if (send_part(c, u, "PATCH", off, len, &cut) == 0) {
			off += len;
			continue;
		}
		if (++resumes > RESUMES) {
			*err = cut;
			return -1;
		}
		den_verbose("%s: %s; asking the registry how far it got", u->label, cut.msg);
		struct den_err lost = { 0 };
		if (session_offset(c, u, &off, &lost) == 0)
			continue;
		/*
		 * The session is gone with the answer that was lost (the
		 * distribution registry's upload URL carries the offset, and
		 * the old one no longer matches): a new one, from the start.
		 */
		den_verbose("%s: %s; uploading it again", u->label, lost.msg);
		if (start(c, u, NULL, err) < 0)
			return den_err_wrap(err, "%s (after: %s)", u->label, cut.msg);
		off = 0;
	}
	return send_part(c, u, "PUT", off, 0, err);
}

static int put(struct registry_client *c, struct upload *u, const char *from, struct den_err *err)
{
	int r = registry_blob_exists(c, u->digest, err);

	if (r != 0)
		return r; /* 1: there already; -1: error */
	if (from != NULL && strcmp(from, c->ref.repository) != 0) {
		r = start(c, u, from, err);
		if (r != 0)
			return r < 0 ? -1 : 2;
	} else if (u->fd < 0 && u->data == NULL) {
		return 3; /* it needs its bytes, and there are none */
	} else if (start(c, u, NULL, err) < 0) {
		return -1;
	}
	if (u->fd < 0 && u->data == NULL)
		return 3; /* not mounted: the session is left to expire */
	r = u->size <= CHUNK ? send_part(c, u, "PUT", 0, u->size, err) : send_chunks(c, u, err);
	return r < 0 ? den_err_wrap(err, "upload of %s to %s", u->label, registry_name(c)) : 0;
}

int registry_put_blob(struct registry_client *c, const char *digest, const char *path,
		      uint64_t size, const char *from_repo, const char *label, bool progress,
		      struct den_err *err)
{
	struct upload u = { .digest = digest, .size = size, .label = label, .progress = progress };
	int r;

	u.fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (u.fd < 0 && path != NULL)
		return den_err_set(err, errno, "cannot read %s", path);
	r = put(c, &u, from_repo, err);
	if (u.fd >= 0)
		close(u.fd);
	free(u.location);
	return r;
}

int registry_put_blob_mem(struct registry_client *c, const char *digest, const char *data,
			  size_t len, const char *from_repo, struct den_err *err)
{
	struct upload u = {
		.digest = digest, .fd = -1, .data = data, .size = len, .label = digest
	};
	int r = put(c, &u, from_repo, err);

	free(u.location);
	return r;
}
