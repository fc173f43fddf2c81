/* SPDX-License-Identifier: MIT */
#include "boxes/publish.h"
#include "core/digest.h"
#include "boxes/identity.h"
#include "boxes/store.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/version.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
	const struct published *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	struct den_version vx, vy;
	const char *why;

	if (c != 0)
		return c;
	if (den_version_parse(x->version, &vx, &why) == 0 &&
	    den_version_parse(y->version, &vy, &why) == 0)
		return den_version_cmp(&vy, &vx);
	return strcmp(x->file, y->file);
}

/* Reads the box files of dir into a list sorted by name, newest version first. */
static int scan(const char *dir, struct published **out, size_t *n, struct den_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return den_err_set(err, errno, "cannot read folder %s", dir);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		cleanup_free char *path = NULL;
		struct box_identity id;

		if (len < 5 || strcmp(e->d_name + len - 4, ".box") != 0)
			continue;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			break;
		if (box_identity_read(path, &id, err) < 0) {
			den_warn("skipping %s: %s", e->d_name, err->msg);
			den_err_clear(err);
			continue;
		}
		if (id.name == NULL || id.version == NULL || !box_name_valid(id.name)) {
			den_warn("skipping %s: it does not name itself (metadata.json has no "
				 "\"den\": {\"name\", \"version\"}); boxes made by `den box build` "
				 "do",
				 e->d_name);
			box_identity_free(&id);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct published *p = realloc(*out, cap * sizeof(*p));
			if (p == NULL) {
				box_identity_free(&id);
				closedir(d);
				return den_err_set(err, ENOMEM, "cannot publish %s", dir);
			}
			*out = p;
		}
		struct published *p = &(*out)[(*n)++];
		p->name = steal_pointer(&id.name);
		p->version = steal_pointer(&id.version);
		p->provider = steal_pointer(&id.provider);
		p->arch = id.arch ? steal_pointer(&id.arch) : strdup("unknown");
		p->file = strdup(e->d_name);
		box_identity_free(&id);
	}
	closedir(d);
	if (*n > 0)
		qsort(*out, *n, sizeof(**out), by_name);
	return 0;
}

static json_t *provider_json(const char *dir, const struct published *p, const char *base,
			     struct den_err *err)
{
	cleanup_free char *path = NULL, *url = NULL;
	char hex[DIGEST_HEX_MAX];

	if (asprintf(&path, "%s/%s", dir, p->file) < 0)
		return NULL;
	if (digest_file(path, DIGEST_SHA256, hex, err) < 0)
		return NULL;
	/* The catalog is DIR/ORG/NAME: a relative URL climbs back to DIR. */
	int rc = base != NULL ? asprintf(&url, "%s%s%s", base,
					 base[strlen(base) - 1] == '/' ? "" : "/", p->file)
			      : asprintf(&url, "%s%s", strchr(p->name, '/') ? "../" : "", p->file);
	if (rc < 0) {
		url = NULL;
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name", p->provider, "url", url,
			 "checksum_type", "sha256", "checksum", hex, "architecture", p->arch,
			 "default_architecture", 1);
}

static int write_catalog(const char *dir, const char *name, json_t *versions, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	json_t *j = json_pack("{s:s, s:O}", "name", name, "versions", versions);

	if (j == NULL || asprintf(&path, "%s/%s", dir, name) < 0 ||
	    (text = json_dumps(j, JSON_INDENT(2))) == NULL) {
		json_decref(j);
		return den_err_set(err, ENOMEM, "cannot write the catalog of %s", name);
	}
	json_decref(j);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	if (den_mkdir_p(path, 0755, err) < 0)
		return -1;
	*slash = '/';
	return den_write_file_atomic(path, text, 0644, err);
}

int box_publish(const char *dir, const char *base_url, struct published **out, size_t *n,
		struct den_err *err)
{
	if (den_archive_load(err) < 0 || den_crypto_load(err) < 0 || scan(dir, out, n, err) < 0)
		return -1;
	for (size_t i = 0; i < *n;) {
		const char *name = (*out)[i].name;
		json_t *versions = json_array();
		size_t j = i;

		for (; j < *n && strcmp((*out)[j].name, name) == 0;) {
			const char *version = (*out)[j].version;
			json_t *providers = json_array();
			for (; j < *n && strcmp((*out)[j].name, name) == 0 &&
			       strcmp((*out)[j].version, version) == 0;
			     j++) {
				json_t *p = provider_json(dir, &(*out)[j], base_url, err);
				if (p == NULL) {
					json_decref(providers);
					json_decref(versions);
					return den_err_is_set(err)
						       ? -1
						       : den_err_set(err, ENOMEM, "cannot publish");
				}
				json_array_append_new(providers, p);
			}
			json_array_append_new(versions, json_pack("{s:s, s:o}", "version", version,
								  "providers", providers));
		}
		int rc = write_catalog(dir, name, versions, err);
		json_decref(versions);
		if (rc < 0)
			return -1;
		i = j;
	}
	return 0;
}

void published_free(struct published *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].version);
		free(p[i].provider);
		free(p[i].arch);
		free(p[i].file);
	}
	free(p);
}
