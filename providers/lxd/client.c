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
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/membuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The address a host name stands for (first answer), as text: proxy devices listen on it. */
char *lxd_numeric_host(const char *host, struct den_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char ip[INET6_ADDRSTRLEN];
	int rc = getaddrinfo(host, NULL, &hints, &res);

	if (rc != 0 || res == NULL) {
		den_err_set(err, 0, "cannot find the address of LXD's host %s: %s", host,
			    rc ? gai_strerror(rc) : "no answer");
		return NULL;
	}
	const void *a = res->ai_family == AF_INET6
				? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
				: (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
	const char *got = inet_ntop(res->ai_family, a, ip, sizeof(ip));
	freeaddrinfo(res);
	if (got == NULL) {
		den_err_set(err, errno, "cannot find the address of LXD's host %s", host);
		return NULL;
	}
	return strdup(ip);
}

/* The parts every client has; the caller has set socket or the HTTPS fields. */
static int open_common(const struct lxd_settings *s, struct lxd_client *c, struct den_err *err)
{
	c->project = s && s->project ? lxd_escape(s->project) : NULL;
	c->target = s && s->target ? lxd_escape(s->target) : NULL;
	c->curl = curl_easy_init();
	if (c->base == NULL || c->host == NULL || c->where == NULL || c->curl == NULL ||
	    (s && s->project != NULL && c->project == NULL) ||
	    (s && s->target != NULL && c->target == NULL)) {
		lxd_close(c);
		return den_err_set(err, ENOMEM, "LXD client");
	}
	return 0;
}

int lxd_open_https(const char *url, const char *server_crt, const char *client_crt,
		   const char *client_key, const struct lxd_settings *s, struct lxd_client *c,
		   struct den_err *err)
{
	struct lxd_url u;
	cleanup_free char *pem = NULL;
	size_t len = 0;
	char fp[65];

	memset(c, 0, sizeof(*c));
	if (lxd_url_parse(url, &u, err) < 0 || den_curl_load(err) < 0)
		return -1;
	if (den_read_file(server_crt, 1u << 16, &pem, &len, err) < 0 ||
	    lxd_tls_cert_pin(pem, len, fp, &c->server_pin, err) < 0)
		return den_err_wrap(err, "the certificate den pinned for LXD at %s", url);
	c->host = lxd_numeric_host(u.host, err);
	if (c->host == NULL) {
		lxd_close(c);
		return -1;
	}
	c->base = lxd_url_base(&u);
	if (c->base != NULL && asprintf(&c->where, "LXD at %s", c->base) < 0)
		c->where = NULL;
	c->server_crt = strdup(server_crt);
	c->client_crt = strdup(client_crt);
	c->client_key = strdup(client_key);
	if (c->server_crt == NULL || c->client_crt == NULL || c->client_key == NULL) {
		lxd_close(c);
		return den_err_set(err, ENOMEM, "LXD client");
	}
	return open_common(s, c, err);
}

/* A remote: den's certificate and the server's pinned one must be there (den lxd trust). */
static int open_remote(const struct lxd_settings *s, struct lxd_client *c, struct den_err *err)
{
	cleanup_free char *dir = NULL, *server = NULL, *crt = NULL, *key = NULL;
	struct lxd_url u;

	if (lxd_url_parse(s->remote, &u, err) < 0 || lxd_tls_home(&dir, err) < 0)
		return -1;
	server = lxd_tls_server_path(dir, &u);
	if (server == NULL)
		return den_err_set(err, ENOMEM, "LXD client");
	if (!den_exists(server) || lxd_tls_client_cert(dir, false, &crt, &key, err) < 0) {
		den_err_clear(err);
		return den_err_set(err, 0,
				   "den does not know LXD at %s yet: on that server run `lxc "
				   "config trust add --name den`, then here `den lxd trust %s "
				   "--token TOKEN` with the token it printed",
				   s->remote, s->remote);
	}
	return lxd_open_https(s->remote, server, crt, key, s, c, err);
}

int lxd_open(const struct lxd_settings *s, struct lxd_client *c, struct den_err *err)
{
	const char *dir = getenv("LXD_DIR");

	memset(c, 0, sizeof(*c));
	if (s->remote != NULL)
		return open_remote(s, c, err);
	if (den_curl_load(err) < 0)
		return -1;
	if (dir != NULL && dir[0] != '\0') {
		if (asprintf(&c->socket, "%s/unix.socket", dir) < 0)
			c->socket = NULL;
	} else {
		c->socket = strdup(LXD_DEFAULT_SOCKET);
	}
	if (c->socket == NULL) {
		lxd_close(c);
		return den_err_set(err, ENOMEM, "LXD client");
	}
	c->base = strdup("http://lxd");
	c->host = strdup("127.0.0.1");
	if (asprintf(&c->where, "the local LXD (%s)", c->socket) < 0)
		c->where = NULL;
	return open_common(s, c, err);
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
	free(c->server_crt);
	free(c->server_pin);
	free(c->client_crt);
	free(c->client_key);
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
	if (c->socket != NULL) {
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	} else {
		/* The pinned certificate is the only one trusted, its key pinned too (tls.c). */
		curl_easy_setopt(h, CURLOPT_CAINFO, c->server_crt);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->server_pin);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_crt);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
	}
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
		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
			return den_err_set(err, 0,
					   "%s showed a certificate other than the one den pinned "
					   "for it (%s): refused, as someone may be in between. If "
					   "the server's certificate changed on purpose, run `den "
					   "lxd trust %s --token TOKEN` again",
					   c->where, c->server_crt, c->base);
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
	const char *said = answer_error(r->answer);
	if (r->status == 403 && c->socket == NULL && !c->pairing && said != NULL &&
	    strcasecmp(said, "not authorized") == 0) {
		den_err_set(
			err, 0,
			"%s does not trust den's client certificate (%s): on the server run "
			"`lxc config trust add --name den`, then here `den lxd trust %s --token "
			"TOKEN`",
			c->where, c->client_crt, c->base);
		err->errno_ = EACCES;
		return -1;
	}
	if (r->status >= 400 || type == NULL || strcmp(type, "error") == 0) {
		den_err_set(err, 0, "%s: %s", c->where, said ? said : "an error with no message");
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

	/*
	 * The operation's path comes from LXD: only /1.0/operations/ID is
	 * followed, with the ?project=NAME a cluster adds (den sends its own).
	 */
	size_t id = strncmp(op, "/1.0/operations/", 16) == 0
			    ? strspn(op + 16, "0123456789abcdefABCDEF-")
			    : 0;
	const char *rest = id > 0 ? op + 16 + id : "";
	if (id == 0 || id > 64 ||
	    (rest[0] != '\0' &&
	     (strncmp(rest, "?project=", 9) != 0 || !envfile_lxd_name_ok(rest + 9))))
		return den_err_set(err, 0, "%s named an operation den does not follow", c->where);
	if (asprintf(&path, "%.*s/wait", (int)(16 + id), op) < 0 ||
	    asprintf(&query, "timeout=%d", LXD_OP_WAIT_S) < 0)
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
