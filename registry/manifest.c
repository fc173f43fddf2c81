/* SPDX-License-Identifier: MIT */
/* Manifests and tags (the distribution spec's "pulling manifests", "pushing manifests", tags/list). */
#include "core/cleanup.h"
#include "core/digest.h"
#include "registry/client-internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX (4u << 20)
#define TAGS_PAGE_MAX (4u << 20)
#define TAGS_PAGES_MAX 1000
#define TAGS_MAX 100000

static const char *const accept_types[] = {
	"Accept: " MT_INDEX,
	"Accept: " MT_MANIFEST,
	"Accept: " MT_DOCKER_LIST,
	"Accept: " MT_DOCKER_MANIFEST,
	NULL,
};

/* The document's media type: its own mediaType field, else the answer's Content-Type. */
static void media_type_of(const struct registry_doc *d, const char *content_type, char *out,
			  size_t n)
{
	json_t *j = json_loadb(d->data, d->len, 0, NULL);
	const char *mt = json_string_value(json_object_get(j, "mediaType"));

	if (mt != NULL)
		snprintf(out, n, "%s", mt);
	else
		snprintf(out, n, "%.*s", (int)strcspn(content_type, "; "), content_type);
	json_decref(j);
	registry_shown(out, out, n); /* printed in messages */
}

int registry_get_manifest(struct registry_client *c, const char *reference,
			  struct registry_doc *out, struct den_err *err)
{
	cleanup_free char *suffix = NULL, *url = NULL;
	struct den_membuf m = { .max = MANIFEST_MAX };
	struct registry_call call = { .method = "GET",
				      .body_fd = -1,
				      .headers = accept_types,
				      .sink = den_membuf_write,
				      .sink_arg = &m };
	char hex[DIGEST_HEX_MAX] = "";
	struct digest *d;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (asprintf(&suffix, "manifests/%s", reference) < 0 ||
	    (url = registry_url(c, suffix)) == NULL)
		return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	call.url = url;
	if (registry_perform(c, &call, err) < 0) {
		free(m.data);
		return m.too_big ? den_err_set(err, 0,
					       "registry %s: manifest %s is larger than 4 MiB: "
					       "refused",
					       registry_name(c), reference)
				 : -1;
	}
	if (call.status == 404) {
		registry_call_reset(&call);
		free(m.data);
		return 1;
	}
	if (call.status != 200) {
		free(m.data);
		r = registry_status_error(c, &call, "GET of a manifest", err);
		registry_call_reset(&call);
		return r;
	}
	registry_call_reset(&call);
	out->data = m.data ? m.data : strdup("");
	out->len = m.len;
	d = digest_new(DIGEST_SHA256);
	if (out->data == NULL || d == NULL) {
		digest_free(d);
		registry_doc_free(out);
		return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	}
	digest_update(d, out->data, out->len);
	digest_final_hex(d, hex);
	digest_free(d);
	snprintf(out->digest, sizeof(out->digest), "sha256:%.64s", hex);
	/* Asked by digest: the bytes must be those; by tag: their digest is the answer. */
	if (strchr(reference, ':') != NULL && strcmp(reference, out->digest) != 0) {
		den_err_set(err, 0,
			    "registry %s sent manifest %s with other bytes (they hash to %s): "
			    "refused",
			    registry_name(c), reference, out->digest);
		registry_doc_free(out);
		return -1;
	}
	media_type_of(out, call.content_type, out->media_type, sizeof(out->media_type));
	return 0;
}

int registry_need_manifest(struct registry_client *c, const char *reference, bool listed,
			   struct registry_doc *out, struct den_err *err)
{
	int r = registry_get_manifest(c, reference, out, err);

	if (r == 1)
		return den_err_set(err, 0, "registry %s has no %s%s", registry_name(c), reference,
				   listed ? ", which its index names" : "");
	return r;
}

bool registry_doc_is_index(const struct registry_doc *d)
{
	return strcmp(d->media_type, MT_INDEX) == 0 || strcmp(d->media_type, MT_DOCKER_LIST) == 0;
}

int registry_put_manifest(struct registry_client *c, const char *reference, const char *media_type,
			  const char *data, size_t len, struct den_err *err)
{
	cleanup_free char *suffix = NULL, *url = NULL, *ct = NULL;
	const char *hdrs[2] = { NULL, NULL };
	struct registry_call call = { .method = "PUT",
				      .body_fd = -1,
				      .body = data,
				      .body_size = len,
				      .has_body = true,
				      .headers = hdrs };
	int r = 0;

	if (asprintf(&suffix, "manifests/%s", reference) < 0 ||
	    (url = registry_url(c, suffix)) == NULL ||
	    asprintf(&ct, "Content-Type: %s", media_type) < 0)
		return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
	hdrs[0] = ct;
	call.url = url;
	if (registry_perform(c, &call, err) < 0)
		return -1;
	if (call.status != 201 && call.status != 200)
		r = registry_status_error(c, &call, "PUT of a manifest", err);
	registry_call_reset(&call);
	return r;
}

/* The next page from a Link header: `</v2/...?last=x&n=y>; rel="next"`, or NULL. */
static char *next_page(const struct registry_client *c, const char *link)
{
	const char *lt = strchr(link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char *url = NULL;

	if (gt == NULL || strstr(gt, "rel=\"next\"") == NULL || lt[1] != '/')
		return NULL; /* only a path on this registry is followed */
	return asprintf(&url, "%s%.*s", c->base, (int)(gt - lt - 1), lt + 1) < 0 ? NULL : url;
}

/* One page's tags appended to *tags. */
static int add_page(const struct registry_client *c, const char *text, char ***tags, size_t *n,
		    struct den_err *err)
{
	json_t *j = json_loads(text, 0, NULL), *list = json_object_get(j, "tags"), *t;
	size_t i;

	if (!json_is_object(j) || !(json_is_array(list) || json_is_null(list) || list == NULL)) {
		json_decref(j);
		return den_err_set(err, 0, "registry %s: its tag list is not the JSON it should be",
				   registry_name(c));
	}
	json_array_foreach(list, i, t)
	{
		const char *s = json_string_value(t);
		char **grown;
		if (s == NULL || strlen(s) > 128)
			continue;
		if (*n >= TAGS_MAX) {
			json_decref(j);
			return den_err_set(err, 0, "registry %s lists more than %d tags: refused",
					   registry_name(c), TAGS_MAX);
		}
		grown = realloc(*tags, (*n + 1) * sizeof(**tags));
		if (grown == NULL || (grown[*n] = strdup(s)) == NULL) {
			if (grown != NULL)
				*tags = grown;
			json_decref(j);
			return den_err_set(err, ENOMEM, "registry %s", registry_name(c));
		}
		*tags = grown;
		(*n)++;
	}
	json_decref(j);
	return 0;
}

int registry_list_tags(struct registry_client *c, char ***tags, size_t *n, struct den_err *err)
{
	char *url = registry_url(c, "tags/list");
	int r = 0;

	*tags = NULL;
	*n = 0;
	for (int page = 0; url != NULL && r == 0; page++) {
		struct den_membuf m = { .max = TAGS_PAGE_MAX };
		struct registry_call call = { .method = "GET",
					      .url = url,
					      .body_fd = -1,
					      .sink = den_membuf_write,
					      .sink_arg = &m };
		if (page >= TAGS_PAGES_MAX) {
			r = den_err_set(err, 0, "registry %s: more than %d pages of tags",
					registry_name(c), TAGS_PAGES_MAX);
			break;
		}
		r = registry_perform(c, &call, err);
		if (r == 0 && call.status == 404)
			r = 0; /* no such repository: no tags */
		else if (r == 0 && call.status != 200)
			r = registry_status_error(c, &call, "GET of its tag list", err);
		else if (r == 0)
			r = add_page(c, m.data ? m.data : "{}", tags, n, err);
		free(url);
		url = r == 0 && call.status == 200 ? next_page(c, call.link) : NULL;
		registry_call_reset(&call);
		free(m.data);
	}
	free(url);
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			free((*tags)[i]);
		free(*tags);
		*tags = NULL;
		*n = 0;
	}
	return r;
}
