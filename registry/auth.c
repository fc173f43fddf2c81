/* SPDX-License-Identifier: MIT */
/*
 * What a registry asks for and what the user already gave: the
 * WWW-Authenticate challenge (RFC 7235's auth-params, as the distribution
 * spec's token flow uses them) and the Docker or Podman auth file's entry
 * for a registry ({"auths": {"HOST": {"auth": base64("user:password")}}}).
 */
#include "registry/registry.h"
#include "core/cleanup.h"
#include "core/base64.h"
#include "core/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_FILE_MAX (1u << 20)

/* src into dst when it fits; false (dst untouched) when it does not. */
static bool fits(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

/* One auth-param value: a token, or a quoted string with \-escapes. */
static const char *param_value(const char *p, char *out, size_t n)
{
	size_t o = 0;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (o + 1 < n)
				out[o++] = *p;
		}
		if (*p != '"')
			return NULL;
		p++;
	} else {
		while (*p != '\0' && *p != ',' && !isspace((unsigned char)*p)) {
			if (o + 1 < n)
				out[o++] = *p;
			p++;
		}
	}
	out[o] = '\0';
	return p;
}

int registry_challenge_parse(const char *value, struct registry_challenge *out, struct den_err *err)
{
	const char *p = value;
	char key[64], val[1024];

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "Basic", 5) == 0 && (p[5] == '\0' || isspace((unsigned char)p[5])))
		out->scheme = REGISTRY_AUTH_BASIC, p += 5;
	else if (strncasecmp(p, "Bearer", 6) == 0 && (p[6] == '\0' || isspace((unsigned char)p[6])))
		out->scheme = REGISTRY_AUTH_BEARER, p += 6;
	else
		return den_err_set(
			err, 0,
			"the registry asks for an authentication den does not do (%.40s): "
			"den does Basic and Bearer",
			value);
	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		size_t k = strcspn(p, "= \t");
		if (k == 0 || k >= sizeof(key) || p[k] != '=')
			return den_err_set(err, 0, "the registry's challenge is garbled: %.80s",
					   value);
		snprintf(key, sizeof(key), "%.*s", (int)k, p);
		p = param_value(p + k + 1, val, sizeof(val));
		if (p == NULL)
			return den_err_set(err, 0,
					   "the registry's challenge has an unended quote: %.80s",
					   value);
		bool ok = strcasecmp(key, "realm") == 0 ? fits(out->realm, sizeof(out->realm), val)
			  : strcasecmp(key, "service") == 0
				  ? fits(out->service, sizeof(out->service), val)
			  : strcasecmp(key, "scope") == 0
				  ? fits(out->scope, sizeof(out->scope), val)
				  : true;
		if (!ok || strlen(val) + 1 >= sizeof(val))
			return den_err_set(
				err, 0,
				"the registry's challenge has a %s longer than den takes: "
				"%.80s",
				key, value);
	}
	if (out->scheme == REGISTRY_AUTH_BEARER && strncmp(out->realm, "https://", 8) != 0 &&
	    strncmp(out->realm, "http://", 7) != 0)
		return den_err_set(err, 0,
				   "the registry asks for a token without saying where to get one "
				   "(no http(s) realm): %.80s",
				   value);
	return 0;
}

/* "auth": base64 of "user:password", into out. */
static int decode_auth(const char *b64, const char *shown, const char *host,
		       struct registry_creds *out, struct den_err *err)
{
	size_t len = strlen(b64), n = 0;
	unsigned char *raw = NULL;
	int rc = len / 4 * 3 >= 3 * (sizeof(out->user) + sizeof(out->secret)) / 4 + 4
			 ? 1
			 : den_base64_decode(b64, len, &raw, &n, err);

	if (rc < 0)
		return -1;
	if (rc > 0)
		return den_err_set(err, 0, "%s: the entry for %s is not base64 of user:password",
				   shown, host);
	char *colon = memchr(raw, ':', n);
	bool ok = colon != NULL && strlen((char *)raw) == n && colon != (char *)raw;
	if (ok) {
		*colon = '\0';
		ok = fits(out->user, sizeof(out->user), (char *)raw) &&
		     fits(out->secret, sizeof(out->secret), colon + 1);
		if (!ok)
			den_err_set(err, 0, "%s: the entry for %s is longer than den takes", shown,
				    host);
	} else {
		den_err_set(err, 0, "%s: the entry for %s is not user:password", shown, host);
	}
	explicit_bzero(raw, n);
	free(raw);
	if (!ok)
		return -1;
	if (!ok)
		return den_err_set(err, 0, "%s: the entry for %s is longer than den takes", shown,
				   host);
	return 1;
}

int registry_creds_in(const char *text, const char *shown, const char *host,
		      struct registry_creds *out, struct den_err *err)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr), *auths, *entry = NULL;
	const char *key;
	json_t *v;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (j == NULL)
		return den_err_set(err, 0, "%s is not JSON (line %d: %s)", shown, jerr.line,
				   jerr.text);
	auths = json_object_get(j, "auths");
	/* Docker Hub's entry is under its old index URL; others by host, with a scheme or not. */
	json_object_foreach(auths, key, v)
	{
		const char *k = key;
		if (strncmp(k, "https://", 8) == 0)
			k += 8;
		else if (strncmp(k, "http://", 7) == 0)
			k += 7;
		size_t klen = strcspn(k, "/");
		bool hub = strcmp(host, REGISTRY_DOCKER_HUB) == 0 &&
			   (strncmp(k, "index.docker.io", klen) == 0 ||
			    strncmp(k, "docker.io", klen) == 0);
		if (hub || (strlen(host) == klen && strncmp(k, host, klen) == 0)) {
			entry = v;
			break;
		}
	}
	if (entry != NULL) {
		const char *auth = json_string_value(json_object_get(entry, "auth"));
		const char *token = json_string_value(json_object_get(entry, "identitytoken"));
		snprintf(out->from, sizeof(out->from), "%s", shown);
		if (auth != NULL)
			rc = decode_auth(auth, shown, host, out, err);
		else if (token != NULL)
			rc = fits(out->secret, sizeof(out->secret), token)
				     ? 1
				     : den_err_set(err, 0,
						   "%s: the token for %s is longer than den takes",
						   shown, host);
		else
			rc = den_err_set(
				err, 0,
				"%s has an entry for %s with neither auth nor identitytoken "
				"(a credential helper's? den reads the file only: log in "
				"with `podman login` or `docker login` to store it)",
				shown, host);
	}
	json_decref(j);
	return rc;
}

int registry_creds_find(const char *host, struct registry_creds *out, struct den_err *err)
{
	const char *env = getenv("REGISTRY_AUTH_FILE"), *run = getenv("XDG_RUNTIME_DIR");
	const char *home = getenv("HOME");
	char paths[4][4096];
	size_t n = 0;

	if (env != NULL && env[0] != '\0')
		snprintf(paths[n++], sizeof(paths[0]), "%s", env);
	if (run != NULL && run[0] == '/')
		snprintf(paths[n++], sizeof(paths[0]), "%s/containers/auth.json", run);
	if (home != NULL && home[0] == '/') {
		snprintf(paths[n++], sizeof(paths[0]), "%s/.config/containers/auth.json", home);
		snprintf(paths[n++], sizeof(paths[0]), "%s/.docker/config.json", home);
	}
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *text = NULL;
		size_t len = 0;
		struct den_err e = { 0 };
		if (den_read_file(paths[i], AUTH_FILE_MAX, &text, &len, &e) < 0) {
			if (e.errno_ == ENOENT)
				continue;
			*err = e;
			return -1;
		}
		int rc = registry_creds_in(text, paths[i], host, out, err);
		explicit_bzero(text, len);
		if (rc != 0)
			return rc;
	}
	return 0;
}
