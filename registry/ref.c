/* SPDX-License-Identifier: MIT */
/*
 * Image references, by the grammar of the distribution project's
 * reference package (which docker, podman and skopeo share), and the one
 * rule den adds: plain HTTP only to this host's own loopback.
 */
#include "registry/registry.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ joined by '.', '_', "__" or any run of '-'. */
static bool path_component_ok(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || !alnum_lower(s[0]) || !alnum_lower(s[len - 1]))
		return false;
	while (i < len) {
		if (alnum_lower(s[i])) {
			i++;
			continue;
		}
		size_t sep = i;
		while (i < len && !alnum_lower(s[i]))
			i++;
		size_t n = i - sep;
		bool dashes = strspn(s + sep, "-") >= n;
		if (!(n == 1 && (s[sep] == '.' || s[sep] == '_')) &&
		    !(n == 2 && s[sep] == '_' && s[sep + 1] == '_') && !dashes)
			return false;
	}
	return true;
}

/* A host: labels of letters, digits and '-' joined by '.', an optional :PORT; or [v6]:PORT. */
static bool host_ok(const char *s, size_t len)
{
	const char *colon = NULL;
	size_t hlen = len;

	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL)
			return false;
		hlen = (size_t)(close - s) + 1;
		if (hlen < len && s[hlen] != ':')
			return false;
		colon = hlen < len ? s + hlen : NULL;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		for (size_t i = 0; i < hlen; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
				return false;
	}
	if (hlen == 0)
		return false;
	if (colon != NULL) {
		size_t plen = len - (size_t)(colon - s) - 1;
		if (plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") < plen)
			return false;
	}
	return true;
}

static bool tag_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static bool digest_ok(const char *s)
{
	size_t hex = 0;

	if (strncmp(s, "sha256:", 7) == 0)
		hex = 64, s += 7;
	else if (strncmp(s, "sha512:", 7) == 0)
		hex = 128, s += 7;
	else
		return false;
	return strlen(s) == hex && strspn(s, "0123456789abcdef") == hex;
}

int registry_ref_parse(const char *s, struct registry_ref *out, struct den_err *err)
{
	char name[512];
	const char *at = strchr(s, '@'), *first_slash;
	size_t name_len = at != NULL ? (size_t)(at - s) : strlen(s);

	memset(out, 0, sizeof(*out));
	if (name_len == 0 || name_len >= sizeof(name))
		return den_err_usage(err,
				     "'%s' is not an image reference: expected "
				     "[HOST[:PORT]/]PATH[:TAG][@sha256:DIGEST]",
				     s);
	if (at != NULL) {
		if (!digest_ok(at + 1))
			return den_err_usage(err,
					     "'%s': the digest after @ must be sha256: and 64 "
					     "lowercase hex digits (or sha512: and 128)",
					     s);
		snprintf(out->digest, sizeof(out->digest), "%s", at + 1);
	}
	memcpy(name, s, name_len);
	name[name_len] = '\0';
	/* A tag is after the last ':' that comes after the last '/' (a port comes before one). */
	char *slash = strrchr(name, '/'), *colon = strrchr(name, ':');
	if (colon != NULL && (slash == NULL || colon > slash)) {
		*colon = '\0';
		if (!tag_ok(colon + 1))
			return den_err_usage(err,
					     "'%s': the tag '%s' must be 1 to 128 letters, digits, "
					     "'_', '.' or '-', not starting with '.' or '-'",
					     s, colon + 1);
		snprintf(out->tag, sizeof(out->tag), "%s", colon + 1);
		out->tagged = true;
	}
	first_slash = strchr(name, '/');
	const char *path = name;
	if (first_slash != NULL) {
		size_t hl = (size_t)(first_slash - name);
		bool is_host = memchr(name, '.', hl) != NULL || memchr(name, ':', hl) != NULL ||
			       (hl == 9 && strncmp(name, "localhost", 9) == 0);
		if (is_host) {
			if (!host_ok(name, hl))
				return den_err_usage(err, "'%s': '%.*s' is not a registry host", s,
						     (int)hl, name);
			snprintf(out->host, sizeof(out->host), "%.*s", (int)hl, name);
			path = first_slash + 1;
		}
	}
	if (out->host[0] == '\0' || strcmp(out->host, "docker.io") == 0 ||
	    strcmp(out->host, "index.docker.io") == 0)
		snprintf(out->host, sizeof(out->host), "%s", REGISTRY_DOCKER_HUB);
	for (const char *p = path;;) {
		const char *end = strchr(p, '/');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (!path_component_ok(p, len))
			return den_err_usage(err,
					     "'%s': the repository '%s' must be lowercase letters "
					     "and digits, joined by '.', '_', \"__\" or '-', in "
					     "parts joined by '/'",
					     s, path);
		if (end == NULL)
			break;
		p = end + 1;
	}
	bool library = strcmp(out->host, REGISTRY_DOCKER_HUB) == 0 && strchr(path, '/') == NULL;
	if (strlen(path) + (library ? 8 : 0) >= sizeof(out->repository))
		return den_err_usage(err, "'%s': the repository is longer than 255 characters", s);
	memcpy(out->repository, library ? "library/" : "", library ? 9 : 1);
	strcat(out->repository, path);
	if (out->tag[0] == '\0' && out->digest[0] == '\0')
		snprintf(out->tag, sizeof(out->tag), "latest");
	return 0;
}

bool registry_host_is_loopback(const char *host)
{
	char name[256];
	struct in6_addr a6;
	struct in_addr a4;
	const char *colon;

	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (close == NULL || (size_t)(close - host - 1) >= sizeof(name))
			return false;
		snprintf(name, sizeof(name), "%.*s", (int)(close - host - 1), host + 1);
		return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	colon = strchr(host, ':');
	snprintf(name, sizeof(name), "%.*s",
		 colon != NULL ? (int)(colon - host) : (int)strlen(host), host);
	if (strcmp(name, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, name, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}
