/* SPDX-License-Identifier: MIT */
/*
 * Reading an image's index, manifest and config (OCI image layout or
 * docker-archive), each blob checked against the digest that names it.
 */
#include "boxes/image.h"
#include "core/cleanup.h"
#include "core/digest.h"
#include "core/fsutil.h"
#include "core/lazylib.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define JSON_BLOB_MAX (4u << 20)
#define NEST_MAX 4 /* an index of indexes of ... manifests */

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REF_NAME "org.opencontainers.image.ref.name"

static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
};

/* "sha256:" and 64 lower-case hex digits: the only digests den takes. */
static bool digest_valid(const char *d)
{
	if (d == NULL || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
		return false;
	for (const char *s = d + 7; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
			return false;
	return true;
}

int image_open_below(int dirfd, const char *file)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };

	return (int)syscall(SYS_openat2, dirfd, file, &how, sizeof(how));
}

/*
 * A JSON file of the image: parsed, and its digest checked against want
 * ("sha256:HEX", or NULL for none) and put in got (may be NULL).
 */
static json_t *read_json(int dirfd, const char *file, const char *want, json_int_t size,
			 char got[DIGEST_HEX_MAX], struct den_err *err)
{
	cleanup_close int fd = image_open_below(dirfd, file);
	cleanup_free char *text = NULL;
	char hex[DIGEST_HEX_MAX];
	struct digest *d;
	json_error_t jerr;
	size_t len = 0;
	json_t *j;

	if (fd < 0) {
		den_err_set(err, errno, "the image has no %s, or it leads outside the image", file);
		return NULL;
	}
	if (den_read_fd(fd, file, JSON_BLOB_MAX, &text, &len, err) < 0)
		return NULL;
	d = digest_new(DIGEST_SHA256);
	if (d == NULL) {
		den_err_set(err, ENOMEM, "cannot read %s", file);
		return NULL;
	}
	digest_update(d, text, len);
	digest_final_hex(d, hex);
	digest_free(d);
	if (want != NULL && strcmp(want + 7, hex) != 0) {
		den_err_set(err, 0, "refused: %s does not match its digest (%s, but %s was named)",
			    file, hex, want);
		return NULL;
	}
	if (size >= 0 && (size_t)size != len) {
		den_err_set(err, 0, "refused: %s is %zu bytes, but its descriptor says %lld", file,
			    len, (long long)size);
		return NULL;
	}
	if (got != NULL)
		memcpy(got, hex, sizeof(hex));
	j = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(j) && !json_is_array(j)) {
		json_decref(j);
		den_err_set(err, 0, "%s is not JSON: %s", file, jerr.text);
		return NULL;
	}
	return j;
}

/* The blob a descriptor names, read and checked. */
static json_t *read_blob(int dirfd, json_t *desc, const char *what, struct den_err *err)
{
	const char *digest = json_string_value(json_object_get(desc, "digest"));
	json_t *size = json_object_get(desc, "size");
	char file[128];

	if (!digest_valid(digest)) {
		den_err_set(err, 0, "refused: the %s's digest is not sha256:HEX (%.80s)", what,
			    digest ? digest : "none");
		return NULL;
	}
	snprintf(file, sizeof(file), "blobs/sha256/%s", digest + 7);
	return read_json(dirfd, file, digest, json_is_integer(size) ? json_integer_value(size) : -1,
			 NULL, err);
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* An index entry's or image's platform is linux/amd64 (or says none). */
static bool for_amd64(json_t *platform)
{
	const char *arch = str(platform, "architecture"), *os = str(platform, "os");

	return (arch == NULL || strcmp(arch, "amd64") == 0) &&
	       (os == NULL || strcmp(os, "linux") == 0);
}

/* A reference ("localhost/app:1.0", or a bare "1.0") carries tag. */
static bool tag_matches(const char *name, const char *tag)
{
	size_t n = name ? strlen(name) : 0, t = strlen(tag);

	return name != NULL && (strcmp(name, tag) == 0 || (n > t && name[n - t - 1] == ':' &&
							   strcmp(name + n - t, tag) == 0));
}

static bool has_tag(json_t *desc, const char *tag)
{
	return tag_matches(str(json_object_get(desc, "annotations"), REF_NAME), tag);
}

/* The one manifest of an index for this host (or the tag): refused when it is not one. */
static json_t *pick(json_t *manifests, const char *tag, bool top, struct den_err *err)
{
	json_t *desc, *found = NULL;
	size_t i, n = 0;

	json_array_foreach(manifests, i, desc)
	{
		if (!json_is_object(desc))
			continue;
		if (top && tag != NULL ? !has_tag(desc, tag)
				       : !for_amd64(json_object_get(desc, "platform")))
			continue;
		found = found ? found : desc;
		n++;
	}
	if (n == 1)
		return found;
	if (n == 0 && tag != NULL)
		den_err_set(err, 0, "the image has no manifest tagged '%s'", tag);
	else if (n == 0)
		den_err_set(err, 0, "the image has no manifest for linux/amd64");
	else
		den_err_set(err, 0,
			    "the image holds %zu images for linux/amd64; name one: oci:PATH:TAG",
			    n);
	return NULL;
}

static int take_layers(struct image *img, json_t *layers, json_t *diff_ids, bool oci,
		       struct den_err *err)
{
	size_t n = json_array_size(layers);

	if (!json_is_array(layers) || !json_is_array(diff_ids) || json_array_size(diff_ids) != n)
		return den_err_set(
			err, 0, "refused: the image lists %zu layers, but its config %zu diff_ids",
			n, json_array_size(diff_ids));
	img->layers = calloc(n ? n : 1, sizeof(*img->layers));
	if (img->layers == NULL)
		return den_err_set(err, ENOMEM, "cannot read the image");
	img->n_layers = n;
	for (size_t i = 0; i < n; i++) {
		struct image_layer *l = &img->layers[i];
		json_t *desc = json_array_get(layers, i);
		const char *diff = json_string_value(json_array_get(diff_ids, i));
		char file[128];

		if (!digest_valid(diff))
			return den_err_set(err, 0, "refused: layer %zu's diff_id is not sha256:HEX",
					   i + 1);
		l->diff_id = strdup(diff);
		if (oci) {
			const char *type = str(desc, "mediaType"), *digest = str(desc, "digest");
			bool known = false;
			for (size_t k = 0; type && k < sizeof(layer_types) / sizeof(*layer_types);
			     k++)
				known |= strcmp(type, layer_types[k]) == 0;
			if (!known)
				return den_err_set(
					err, 0,
					"refused: layer %zu is of type %.100s, which den "
					"cannot apply (foreign and nondistributable "
					"layers are not in the image)",
					i + 1, type ? type : "(none)");
			if (!digest_valid(digest))
				return den_err_set(err, 0,
						   "refused: layer %zu's digest is not sha256:HEX",
						   i + 1);
			snprintf(file, sizeof(file), "blobs/sha256/%s", digest + 7);
			l->digest = strdup(digest);
			l->file = strdup(file);
		} else {
			l->file = json_is_string(desc) ? strdup(json_string_value(desc)) : NULL;
		}
		if (l->diff_id == NULL || l->file == NULL || (oci && l->digest == NULL))
			return den_err_set(err, oci ? ENOMEM : 0,
					   "cannot read layer %zu of the image", i + 1);
	}
	return 0;
}

/* The config: kept, its platform checked, its diff_ids the layers' checks. */
static int take_config(struct image *img, json_t *config, struct den_err *err)
{
	const char *arch = str(config, "architecture");

	if (!json_is_object(config))
		return den_err_set(err, 0, "refused: the image's config is not a JSON object");
	if (!for_amd64(config))
		return den_err_set(err, 0,
				   "the image is for %s/%s; den's container provider runs "
				   "linux/amd64 images",
				   str(config, "os") ? str(config, "os") : "?", arch ? arch : "?");
	img->config = json_incref(config);
	return 0;
}

static int open_oci(int dirfd, const char *tag, struct image *img, struct den_err *err)
{
	json_t *index = read_json(dirfd, "index.json", NULL, -1, NULL, err), *manifest = NULL,
	       *config = NULL, *desc, *nested = NULL;
	int rc = -1;

	if (index == NULL)
		return -1;
	desc = pick(json_object_get(index, "manifests"), tag, true, err);
	if (desc != NULL && str(json_object_get(desc, "annotations"), REF_NAME) != NULL)
		img->reference = strdup(str(json_object_get(desc, "annotations"), REF_NAME));
	/* An index in the index (a multi-architecture image): amd64's manifest. */
	for (int depth = 0; desc != NULL; depth++) {
		const char *type = str(desc, "mediaType");
		if (type == NULL ||
		    (strcmp(type, MT_OCI_INDEX) != 0 && strcmp(type, MT_DOCKER_LIST) != 0))
			break;
		if (depth == NEST_MAX) {
			den_err_set(err, 0, "refused: the image's indexes nest too deep");
			goto out;
		}
		json_decref(nested);
		nested = read_blob(dirfd, desc, "index", err);
		desc = nested ? pick(json_object_get(nested, "manifests"), NULL, false, err) : NULL;
	}
	if (desc == NULL)
		goto out;
	const char *type = str(desc, "mediaType");
	if (type != NULL && strcmp(type, MT_OCI_MANIFEST) != 0 &&
	    strcmp(type, MT_DOCKER_MANIFEST) != 0) {
		den_err_set(err, 0, "refused: the image's manifest is of type %.100s", type);
		goto out;
	}
	manifest = read_blob(dirfd, desc, "manifest", err);
	if (manifest == NULL)
		goto out;
	img->manifest = strdup(str(desc, "digest"));
	json_t *cdesc = json_object_get(manifest, "config");
	config = read_blob(dirfd, cdesc, "config", err);
	if (config == NULL || take_config(img, config, err) < 0)
		goto out;
	img->id = strdup(str(cdesc, "digest"));
	if (img->id == NULL || img->manifest == NULL) {
		den_err_set(err, ENOMEM, "cannot read the image");
		goto out;
	}
	rc = take_layers(img, json_object_get(manifest, "layers"),
			 json_object_get(json_object_get(config, "rootfs"), "diff_ids"), true, err);
out:
	json_decref(index);
	json_decref(nested);
	json_decref(manifest);
	json_decref(config);
	return rc;
}

/* A docker-archive's config name holds its digest ("HEX.json", "blobs/sha256/HEX"): it must agree. */
static int check_config_name(const char *file, const char *hex, struct den_err *err)
{
	const char *base = strrchr(file, '/');
	size_t n;

	base = base ? base + 1 : file;
	n = strspn(base, "0123456789abcdef");
	if (n == 64 && (base[64] == '\0' || strcmp(base + 64, ".json") == 0) &&
	    strncmp(base, hex, 64) != 0)
		return den_err_set(err, 0, "refused: %s does not match its digest (%s)", file, hex);
	return 0;
}

static int open_docker(int dirfd, const char *tag, struct image *img, struct den_err *err)
{
	json_t *list = read_json(dirfd, "manifest.json", NULL, -1, NULL, err), *entry = NULL,
	       *config = NULL, *e;
	char hex[DIGEST_HEX_MAX];
	size_t i, n = 0;
	int rc = -1;

	if (list == NULL)
		return -1;
	json_array_foreach(list, i, e)
	{
		json_t *t;
		size_t k;
		bool match = tag == NULL;
		json_array_foreach(json_object_get(e, "RepoTags"), k, t) match |=
			tag != NULL && tag_matches(json_string_value(t), tag);
		if (match && json_is_object(e))
			entry = entry ? entry : e, n++;
	}
	if (n != 1) {
		den_err_set(err, 0,
			    n == 0 ? "the docker-archive has no image%s%s"
				   : "the docker-archive holds several images%s%s; save one",
			    tag ? " tagged " : "", tag ? tag : "");
		goto out;
	}
	const char *file = str(entry, "Config");
	if (file == NULL) {
		den_err_set(err, 0, "refused: manifest.json names no config");
		goto out;
	}
	config = read_json(dirfd, file, NULL, -1, hex, err);
	if (config == NULL || check_config_name(file, hex, err) < 0 ||
	    take_config(img, config, err) < 0)
		goto out;
	if (asprintf(&img->id, "sha256:%s", hex) < 0) {
		img->id = NULL;
		den_err_set(err, ENOMEM, "cannot read the image");
		goto out;
	}
	const char *ref = json_string_value(json_array_get(json_object_get(entry, "RepoTags"), 0));
	img->reference = ref ? strdup(ref) : NULL;
	rc = take_layers(img, json_object_get(entry, "Layers"),
			 json_object_get(json_object_get(config, "rootfs"), "diff_ids"), false,
			 err);
out:
	json_decref(list);
	json_decref(config);
	return rc;
}

int image_open(int dirfd, enum image_format f, const char *tag, struct image *img,
	       struct den_err *err)
{
	int rc;

	memset(img, 0, sizeof(*img));
	if (den_crypto_load(err) < 0)
		return -1;
	rc = f == IMAGE_DOCKER_ARCHIVE ? open_docker(dirfd, tag, img, err)
				       : open_oci(dirfd, tag, img, err);
	if (rc < 0)
		image_free(img);
	return rc;
}

void image_free(struct image *img)
{
	for (size_t i = 0; i < img->n_layers; i++) {
		free(img->layers[i].file);
		free(img->layers[i].digest);
		free(img->layers[i].diff_id);
	}
	free(img->layers);
	free(img->reference);
	free(img->id);
	free(img->manifest);
	free(img->lxd_unified);
	free(img->lxd_rootfs);
	json_decref(img->config);
	memset(img, 0, sizeof(*img));
}
