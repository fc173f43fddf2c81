/* SPDX-License-Identifier: MIT */
/*
 * Requests to a registry: the connection (TLS verified, the registry's
 * own CA found where docker and podman keep it), the ping that finds
 * whether it speaks TLS and what it asks for, and the retry loop every
 * request goes through.
 */
#include "registry/client-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/utf8.h"
#include "registry/token.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT 30L
#define STALL_SECONDS 60L
#define ERROR_BODY_MAX (64u << 10)
#define TRIES 5
#define BACKOFF_MS 500
#define RETRY_AFTER_MAX 30

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Whether $DEN_INSECURE_REGISTRIES (HOST[:PORT],...) names host: plain HTTP asked for. */
static bool asked_insecure(const char *host)
{
	const char *list = getenv("DEN_INSECURE_REGISTRIES");
	size_t len = strlen(host);

	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ", ");
		if (n == len && strncmp(p, host, len) == 0)
			return true;
		p += n;
		p += strspn(p, ", ");
	}
	return false;
}

/* The registry's CA: $DEN_REGISTRY_CA, else certs.d/HOST/ca.crt of podman or docker. */
static void find_ca(struct registry_client *c)
{
	const char *env = getenv("DEN_REGISTRY_CA");
	const char *dirs[] = { "/etc/containers/certs.d", "/etc/docker/certs.d" };

	if (env != NULL && env[0] != '\0') {
		snprintf(c->ca, sizeof(c->ca), "%s", env);
		return;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(c->ca, sizeof(c->ca), "%s/%s/ca.crt", dirs[i], c->ref.host);
		if (den_exists(c->ca))
			return;
	}
	c->ca[0] = '\0';
}

char *registry_url(const struct registry_client *c, const char *suffix)
{
	char *url = NULL;

	return asprintf(&url, "%s/v2/%s/%s", c->base, c->ref.repository, suffix) < 0 ? NULL : url;
}

const char *registry_name(const struct registry_client *c)
{
	return c->name;
}

void registry_call_reset(struct registry_call *call)
{
	free(call->error_body.data);
	memset(&call->error_body, 0, sizeof(call->error_body));
}

/* A header of the answer: the ones den reads are kept (the last response's). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct registry_call *call = arg;
	size_t len = size * n, klen;
	const char *colon = memchr(data, ':', len);
	struct {
		const char *name;
		char *dst;
		size_t cap;
	} keep[] = {
		{ "location", call->location, sizeof(call->location) },
		{ "content-type", call->content_type, sizeof(call->content_type) },
		{ "docker-content-digest", call->digest, sizeof(call->digest) },
		{ "range", call->range, sizeof(call->range) },
		{ "link", call->link, sizeof(call->link) },
		{ "retry-after", call->retry_after, sizeof(call->retry_after) },
		{ "www-authenticate", call->challenge, sizeof(call->challenge) },
	};

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or a 100): forget the last one's. */
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			keep[i].dst[0] = '\0';
		return len;
	}
	if (colon == NULL)
		return len;
	klen = (size_t)(colon - data);
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		if (strlen(keep[i].name) != klen || strncasecmp(data, keep[i].name, klen) != 0)
			continue;
		const char *v = colon + 1;
		size_t vlen = len - klen - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen > 0 &&
		       (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		/* Too long to be what den needs: kept empty, never cut. */
		if (vlen < keep[i].cap) {
			memcpy(keep[i].dst, v, vlen);
			keep[i].dst[vlen] = '\0';
		}
	}
	return len;
}

struct body_ctx {
	struct registry_call *call;
	CURL *curl;
};

/* A success's body goes to the sink; a failure's is kept for its message. */
static size_t on_body_ctx(char *data, size_t size, size_t n, void *arg)
{
	struct body_ctx *b = arg;
	struct registry_call *call = b->call;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && call->want_partial) {
		call->range_ignored = true;
		return 0;
	}
	if (status >= 200 && status < 300 && call->sink != NULL) {
		size_t got = call->sink(data, size, n, call->sink_arg);
		call->delivered += got;
		return got;
	}
	if (status >= 200 && status < 300)
		return len; /* no sink: the body is not wanted */
	den_membuf_write(data, size, n, &call->error_body);
	return len; /* an oversized error page is cut, not an error */
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct registry_call *call = arg;
	size_t want = size * n;
	uint64_t left = call->body_size - call->body_sent;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (call->body_fd >= 0) {
		ssize_t r =
			pread(call->body_fd, buf, want, (off_t)(call->body_off + call->body_sent));
		if (r < 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)r;
	} else {
		memcpy(buf, call->body + call->body_sent, want);
	}
	call->body_sent += want;
	return want;
}

static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct registry_call *call = arg;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > call->body_size)
		return CURL_SEEKFUNC_CANTSEEK;
	call->body_sent = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "    LABEL: 120 of 500 MiB (24%)", redrawn at most ten times a second. */
static int on_progress(void *arg, curl_off_t dl_total, curl_off_t dl, curl_off_t ul_total,
		       curl_off_t ul)
{
	struct registry_call *call = arg;
	double t = now();
	uint64_t done = call->progress_base + (uint64_t)(dl > 0 ? dl : ul);

	(void)dl_total;
	(void)ul_total;
	if (t - call->progress_drawn < 0.1 || call->progress_total == 0)
		return 0;
	call->progress_drawn = t;
	fprintf(stderr, "\r\033[K    %s: %.1f of %.1f MiB (%3.0f%%)", call->progress_label,
		(double)done / 1048576.0, (double)call->progress_total / 1048576.0,
		100.0 * (double)done / (double)call->progress_total);
	return 0;
}

/* Seconds without a byte before a transfer counts as stalled: $DEN_DOWNLOAD_STALL_SECONDS. */
static long stall_seconds(void)
{
	const char *v = getenv("DEN_DOWNLOAD_STALL_SECONDS");
	long n = v ? strtol(v, NULL, 10) : 0;

	return n > 0 && n < 86400 ? n : STALL_SECONDS;
}

static CURLcode perform_once(struct registry_client *c, struct registry_call *call)
{
	CURL *h = c->curl;
	struct curl_slist *hdrs = NULL;
	struct body_ctx b = { call, h };
	CURLcode rc;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, call->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* A TLS registry's redirects (to its storage) stay TLS. */
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
			 strncmp(c->base, "https:", 6) == 0 ? "https" : "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, call->follow ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_seconds());
	curl_easy_setopt(h, CURLOPT_USERAGENT, "den/" DEN_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (c->ca[0] != '\0')
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, call);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_ctx);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (strcmp(call->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (call->has_body) {
		call->body_sent = 0;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, call);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, call);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)call->body_size);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
	} else if (strcmp(call->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call->method);
		if (strcmp(call->method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		}
	}
	/* A registry's redirect to its storage gets no Authorization (libcurl drops it). */
	const char *auth = call->auth != NULL ? call->auth : c->auth;
	if (auth != NULL && auth[0] != '\0')
		hdrs = curl_slist_append(hdrs, auth);
	for (size_t i = 0; call->headers != NULL && call->headers[i] != NULL; i++)
		hdrs = curl_slist_append(hdrs, call->headers[i]);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (call->progress_label != NULL) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, call);
	}
	call->status = 0;
	registry_call_reset(call);
	call->error_body.max = ERROR_BODY_MAX;
	rc = curl_easy_perform(h);
	if (call->progress_label != NULL)
		fprintf(stderr, "\r\033[K");
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &call->status);
	curl_slist_free_all(hdrs);
	return rc;
}

/* Errors worth another try: the connection dropped or stalled, not a refusal. */
static bool transient(CURLcode rc)
{
	return rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_PARTIAL_FILE || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_HTTP2 ||
	       rc == CURLE_HTTP2_STREAM;
}

static void backoff(const struct registry_call *call, int attempt)
{
	long ms = BACKOFF_MS << attempt;
	long after = call->retry_after[0] != '\0' ? strtol(call->retry_after, NULL, 10) : 0;

	if (after > 0)
		ms = (after > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : after) * 1000L;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A transfer that failed, in den's words. */
static int transport_error(const struct registry_client *c, const struct registry_call *call,
			   CURLcode rc, struct den_err *err)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return den_err_set(err, 0, "registry %s: the host name does not resolve",
				   c->ref.host);
	case CURLE_COULDNT_CONNECT:
		return den_err_set(err, 0,
				   "registry %s: nothing answers there (connection refused)",
				   c->ref.host);
	case CURLE_PEER_FAILED_VERIFICATION:
		return den_err_set(err, 0,
				   "registry %s: its TLS certificate is not trusted (%s); give "
				   "its CA with DEN_REGISTRY_CA=FILE or put it in "
				   "/etc/containers/certs.d/%s/ca.crt",
				   c->ref.host, curl_easy_strerror(rc), c->ref.host);
	case CURLE_OPERATION_TIMEDOUT:
		return den_err_set(err, 0, "registry %s: no data for %ld s (%s %s); run again",
				   c->ref.host, stall_seconds(), call->method, call->url);
	default:
		return den_err_set(err, 0, "registry %s: %s %s failed: %s", c->ref.host,
				   call->method, call->url, curl_easy_strerror(rc));
	}
}

int registry_status_error(const struct registry_client *c, const struct registry_call *call,
			  const char *what, struct den_err *err)
{
	json_t *j = call->error_body.data ? json_loads(call->error_body.data, 0, NULL) : NULL;
	json_t *first = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(first, "code"));
	const char *msg = json_string_value(json_object_get(first, "message"));
	char said[512] = "";

	if (code != NULL || msg != NULL)
		snprintf(said, sizeof(said), ": %s%s%s", code ? code : "", code && msg ? ": " : "",
			 msg ? msg : "");
	/* The registry's words, not its terminal escapes. */
	registry_shown(said, said, sizeof(said));
	den_err_set(err, 0, "registry %s answered HTTP %ld to %s%s%s", c->name, call->status, what,
		    said,
		    call->status == 403	  ? " (denied: does your login have the right to this "
					    "repository?)"
		    : call->status >= 500 ? " (a server error: try again later)"
					  : "");
	json_decref(j);
	return -1;
}

/* Sets c->auth for a Basic challenge, or says what to do when there is nothing to send. */
static int answer_basic(struct registry_client *c, bool refused, struct den_err *err)
{
	if (refused)
		return den_err_set(err, 0,
				   "registry %s refused the user name and password from %s; log "
				   "in again (podman login %s, or docker login)",
				   c->ref.host, c->creds.from, c->ref.host);
	if (!c->have_creds || c->creds.user[0] == '\0')
		return den_err_set(err, 0,
				   "registry %s asks for a user name and password, and no auth "
				   "file has them; log in with `podman login %s` (or docker "
				   "login), or point REGISTRY_AUTH_FILE at a file that has them",
				   c->ref.host, c->ref.host);
	return registry_basic_header(&c->creds, &c->auth, err);
}

/* Reads the user's credentials for this registry once, when it first asks. */
static int load_creds(struct registry_client *c, struct den_err *err)
{
	if (c->creds_looked)
		return 0;
	c->creds_looked = true;
	c->have_creds = registry_creds_find(c->ref.host, &c->creds, err);
	return c->have_creds < 0 ? -1 : 0;
}

/* The 401's challenge answered: a token fetched, or the password set. */
static int authenticate(struct registry_client *c, struct registry_call *call, bool again,
			struct den_err *err)
{
	struct registry_challenge ch;
	char scope[1300];

	if (call->challenge[0] == '\0')
		return den_err_set(err, 0,
				   "registry %s answered 401 with no WWW-Authenticate: it does "
				   "not say how to log in",
				   c->ref.host);
	if (registry_challenge_parse(call->challenge, &ch, err) < 0 || load_creds(c, err) < 0)
		return den_err_wrap(err, "registry %s", c->ref.host);
	free(c->auth);
	c->auth = NULL;
	if (ch.scheme == REGISTRY_AUTH_BASIC)
		return answer_basic(c, again, err);
	snprintf(scope, sizeof(scope), "%s%s%s", c->scope, call->extra_scope ? " " : "",
		 call->extra_scope ? call->extra_scope : "");
	if (again && c->have_creds != 1)
		return den_err_set(err, 0,
				   "registry %s does not let anyone in without logging in; log "
				   "in with `podman login %s` (or docker login)",
				   c->ref.host, c->ref.host);
	if (again)
		return den_err_set(err, 0,
				   "registry %s refused the token it gave for the credentials "
				   "from %s (%s); check that your login may %s this repository",
				   c->ref.host, c->creds.from, scope,
				   c->push ? "push to" : "pull from");
	return registry_token_fetch(c, &ch, scope, err);
}

int registry_request(struct registry_client *c, struct registry_call *call, struct den_err *err)
{
	for (int attempt = 0;; attempt++) {
		CURLcode rc = perform_once(c, call);
		bool retry_status = call->status == 429 || call->status == 500 ||
				    call->status == 502 || call->status == 503 ||
				    call->status == 504;

		if (rc == CURLE_OK && !retry_status)
			return 0;
		if (call->delivered > 0 || attempt + 1 >= TRIES ||
		    (rc != CURLE_OK && !transient(rc)) ||
		    (rc != CURLE_OK && call->has_body && call->body_fd < 0 && call->body == NULL))
			return rc != CURLE_OK ? transport_error(c, call, rc, err) : 0;
		den_verbose("registry %s: %s %s: %s; trying again", c->ref.host, call->method,
			    call->url,
			    rc != CURLE_OK ? curl_easy_strerror(rc) : "the registry is busy");
		backoff(call, attempt);
	}
}

int registry_perform(struct registry_client *c, struct registry_call *call, struct den_err *err)
{
	for (bool again = false;; again = true) {
		if (registry_request(c, call, err) < 0)
			return -1;
		if (call->status != 401)
			return 0;
		if (authenticate(c, call, again, err) < 0)
			return -1;
	}
}

/* GET /v2/: whether it speaks TLS (plain HTTP only where allowed) and what it asks for. */
static int ping(struct registry_client *c, struct den_err *err)
{
	cleanup_free char *url = NULL;
	struct registry_call call = { .method = "GET", .body_fd = -1 };
	bool loopback = registry_host_is_loopback(c->ref.host);
	CURLcode rc;

	if (asprintf(&url, "%s/v2/", c->base) < 0)
		return den_err_set(err, ENOMEM, "registry %s", c->ref.host);
	call.url = url;
	rc = perform_once(c, &call);
	if (rc == CURLE_SSL_CONNECT_ERROR && loopback && strncmp(c->base, "https", 5) == 0) {
		/* A loopback registry that speaks plain HTTP, as docker allows. */
		snprintf(c->base, sizeof(c->base), "http://%s", c->ref.host);
		free(url);
		url = NULL;
		if (asprintf(&url, "%s/v2/", c->base) < 0)
			return den_err_set(err, ENOMEM, "registry %s", c->ref.host);
		call.url = url;
		rc = perform_once(c, &call);
	}
	if (rc == CURLE_SSL_CONNECT_ERROR && !loopback) {
		registry_call_reset(&call);
		return den_err_set(err, 0,
				   "registry %s: cannot talk TLS to it (%s); if it speaks only "
				   "plain HTTP and you trust the network, name it in "
				   "DEN_INSECURE_REGISTRIES",
				   c->ref.host, curl_easy_strerror(rc));
	}
	if (rc != CURLE_OK) {
		int r = transport_error(c, &call, rc, err);
		registry_call_reset(&call);
		return r;
	}
	/* A login it asks for, or a busy answer: the request again, as any other. */
	int r = call.status == 200 || call.status == 404 ? 0 : registry_perform(c, &call, err);
	if (r == 0 && call.status != 200 && call.status != 404)
		r = registry_status_error(c, &call, "GET /v2/ (is this a registry?)", err);
	registry_call_reset(&call);
	return r;
}

int registry_open(const struct registry_ref *ref, bool push, struct registry_client **out,
		  struct den_err *err)
{
	struct registry_client *c;

	*out = NULL;
	if (den_curl_load(err) < 0 || den_crypto_load(err) < 0)
		return -1;
	pthread_once(&curl_once, init_curl);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return den_err_set(err, ENOMEM, "registry %s", ref->host);
	c->ref = *ref;
	c->push = push;
	snprintf(c->name, sizeof(c->name), "%s/%s", ref->host, ref->repository);
	snprintf(c->scope, sizeof(c->scope), "repository:%s:%s", ref->repository,
		 push ? "pull,push" : "pull");
	snprintf(c->base, sizeof(c->base), "%s://%s", asked_insecure(ref->host) ? "http" : "https",
		 ref->host);
	find_ca(c);
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c);
		return den_err_set(err, ENOMEM, "registry %s", ref->host);
	}
	if (ping(c, err) < 0) {
		registry_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

void registry_close(struct registry_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	if (c->auth != NULL)
		explicit_bzero(c->auth, strlen(c->auth));
	free(c->auth);
	explicit_bzero(&c->creds, sizeof(c->creds));
	free(c);
}

void registry_doc_free(struct registry_doc *d)
{
	free(d->data);
	memset(d, 0, sizeof(*d));
}

const char *registry_shown(const char *s, char *buf, size_t n)
{
	unsigned char *b = (unsigned char *)buf;
	size_t len, o = 0, k = 1;

	if (s != buf) /* in place too */
		snprintf(buf, n, "%s", s ? s : "");
	len = strlen(buf);
	for (size_t i = 0; i < len; i += k) {
		long cp = den_utf8_next(b + i, len - i, &k);
		if (cp < 0)
			k = 1;
		if (cp < 0 || den_is_control(cp)) {
			b[o++] = '?';
			continue;
		}
		memmove(b + o, b + i, k);
		o += k;
	}
	b[o] = '\0';
	return buf;
}

bool registry_digest_valid(const char *digest)
{
	return strncmp(digest, "sha256:", 7) == 0 && strlen(digest) == 71 &&
	       strspn(digest + 7, "0123456789abcdef") == 64;
}
