/* SPDX-License-Identifier: MIT */
#ifndef DEN_REGISTRY_CLIENT_INTERNAL_H
#define DEN_REGISTRY_CLIENT_INTERNAL_H

/* One request to a registry, and the client that makes them (registry/client.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/membuf.h"
#include "registry/client.h"

struct curl_slist;

struct registry_client {
	struct registry_ref ref;
	char base[300];	 /* "https://HOST" or "http://HOST" */
	char name[520];	 /* HOST/REPOSITORY, for messages */
	char scope[600]; /* "repository:REPO:pull[,push]" */
	char ca[4096];	 /* a CA file for this registry, or "" (the system's) */
	char *auth;	 /* "Authorization: ..." for the next request, or NULL */
	bool push;
	bool creds_looked;
	int have_creds; /* 1 found, 0 none */
	struct registry_creds creds;
	void *curl; /* one handle: one connection, kept alive */
};

/* Where a response's body goes when the answer is a success (2xx). */
typedef size_t (*registry_sink)(char *data, size_t size, size_t n, void *arg);

struct registry_call {
	const char *method;	    /* GET HEAD PUT POST PATCH */
	const char *url;	    /* absolute */
	const char *extra_scope;    /* a second token scope (a mount's source), or NULL */
	const char *auth;	    /* "Authorization: ..." instead of the client's, or NULL */
	const char *const *headers; /* NULL-terminated, or NULL */
	/* The request's body: memory, or a range of a file (fd >= 0). */
	const char *body;
	size_t body_len;
	int body_fd;
	uint64_t body_off, body_size;
	bool has_body;
	/* The response: */
	registry_sink sink;
	void *sink_arg;
	bool follow;		    /* follow redirects (blob downloads go to storage elsewhere) */
	bool want_partial;	    /* asked for a Range: a 200 is noted, not written */
	bool range_ignored;	    /* ... and the registry sent the whole blob */
	const char *progress_label; /* a progress line on stderr, or NULL */
	uint64_t progress_base;	    /* bytes done before this request */
	uint64_t progress_total;    /* bytes in all */
	double progress_drawn;	    /* when the line was last drawn */
	long status;
	char location[2048], content_type[128], digest[136], range[64], link[1024], retry_after[32];
	char challenge[2048];
	struct den_membuf error_body; /* a failure's body, for its message */
	uint64_t delivered;	      /* bytes handed to sink */
	uint64_t body_sent;	      /* request body bytes read by libcurl */
};

/*
 * Makes the request: the token or password the registry asks for fetched
 * and the request made again on 401, 429 and 5xx answers and dropped
 * connections retried with backoff while nothing reached the sink. 0 with
 * call->status set for any HTTP answer; -1 when none came, or when the
 * registry refused den's credentials.
 */
int registry_perform(struct registry_client *c, struct registry_call *call, struct den_err *err);

/* The same without the login: a 401 is an answer as any other (the token server's). */
int registry_request(struct registry_client *c, struct registry_call *call, struct den_err *err);

/* "the registry HOST/REPO answered HTTP 404 to GET ...: CODE: message" into err. */
int registry_status_error(const struct registry_client *c, const struct registry_call *call,
			  const char *what, struct den_err *err);

/* The call's error body freed; call can be made again. */
void registry_call_reset(struct registry_call *call);

/* "BASE/v2/REPO/SUFFIX" (malloc'd). */
char *registry_url(const struct registry_client *c, const char *suffix);

#endif
