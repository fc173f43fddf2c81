/* SPDX-License-Identifier: MIT */
/*
 * LXD's REST API (https://documentation.ubuntu.com/lxd, "REST API"):
 * libcurl over LXD's unix socket (or HTTPS), JSON by jansson. Every
 * answer is {"type": "sync"|"async"|"error", "status_code", "error",
 * "metadata", "operation"}; an async one names an operation that
 * /1.0/operations/ID/wait ends. Answers are capped in size and their
 * fields checked before use: a remote LXD is another machine.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "providers/lxd/lxd-internal.h"
#include "core/cleanup.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/membuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lxd_open(const struct lxd_settings *s, struct lxd_client *c, struct den_err *err)
{
	const char *dir = getenv("LXD_DIR");

	memset(c, 0, sizeof(*c));
	if (s->remote != NULL)
		return den_err_set(err, 0,
				   "lxd remote %s: den reaches LXD through its local unix socket "
				   "only so far; leave remote out and run den on the LXD host",
				   s->remote);
	if (den_curl_load(err) < 0)
		return -1;
	if (dir != NULL && dir[0] != '\0') {
		if (asprintf(&c->socket, "%s/unix.socket", dir) < 0)
			c->socket = NULL;
	} else {
		c->socket = strdup(LXD_DEFAULT_SOCKET);
	}
	c->base = strdup("http://lxd");
	c->host = strdup("127.0.0.1");
	if (c->socket != NULL && asprintf(&c->where, "the local LXD (%s)", c->socket) < 0)
		c->where = NULL;
	c->project = s->project ? lxd_escape(s->project) : NULL;
	c->target = s->target ? lxd_escape(s->target) : NULL;
	c->curl = curl_easy_init();
	if (c->socket == NULL || c->base == NULL || c->host == NULL || c->where == NULL ||
	    c->curl == NULL || (s->project != NULL && c->project == NULL) ||
	    (s->target != NULL && c->target == NULL)) {
		lxd_close(c);
		return den_err_set(err, ENOMEM, "LXD client");
	}
	return 0;
}

void lxd_close(struct lxd_client *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->where);
	free(c->socket);
	free(c->base);
	free(c->project);
	free(c->target);
	free(c->host);
	memset(c, 0, sizeof(*c));
}

char *lxd_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

struct upload {
	struct lxd_request *r;
	bool failed;
};

static size_t on_upload(char *buf, size_t size, size_t n, void *p)
{
	struct upload *u = p;
	long got = u->r->read(u->r->read_arg, buf, size * n);

	if (got < 0) {
		u->failed = true;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

/* LXD's own words from an error answer, or NULL. */
static const char *answer_error(json_t *a)
{
	const char *e = json_string_value(json_object_get(a, "error"));
	return e != NULL && e[0] != '\0' ? e : NULL;
}

static char *request_url(const struct lxd_client *c, const struct lxd_request *r)
{
	bool has_query = strchr(r->path, '?') != NULL;
	char *url = NULL;

	if (asprintf(&url, "%s%s%s%s%s%s", c->base, r->path,
		     c->project ? (has_query ? "&project=" : "?project=") : "",
		     c->project ? c->project : "",
		     r->query ? (has_query || c->project ? "&" : "?") : "",
		     r->query ? r->query : "") < 0)
		return NULL;
	return url;
}

/*
 * One request. Fails when LXD cannot be reached or answers with an error
 * (err quotes LXD's own message; err->errno_ is ENOENT when LXD said 404,
 * what it says of what is not there). An async answer is not waited for
 * here: see lxd_run.
 */
static int lxd_send(struct lxd_client *c, struct lxd_request *r, struct den_err *err)
{
	cleanup_free char *url = request_url(c, r), *body = NULL;
	struct den_membuf a = { .max = LXD_MAX_ANSWER };
	struct upload up = { r, false };
	struct curl_slist *hdr = NULL;
	CURL *h = c->curl;
	CURLcode rc;

	r->status = 0;
	r->answer = NULL;
	if (url == NULL)
		return den_err_set(err, ENOMEM, "LXD request");
	if (r->body != NULL) {
		body = json_dumps(r->body, JSON_COMPACT);
		if (body == NULL)
			return den_err_set(err, ENOMEM, "LXD request");
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	}
	for (const char *const *hl = r->headers; hl != NULL && *hl != NULL; hl++)
		hdr = curl_slist_append(hdr, *hl);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (c->socket != NULL)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, den_membuf_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(h, CURLOPT_PROXY, ""); /* never a proxy from the environment */
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (r->read != NULL) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(h, CURLOPT_READDATA, &up);
		/* UPLOAD means PUT; CUSTOMREQUEST above makes it the method asked for. */
	}
	if (hdr != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdr);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (a.too_big) {
		free(a.data);
		return den_err_set(err, 0, "%s answered %s %s with more than %zu bytes; refused",
				   c->where, r->method, r->path, a.max);
	}
	if (rc != CURLE_OK) {
		free(a.data);
		if (up.failed)
			return den_err_set(err, 0, "%s: the upload for %s %s was cut short",
					   c->where, r->method, r->path);
		if (rc == CURLE_COULDNT_CONNECT && c->socket != NULL)
			return den_err_set(err, 0,
					   "cannot reach %s: %s (is lxd running? start it, or "
					   "set LXD_DIR to where it keeps unix.socket)",
					   c->where, curl_easy_strerror(rc));
		return den_err_set(err, 0, "%s: %s %s: %s", c->where, r->method, r->path,
				   curl_easy_strerror(rc));
	}
	json_error_t jerr;
	r->answer = a.data ? json_loadb(a.data, a.len, 0, &jerr) : NULL;
	free(a.data);
	if (!json_is_object(r->answer)) {
		json_decref(r->answer);
		r->answer = NULL;
		return den_err_set(err, 0, "%s answered %s %s with HTTP %ld and no JSON", c->where,
				   r->method, r->path, r->status);
	}
	const char *type = json_string_value(json_object_get(r->answer, "type"));
	if (r->status >= 400 || type == NULL || strcmp(type, "error") == 0) {
		const char *e = answer_error(r->answer);
		den_err_set(err, 0, "%s: %s", c->where, e ? e : "an error with no message");
		/* Callers tell "not there" apart by it (the message stays LXD's). */
		err->errno_ = r->status == LXD_NOT_FOUND ? ENOENT : 0;
		return -1;
	}
	return 0;
}

static void lxd_request_free(struct lxd_request *r)
{
	json_decref(r->answer);
	r->answer = NULL;
}

int lxd_wait(struct lxd_client *c, const char *op, json_t **metadata, struct den_err *err)
{
	cleanup_free char *path = NULL, *query = NULL;

	/* The operation's path comes from LXD: only /1.0/operations/ID is followed. */
	if (strncmp(op, "/1.0/operations/", 16) != 0 ||
	    strspn(op + 16, "0123456789abcdefABCDEF-") != strlen(op + 16) || strlen(op) > 80)
		return den_err_set(err, 0, "%s named an operation den does not follow", c->where);
	if (asprintf(&path, "%s/wait", op) < 0 || asprintf(&query, "timeout=%d", LXD_OP_WAIT_S) < 0)
		return den_err_set(err, ENOMEM, "LXD operation");
	struct lxd_request r = { .method = "GET", .path = path, .query = query };
	if (lxd_send(c, &r, err) < 0)
		return -1;
	json_t *md = json_object_get(r.answer, "metadata");
	const char *status = json_string_value(json_object_get(md, "status"));
	int rc = 0;
	if (status == NULL || strcmp(status, "Success") != 0) {
		const char *e = json_string_value(json_object_get(md, "err"));
		rc = den_err_set(err, 0, "%s",
				 e && e[0] ? e
				 : status  ? status
					   : "the operation ended without saying how");
	} else if (metadata != NULL) {
		*metadata = json_incref(json_object_get(md, "metadata"));
	}
	lxd_request_free(&r);
	return rc;
}

int lxd_run(struct lxd_client *c, struct lxd_request *r, json_t **metadata, struct den_err *err)
{
	int rc;

	if (metadata != NULL)
		*metadata = NULL;
	rc = lxd_send(c, r, err);
	if (rc == 0) {
		const char *type = json_string_value(json_object_get(r->answer, "type"));
		const char *op = json_string_value(json_object_get(r->answer, "operation"));
		if (type != NULL && strcmp(type, "async") == 0 && op != NULL)
			rc = lxd_wait(c, op, metadata, err);
		else if (metadata != NULL)
			*metadata = json_incref(json_object_get(r->answer, "metadata"));
	}
	lxd_request_free(r);
	return rc;
}

int lxd_call(struct lxd_client *c, const char *method, const char *path, json_t *body,
	     json_t **metadata, const char *what, struct den_err *err)
{
	struct lxd_request r = { .method = method, .path = path, .body = body };
	int rc = lxd_run(c, &r, metadata, err);

	if (rc < 0 && what != NULL)
		return den_err_wrap(err, "%s", what);
	return rc;
}
