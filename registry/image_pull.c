/* SPDX-License-Identifier: MIT */
/*
 * docker://REF (registry/box.h): a plain Docker or OCI image from a
 * registry, linux/amd64 picked from an index, fetched into an OCI image
 * layout in $DEN_HOME/tmp (each blob through its digest, layers by way of
 * $DEN_HOME/cache/blobs, where a cut download resumes). boxes/image_add.c
 * then makes it a container box as it does any layout, checking every
 * digest again as it applies the layers.
 */
#include "boxes/catalog.h"
#include "boxes/store.h"
#include "boxes/unpack.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "registry/box-internal.h"
#include "registry/box.h"
#include "registry/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONFIG_MAX (16u << 20)
#define LAYERS_MAX 256

bool docker_image_is_ref(const char *s)
{
	return s != NULL && strncmp(s, DOCKER_IMAGE_SCHEME, strlen(DOCKER_IMAGE_SCHEME)) == 0;
}

/* linux/amd64 from an index (an attestation's "unknown" platform never matches). */
static int pick_platform(struct registry_client *c, json_t *idx, char *digest, size_t n,
			 struct den_err *err)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(idx, "manifests"), i, m)
	{
		json_t *p = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(p, "os"));
		const char *arch = json_string_value(json_object_get(p, "architecture"));
		const char *d = json_string_value(json_object_get(m, "digest"));
		if (os && arch && d && strcmp(os, "linux") == 0 && strcmp(arch, "amd64") == 0 &&
		    registry_digest_valid(d)) {
			snprintf(digest, n, "%s", d);
			return 0;
		}
	}
	return den_err_set(err, 0, "%s has no image for linux/amd64", registry_name(c));
}

/* Writes bytes as the layout's blob of that digest. */
static int put_blob_file(const char *layout, const char *digest, const char *data, size_t len,
			 struct den_err *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/blobs/sha256/%s", layout, digest + 7) < 0)
		return den_err_set(err, ENOMEM, "cannot write the image");
	return den_write_atomic(path, data, len, 0644, err);
}

struct fetch {
	const char *home;
	struct registry_client *c;
	const char *layout;
	bool progress;
};

/* One layer into the layout, by way of the cache (a cut download resumes there). */
static int fetch_layer(const struct fetch *f, json_t *l, uint64_t *left, struct den_err *err)
{
	const char *digest = json_string_value(json_object_get(l, "digest"));
	json_int_t size = json_integer_value(json_object_get(l, "size"));
	cleanup_free char *cache = NULL, *blob = NULL, *dst = NULL;
	char label[96];

	if (json_object_get(l, "urls") != NULL)
		return 0; /* a foreign layer: image_open refuses it by name */
	if (digest == NULL || !registry_digest_valid(digest) || size < 0)
		return den_err_set(err, 0, "refused: the image names a layer by '%s'",
				   digest ? digest : "");
	if ((uint64_t)size > *left)
		return den_err_set(err, 0, "refused: the image is larger than DEN_BOX_MAX_SIZE");
	*left -= (uint64_t)size;
	if (asprintf(&cache, "%s/cache/blobs", f->home) < 0 ||
	    asprintf(&blob, "%s/%s", cache, digest + 7) < 0 ||
	    asprintf(&dst, "%s/blobs/sha256/%s", f->layout, digest + 7) < 0)
		return den_err_set(err, ENOMEM, "cannot pull the image");
	if (den_exists(dst))
		return 0; /* the same layer twice */
	if (den_mkdir_p(cache, 0755, err) < 0)
		return -1;
	snprintf(label, sizeof(label), "layer %.19s", digest);
	struct registry_blob_dst bd = { blob, dst, label, f->progress, NULL };
	return registry_get_blob_file(f->c, digest, (uint64_t)size, &bd, err);
}

static int fetch_image(const struct fetch *f, const struct registry_doc *manifest,
		       struct den_err *err)
{
	json_t *m = json_loadb(manifest->data, manifest->len, 0, NULL), *l;
	json_t *config = json_object_get(m, "config");
	const char *cdigest = json_string_value(json_object_get(config, "digest"));
	const char *cmt = json_string_value(json_object_get(config, "mediaType"));
	json_int_t csize = json_integer_value(json_object_get(config, "size"));
	cleanup_free char *text = NULL;
	uint64_t left;
	size_t i;
	int r = -1;

	if (cmt != NULL && strcmp(cmt, MT_BOX_CONFIG) == 0) {
		den_err_set(err, 0, "%s is a den box, not a container image: add it as %s%s",
			    registry_name(f->c), OCI_BOX_SCHEME, registry_name(f->c));
		goto out;
	}
	if (cdigest == NULL || !registry_digest_valid(cdigest) || csize <= 0 ||
	    csize > (json_int_t)CONFIG_MAX ||
	    json_array_size(json_object_get(m, "layers")) > LAYERS_MAX) {
		den_err_set(err, 0, "refused: %s's manifest is not one of an image den reads",
			    registry_name(f->c));
		goto out;
	}
	if (unpack_max_bytes(&left, err) < 0 ||
	    registry_get_blob_mem(f->c, cdigest, (uint64_t)csize, &text, err) < 0 ||
	    put_blob_file(f->layout, cdigest, text, (size_t)csize, err) < 0)
		goto out;
	json_array_foreach(json_object_get(m, "layers"), i,
			   l) if (fetch_layer(f, l, &left, err) < 0) goto out;
	r = 0;
out:
	json_decref(m);
	return r;
}

/* oci-layout, index.json (naming the image by its reference) and the manifest's blob. */
static int write_layout(const char *layout, const struct registry_doc *manifest, const char *name,
			struct den_err *err)
{
	cleanup_free char *dir = NULL, *index = NULL, *path = NULL, *layout_file = NULL;
	json_t *j;

	if (asprintf(&dir, "%s/blobs/sha256", layout) < 0)
		return den_err_set(err, ENOMEM, "cannot write the image");
	if (den_mkdir_p(dir, 0755, err) < 0 ||
	    put_blob_file(layout, manifest->digest, manifest->data, manifest->len, err) < 0)
		return -1;
	j = json_pack("{s:i, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2, "manifests",
		      "mediaType", manifest->media_type, "digest", manifest->digest, "size",
		      (json_int_t)manifest->len, "annotations", "org.opencontainers.image.ref.name",
		      name);
	index = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (index == NULL || asprintf(&layout_file, "%s/oci-layout", layout) < 0 ||
	    asprintf(&path, "%s/index.json", layout) < 0)
		return den_err_set(err, ENOMEM, "cannot write the image");
	if (den_write_file_atomic(layout_file, "{\"imageLayoutVersion\":\"1.0.0\"}", 0644, err) < 0)
		return -1;
	return den_write_file_atomic(path, index, 0644, err);
}

static int pull(const struct fetch *f, const struct registry_ref *ref, char **origin,
		struct den_err *err)
{
	const char *reference = ref->digest[0] ? ref->digest : ref->tag;
	struct registry_doc d = { 0 };
	char name[700];
	int r = registry_need_manifest(f->c, reference, false, &d, err);

	if (r < 0)
		return -1;
	if (registry_doc_is_index(&d)) {
		char digest[80];
		json_t *idx = json_loadb(d.data, d.len, 0, NULL);
		r = pick_platform(f->c, idx, digest, sizeof(digest), err);
		json_decref(idx);
		registry_doc_free(&d);
		if (r < 0)
			return -1;
		if (registry_need_manifest(f->c, digest, true, &d, err) < 0)
			return -1;
	}
	if (strcmp(d.media_type, MT_MANIFEST) != 0 &&
	    strcmp(d.media_type, MT_DOCKER_MANIFEST) != 0) {
		r = den_err_set(err, 0, "%s is a %s, not an image manifest den reads",
				registry_name(f->c), d.media_type);
		goto out;
	}
	snprintf(name, sizeof(name), "%s/%s%s%s", ref->host, ref->repository,
		 ref->digest[0] ? "" : ":", ref->digest[0] ? "" : ref->tag);
	r = write_layout(f->layout, &d, name, err);
	if (r == 0)
		r = fetch_image(f, &d, err);
	if (r == 0 && asprintf(origin, "%s%s@%s", DOCKER_IMAGE_SCHEME, name, d.digest) < 0)
		r = den_err_set(err, ENOMEM, "cannot pull the image");
out:
	registry_doc_free(&d);
	return r;
}

int docker_image_fetch(const char *home, const char *ref_text, bool progress, char **layout,
		       char **origin, struct den_err *err)
{
	struct registry_ref ref;
	struct fetch f = { .home = home, .progress = progress };
	cleanup_free char *dir = NULL;
	int r;

	*layout = *origin = NULL;
	if (registry_ref_parse(ref_text, &ref, err) < 0)
		return -1;
	dir = store_tmp_dir(home, "image", err);
	if (dir == NULL)
		return -1;
	f.layout = dir;
	if (registry_open(&ref, false, &f.c, err) < 0) {
		den_rm_rf(dir, &(struct den_err){ 0 });
		return -1;
	}
	den_info("pulling %s/%s from its registry", ref.host, ref.repository);
	r = pull(&f, &ref, origin, err);
	registry_close(f.c);
	if (r < 0) {
		den_rm_rf(dir, &(struct den_err){ 0 });
		free(*origin);
		*origin = NULL;
		return den_err_wrap(err, "image %s", ref_text);
	}
	*layout = steal_pointer(&dir);
	return 0;
}
