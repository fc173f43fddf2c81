/* SPDX-License-Identifier: MIT */
#ifndef DEN_REGISTRY_REGISTRY_H
#define DEN_REGISTRY_REGISTRY_H

/*
 * Container registries: references as docker, podman and skopeo write
 * them, the WWW-Authenticate challenges a registry answers with, and the
 * credentials the user's Docker or Podman auth file already holds. The
 * protocol itself is registry/client.h; boxes and images through it,
 * registry/box.h.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define REGISTRY_DOCKER_HUB "registry-1.docker.io"

/* HOST[:PORT]/PATH[:TAG][@ALGO:HEX], with Docker Hub's defaults filled in. */
struct registry_ref {
	char host[256];	      /* "registry.example:5000"; REGISTRY_DOCKER_HUB for Docker Hub */
	char repository[256]; /* "team/debian-12"; "library/debian" for Hub's short names */
	char tag[129];	      /* "1.0.0"; "latest" when neither tag nor digest is given */
	char digest[136];     /* "sha256:HEX" (or sha512), or "" */
	bool tagged;	      /* the tag was written, not "latest" by default */
};

/*
 * Parses a reference by the distribution spec's grammar: the first part
 * is a host when it has a '.' or a ':' or is "localhost"; path parts are
 * lowercase letters and digits joined by '.', '_', "__" or dashes; a tag
 * is at most 128 of [A-Za-z0-9_.-], not starting with '.' or '-'; a digest
 * is sha256 (64 hex digits) or sha512 (128). err says what is wrong.
 */
int registry_ref_parse(const char *s, struct registry_ref *out, struct den_err *err);

/* Whether den may talk plain HTTP to host: only loopback (localhost, 127.0.0.0/8, [::1]). */
bool registry_host_is_loopback(const char *host);

/* A WWW-Authenticate challenge: Basic or Bearer with its parameters. */
struct registry_challenge {
	enum { REGISTRY_AUTH_NONE, REGISTRY_AUTH_BASIC, REGISTRY_AUTH_BEARER } scheme;
	char realm[1024];
	char service[256];
	char scope[512];
};

/* Parses one WWW-Authenticate header's value; err names what it could not read. */
int registry_challenge_parse(const char *value, struct registry_challenge *out,
			     struct den_err *err);

/* A user name and password (or identity token) for a registry. */
struct registry_creds {
	char user[256];
	char secret[4096];
	char from[4096]; /* the auth file they came from, for messages */
};

/*
 * The credentials for host in the first auth file that has an entry for
 * it: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.config/containers/auth.json, ~/.docker/config.json (as podman and
 * docker look). Returns 1 when found, 0 when no file names host, and -1
 * when a file that does is unreadable or its entry is not user:password.
 */
int registry_creds_find(const char *host, struct registry_creds *out, struct den_err *err);

/* The same, in the auth file text (shown names it in messages). */
int registry_creds_in(const char *text, const char *shown, const char *host,
		      struct registry_creds *out, struct den_err *err);

#endif
