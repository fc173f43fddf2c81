/* SPDX-License-Identifier: MIT */
/* Logging in to a registry: Basic's header, and Bearer's token from its realm (registry/token.h). */
#include "registry/token.h"
#include "core/base64.h"
#include "core/cleanup.h"
#include "core/membuf.h"
#include "registry/client-internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_ANSWER_MAX (1u << 20)
#define TOKEN_MAX (64u << 10)

int registry_basic_header(const struct registry_creds *creds, char **header, struct den_err *err)
{
	cleanup_free char *pair = NULL, *b64 = NULL;
	int r;

	*header = NULL;
	if (asprintf(&pair, "%s:%s", creds->user, creds->secret) < 0)
		return den_err_set(err, ENOMEM, "cannot log in");
	r = den_base64_encode(pair, strlen(pair), &b64, err);
	explicit_bzero(pair, strlen(pair));
	if (r < 0)
		return -1;
	r = asprintf(header, "Authorization: Basic %s", b64);
	explicit_bzero(b64, strlen(b64));
	return r < 0 ? den_err_set(err, ENOMEM, "cannot log in") : 0;
}

/* The host part of an http(s) URL, into host. */
static void url_host(const char *url, char *host, size_t n)
{
	const char *p = strstr(url, "://");
	size_t len;

	p = p ? p + 3 : url;
	len = strcspn(p, "/?#");
	snprintf(host, n, "%.*s", (int)len, p);
}

/* A realm den sends the user's password to: https, or http where plain HTTP is allowed. */
static int realm_allowed(const struct registry_client *c, const char *realm, struct den_err *err)
{
	char host[256];

	url_host(realm, host, sizeof(host));
	if (strncmp(realm, "https://", 8) == 0)
		return 0;
	if (strncmp(realm, "http://", 7) == 0 &&
	    (registry_host_is_loopback(host) || strncmp(c->base, "http://", 7) == 0))
		return 0;
	return den_err_set(err, 0,
			   "registry %s sends den to log in at %s, which is not https: refused "
			   "(den sends passwords over TLS only)",
			   c->ref.host, realm);
}

/* lead, then "service=S&scope=A&scope=B", escaped: a query, or a form's fields. */
static char *query(CURL *h, const char *service, const char *scopes, const char *lead)
{
	cleanup_free char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	char *esc;

	if (f == NULL)
		return NULL;
	fputs(lead, f);
	if (service[0] != '\0') {
		esc = curl_easy_escape(h, service, 0);
		fprintf(f, "service=%s", esc ? esc : "");
		curl_free(esc);
	}
	for (const char *p = scopes; *p != '\0';) {
		size_t n = strcspn(p, " ");
		cleanup_free char *one = strndup(p, n);
		esc = one ? curl_easy_escape(h, one, 0) : NULL;
		fprintf(f, "&scope=%s", esc ? esc : "");
		curl_free(esc);
		p += n;
		p += strspn(p, " ");
	}
	if (fclose(f) != 0)
		return NULL;
	return steal_pointer(&out);
}

/* The token in the realm's answer: "token" or OAuth2's "access_token". */
static int read_token(const struct registry_client *c, const char *realm, const char *text,
		      char **token, struct den_err *err)
{
	json_t *j = json_loads(text, 0, NULL);
	const char *t = json_string_value(json_object_get(j, "token"));

	if (t == NULL || t[0] == '\0')
		t = json_string_value(json_object_get(j, "access_token"));
	if (t == NULL || t[0] == '\0' || strlen(t) > TOKEN_MAX ||
	    strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=") !=
		    strlen(t)) {
		json_decref(j);
		return den_err_set(err, 0,
				   "registry %s: its token server %s answered without a token "
				   "den can use",
				   c->ref.host, realm);
	}
	*token = strdup(t);
	json_decref(j);
	return *token ? 0 : den_err_set(err, ENOMEM, "cannot log in");
}

int registry_token_fetch(struct registry_client *c, const struct registry_challenge *ch,
			 const char *scopes, struct den_err *err)
{
	cleanup_free char *url = NULL, *q = NULL, *basic = NULL, *token = NULL, *form = NULL;
	struct den_membuf m = { .max = TOKEN_ANSWER_MAX };
	const char *form_type[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	struct registry_call call = {
		.method = "GET", .body_fd = -1, .auth = "", .sink = den_membuf_write, .sink_arg = &m
	};
	bool identity = c->have_creds == 1 && c->creds.user[0] == '\0';
	int r = -1;

	if (realm_allowed(c, ch->realm, err) < 0)
		return -1;
	q = query(c->curl, ch->service, scopes, identity ? "" : strchr(ch->realm, '?') ? "&" : "?");
	if (q == NULL || asprintf(&url, "%s%s", ch->realm, identity ? "" : q) < 0) {
		den_err_set(err, ENOMEM, "cannot log in to %s", c->ref.host);
		goto out;
	}
	call.url = url;
	if (identity) {
		cleanup_free char *esc_token = curl_easy_escape(c->curl, c->creds.secret, 0);
		/* OAuth2's refresh grant, which an auth file's identitytoken is for. */
		if (esc_token == NULL ||
		    asprintf(&form, "grant_type=refresh_token&client_id=den&refresh_token=%s&%s",
			     esc_token, q[0] == '&' ? q + 1 : q) < 0) {
			den_err_set(err, ENOMEM, "cannot log in to %s", c->ref.host);
			goto out;
		}
		call.method = "POST";
		call.body = form;
		call.body_size = strlen(form);
		call.has_body = true;
		call.headers = form_type;
	} else if (c->have_creds == 1) {
		if (registry_basic_header(&c->creds, &basic, err) < 0)
			goto out;
		call.auth = basic;
	}
	if (registry_request(c, &call, err) < 0) {
		den_err_wrap(err, "registry %s: its token server %s", c->ref.host, ch->realm);
		goto out;
	}
	if (call.status == 401 || call.status == 403) {
		den_err_set(err, 0,
			    c->have_creds == 1
				    ? "registry %s: its token server %s refused the credentials "
				      "from %s; log in again (podman login %s, or docker login)"
				    : "registry %s: its token server %s lets no one in without "
				      "logging in%.0s; log in with `podman login %s` (or docker "
				      "login)",
			    c->ref.host, ch->realm, c->creds.from, c->ref.host);
		goto out;
	}
	if (call.status != 200 || m.data == NULL) {
		den_err_set(err, 0, "registry %s: its token server %s answered HTTP %ld",
			    c->ref.host, ch->realm, call.status);
		goto out;
	}
	if (read_token(c, ch->realm, m.data, &token, err) < 0)
		goto out;
	free(c->auth);
	c->auth = NULL;
	if (asprintf(&c->auth, "Authorization: Bearer %s", token) < 0) {
		c->auth = NULL;
		den_err_set(err, ENOMEM, "cannot log in to %s", c->ref.host);
		goto out;
	}
	r = 0;
out:
	if (basic != NULL)
		explicit_bzero(basic, strlen(basic));
	if (form != NULL)
		explicit_bzero(form, strlen(form));
	registry_call_reset(&call);
	free(m.data);
	return r;
}
