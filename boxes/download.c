/* SPDX-License-Identifier: MIT */
#include "boxes/download.h"
#include "boxes/download_resume.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/membuf.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CONNECT_TIMEOUT 30L
#define STALL_SECONDS 60L

struct xfer {
	struct download *d;
	CURL *curl;
	int fd;
	struct digest *digest;
	long http_code;	     /* status of the response being written */
	bool checked_status; /* looked at it already */
	bool restart;	     /* asked for a range, got the whole file: start over */
	int write_errno;
	double last_draw;
	double started;
};

/* Seconds without a byte before a download counts as stalled: $DEN_DOWNLOAD_STALL_SECONDS. */
static long stall_seconds(void)
{
	const char *v = getenv("DEN_DOWNLOAD_STALL_SECONDS");
	long n = v ? strtol(v, NULL, 10) : 0;

	return n > 0 && n < 86400 ? n : STALL_SECONDS;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool download_is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	       strncmp(s, "file://", 7) == 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(double bytes, char *buf, size_t n)
{
	const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static int on_progress(void *p, curl_off_t total, curl_off_t got, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = p;
	double t = now(), rate;
	char a[32], b[32], r[32], eta[32] = "";

	(void)ut;
	(void)un;
	if (t - x->last_draw < 0.1 && (total == 0 || got < total))
		return 0;
	x->last_draw = t;
	rate = t > x->started ? (double)got / (t - x->started) : 0;
	human((double)(got + (curl_off_t)x->d->resumed_from), a, sizeof(a));
	human(rate, r, sizeof(r));
	if (total > 0) {
		human((double)(total + (curl_off_t)x->d->resumed_from), b, sizeof(b));
		if (rate > 0)
			snprintf(eta, sizeof(eta), ", %.0f s left", (double)(total - got) / rate);
		fprintf(stderr, "\r\033[K    %s: %s of %s (%3.0f%%), %s/s%s", x->d->label, a, b,
			100.0 * (double)got / (double)total, r, eta);
	} else {
		fprintf(stderr, "\r\033[K    %s: %s, %s/s", x->d->label, a, r);
	}
	return 0;
}

static size_t on_data(char *data, size_t size, size_t n, void *p)
{
	struct xfer *x = p;
	size_t len = size * n;

	if (!x->checked_status) {
		x->checked_status = true;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->http_code);
		const struct resume_answer a = { x->d->resumed_from, x->http_code, true, false };
		switch (download_resume_action(&a)) {
		case RESUME_FAIL:
			return 0; /* an error page is not a box: stop, report the status */
		case RESUME_RESTART:
			x->restart = true; /* e.g. the server ignored our Range */
			return 0;
		case RESUME_APPEND:
			break;
		}
	}
	if (den_write_all(x->fd, data, len) < 0) {
		x->write_errno = errno;
		return 0;
	}
	digest_update(x->digest, data, len);
	x->d->size += len;
	return len;
}

/* Feeds the bytes already in the file to the digest, so resuming checks them too. */
static int hash_existing(struct xfer *x, struct den_err *err)
{
	char buf[1 << 16];
	ssize_t n;

	if (lseek(x->fd, 0, SEEK_SET) < 0)
		return den_err_set(err, errno, "cannot read %s", x->d->path);
	while ((n = read(x->fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return den_err_set(err, errno, "cannot read %s", x->d->path);
		digest_update(x->digest, buf, (size_t)n);
	}
	return 0;
}

static void setup(CURL *c, const char *url)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_seconds());
	curl_easy_setopt(c, CURLOPT_USERAGENT, "den/" DEN_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

/* A sentence for what went wrong, with what to do. */
static int fail(CURLcode rc, long http, const char *url, const struct download *d,
		struct den_err *err)
{
	if (http >= 400)
		return den_err_set(err, 0, "cannot download %s: the server answered HTTP %ld%s",
				   url, http,
				   http == 404	 ? " (not found: check the box name, version and "
						   "server)"
				   : http >= 500 ? " (a server error: try again later)"
						 : "");
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return den_err_set(err, 0, "cannot download %s: the host name does not resolve",
				   url);
	case CURLE_COULDNT_CONNECT:
		return den_err_set(err, 0,
				   "cannot download %s: nothing answers there "
				   "(connection refused)",
				   url);
	case CURLE_OPERATION_TIMEDOUT:
		return den_err_set(err, 0, "cannot download %s: timed out (no data for %ld s)%s",
				   url, stall_seconds(),
				   d ? "; run the command again to resume" : "");
	case CURLE_FILE_COULDNT_READ_FILE:
		return den_err_set(err, 0, "cannot read %s: no such file", url);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return den_err_set(err, 0,
				   "cannot download %s: only http, https and file URLs "
				   "work",
				   url);
	default:
		if (d != NULL && d->size > 0)
			return den_err_set(err, 0,
					   "download of %s stopped after %llu bytes: %s; run the "
					   "command again to resume",
					   url, (unsigned long long)(d->size),
					   curl_easy_strerror(rc));
		return den_err_set(err, 0, "cannot download %s: %s", url, curl_easy_strerror(rc));
	}
}

static int attempt(struct download *d, int fd, bool *restart, struct den_err *err)
{
	struct xfer x = { .d = d, .fd = fd };
	struct stat st;
	CURLcode rc;
	int ret = 0;

	*restart = false;
	if (fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", d->path);
	d->resumed_from = (uint64_t)st.st_size;
	d->size = 0;
	x.digest = digest_new(d->kind);
	x.curl = curl_easy_init();
	if (x.digest == NULL || x.curl == NULL) {
		ret = den_err_set(err, ENOMEM, "cannot download %s", d->url);
		goto out;
	}
	if (hash_existing(&x, err) < 0) {
		ret = -1;
		goto out;
	}
	d->size = d->resumed_from;
	setup(x.curl, d->url);
	curl_easy_setopt(x.curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x.curl, CURLOPT_WRITEDATA, &x);
	if (d->resumed_from > 0)
		curl_easy_setopt(x.curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d->resumed_from);
	if (d->progress) {
		x.started = now();
		curl_easy_setopt(x.curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(x.curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(x.curl, CURLOPT_XFERINFODATA, &x);
	}
	rc = curl_easy_perform(x.curl);
	if (d->progress)
		fprintf(stderr, "\r\033[K");
	if (!x.checked_status)
		curl_easy_getinfo(x.curl, CURLINFO_RESPONSE_CODE, &x.http_code);
	/* A partial file the answer cannot continue (boxes/download_resume.h): start over. */
	const struct resume_answer a = { d->resumed_from, x.http_code, x.checked_status,
					 rc == CURLE_RANGE_ERROR ||
						 rc == CURLE_BAD_DOWNLOAD_RESUME };
	if (x.restart || download_resume_action(&a) == RESUME_RESTART) {
		*restart = true; /* whole file again, from zero */
	} else if (x.write_errno != 0) {
		ret = den_err_set(err, x.write_errno, "cannot write %s", d->path);
	} else if (rc != CURLE_OK || x.http_code >= 400) {
		ret = fail(rc, x.http_code, d->url, d, err);
	} else {
		digest_final_hex(x.digest, d->hex);
	}
out:
	if (x.curl != NULL)
		curl_easy_cleanup(x.curl);
	digest_free(x.digest);
	return ret;
}

int download_file(struct download *d, struct den_err *err)
{
	bool restart = false;

	if (den_curl_load(err) < 0 || den_crypto_load(err) < 0)
		return -1;
	pthread_once(&curl_once, init_curl);
	for (int tries = 0; tries < 2; tries++) {
		cleanup_close int fd = open(d->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0)
			return den_err_set(err, errno, "cannot write %s", d->path);
		if (attempt(d, fd, &restart, err) < 0) {
			/* Keep bytes worth resuming from; an error page or nothing is not. */
			if (d->resumed_from == 0 && d->size == 0)
				unlink(d->path);
			return -1;
		}
		if (d->resumed_from > 0 && !restart)
			den_verbose("%s: resumed after %llu bytes", d->url,
				    (unsigned long long)d->resumed_from);
		if (!restart)
			return 0;
		if (ftruncate(fd, 0) < 0)
			return den_err_set(err, errno, "cannot write %s", d->path);
	}
	return den_err_set(err, 0,
			   "cannot download %s: the server does not resume, and the "
			   "whole file did not arrive either",
			   d->url);
}

int download_text(const char *url, size_t max, char **out, size_t *len, struct den_err *err)
{
	struct den_membuf m = { .max = max };
	long http = 0;
	CURL *c;
	CURLcode rc;

	if (den_curl_load(err) < 0)
		return -1;
	pthread_once(&curl_once, init_curl);
	c = curl_easy_init();
	if (c == NULL)
		return den_err_set(err, ENOMEM, "cannot download %s", url);
	setup(c, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, den_membuf_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(c);
	if (m.too_big) {
		free(m.data);
		return den_err_set(err, 0, "%s is larger than %zu bytes: not a box catalog", url,
				   max);
	}
	if (rc != CURLE_OK) {
		free(m.data);
		return fail(rc, rc == CURLE_HTTP_RETURNED_ERROR ? http : 0, url, NULL, err);
	}
	if (m.data == NULL && (m.data = strdup("")) == NULL)
		return den_err_set(err, ENOMEM, "cannot download %s", url);
	*out = m.data;
	*len = m.len;
	return 0;
}
