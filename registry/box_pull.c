/* SPDX-License-Identifier: MIT */
/*
 * `den box add oci://REF` and box_url: oci://HOST/REPO (registry/box.h):
 * the tag (or the newest version tag a constraint allows), the index's
 * box for the provider and this host's architecture, its config and
 * layers, each blob checked against its digest as it lands in
 * $DEN_HOME/cache/blobs (where a cut download resumes), then the box
 * made whole in $DEN_HOME/tmp and moved into the store.
 */
#include "boxes/catalog.h"
#include "boxes/unpack.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/version.h"
#include "registry/box-internal.h"
#include "registry/box.h"
#include "registry/client.h"
#include "registry/layer_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CONFIG_MAX (1u << 20)
#define LAYERS_MAX 64

bool oci_box_is_ref(const char *s)
{
	return s != NULL && strncmp(s, OCI_BOX_SCHEME, strlen(OCI_BOX_SCHEME)) == 0;
}

struct pull {
	const struct oci_pull_opts *o;
	struct registry_ref ref;
	struct registry_client *c;
	char tag[129]; /* the tag pulled, or "" (by digest) */
	struct registry_doc manifest;
	json_t *m; /* the box's manifest, parsed */
};

/* The newest tag that is a version the constraint allows; "latest" when no tag is a version. */
static int pick_tag(struct pull *p, struct den_err *err)
{
	struct den_constraints c = { 0 };
	struct den_version best = { 0 }, v;
	const char *why;
	char **tags = NULL;
	size_t n = 0;
	bool any_version = false;

	if (p->o->constraint != NULL && den_constraints_parse(p->o->constraint, &c, &why) < 0)
		return den_err_usage(err, "'%s' is not a version constraint: %s", p->o->constraint,
				     why);
	if (registry_list_tags(p->c, &tags, &n, err) < 0)
		return -1;
	p->tag[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (den_version_parse(tags[i], &v, &why) == 0) {
			any_version = true;
			if ((p->o->constraint == NULL || den_constraints_match(&c, &v)) &&
			    (p->tag[0] == '\0' || den_version_cmp(&v, &best) > 0)) {
				best = v;
				snprintf(p->tag, sizeof(p->tag), "%s", tags[i]);
			}
		}
		free(tags[i]);
	}
	free(tags);
	if (p->tag[0] != '\0')
		return 0;
	if (!any_version && p->o->constraint == NULL) {
		snprintf(p->tag, sizeof(p->tag), "latest");
		return 0;
	}
	return den_err_set(err, 0, "registry %s has no tag that is a version%s%s",
			   registry_name(p->c), p->o->constraint ? " allowed by " : "",
			   p->o->constraint ? p->o->constraint : "");
}

static const char *ann(json_t *j, const char *key)
{
	return json_string_value(json_object_get(json_object_get(j, "annotations"), key));
}

static int not_a_box(const struct pull *p, struct den_err *err)
{
	return den_err_set(err, 0,
			   "%s/%s is not a den box (a container image?); a container image "
			   "is added as docker://%s/%s",
			   p->ref.host, p->ref.repository, p->ref.host, p->ref.repository);
}

/* From an index, the box for the provider and architecture asked: its manifest's digest. */
static int pick_entry(struct pull *p, json_t *idx, char *digest, size_t n, struct den_err *err)
{
	const char *want_arch = p->o->arch ? p->o->arch : box_host_arch();
	char offered[512] = "";
	json_t *m, *found = NULL;
	size_t i, boxes = 0, matches = 0;

	for (int pass = 0; pass < 2 && found == NULL; pass++) {
		const char *arch = pass == 0 ? want_arch : "unknown";
		json_array_foreach(json_object_get(idx, "manifests"), i, m)
		{
			const char *prov = ann(m, ANN_PROVIDER);
			const char *a = json_string_value(
				json_object_get(json_object_get(m, "platform"), "architecture"));
			if (prov == NULL || a == NULL || !box_part_valid(prov) ||
			    !box_part_valid(a))
				continue;
			if (pass == 0) {
				boxes++;
				size_t len = strlen(offered);
				snprintf(offered + len, sizeof(offered) - len, "%s%s (%s)",
					 len ? ", " : "", prov, a);
			}
			if (strcmp(a, arch) != 0 ||
			    (p->o->provider != NULL && strcmp(prov, p->o->provider) != 0))
				continue;
			matches++;
			found = found ? found : m;
		}
		if (p->o->provider == NULL && matches > 1)
			return den_err_usage(err,
					     "%s holds boxes for %s: say which with --provider",
					     registry_name(p->c), offered);
	}
	if (boxes == 0)
		return not_a_box(p, err);
	if (found == NULL)
		return den_err_set(err, 0, "%s:%s has no box for %s%s%s; it holds %s",
				   registry_name(p->c), p->tag,
				   p->o->provider ? p->o->provider : "",
				   p->o->provider ? " on " : "", want_arch, offered);
	snprintf(digest, n, "%s", json_string_value(json_object_get(found, "digest")));
	if (!registry_digest_valid(digest))
		return den_err_set(err, 0, "%s: the index names a box by '%s', not a sha256 digest",
				   registry_name(p->c), digest);
	return 0;
}

/* The box's own manifest: the reference's, or the index's entry for this host. */
static int fetch_manifest(struct pull *p, struct den_err *err)
{
	const char *reference = p->ref.digest[0] ? p->ref.digest : p->tag;
	if (registry_need_manifest(p->c, reference, false, &p->manifest, err) < 0)
		return -1;
	p->m = json_loadb(p->manifest.data, p->manifest.len, 0, NULL);
	if (!json_is_object(p->m))
		return den_err_set(err, 0, "registry %s: %s is not JSON", registry_name(p->c),
				   reference);
	if (registry_doc_is_index(&p->manifest)) {
		char digest[80];
		if (pick_entry(p, p->m, digest, sizeof(digest), err) < 0)
			return -1;
		json_decref(p->m);
		p->m = NULL;
		registry_doc_free(&p->manifest);
		if (registry_need_manifest(p->c, digest, true, &p->manifest, err) < 0)
			return -1;
		p->m = json_loadb(p->manifest.data, p->manifest.len, 0, NULL);
	}
	const char *cmt =
		json_string_value(json_object_get(json_object_get(p->m, "config"), "mediaType"));
	if (cmt == NULL || strcmp(cmt, MT_BOX_CONFIG) != 0)
		return not_a_box(p, err);
	return 0;
}

/* A layer's file name: a plain name, not one of den's own, once. */
static bool title_ok(const char *t, json_t *seen)
{
	return t != NULL && t[0] != '.' && strlen(t) < 256 &&
	       strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
		       strlen(t) &&
	       strcmp(t, "metadata.json") != 0 && strcmp(t, "box.json") != 0 &&
	       strcmp(t, LAYERS_RECORD) != 0 && strcmp(t, "rootfs") != 0 &&
	       json_object_get(seen, t) == NULL;
}

/*
 * A zstd box file: decompressed into dst as it downloads into blob (the
 * cache), kept only once the blob's digest matched; unpacked from the file
 * instead when the download had to start over.
 */
static int fetch_zstd(struct pull *p, const char *digest, uint64_t size, const char *blob,
		      const char *dst, const char *label, uint64_t *left, struct den_err *err)
{
	struct layer_stream s;
	struct registry_tee tee = { layer_stream_data, layer_stream_restart, &s };
	uint64_t used = 0;
	int r, done;

	if (layer_stream_start(&s, dst, *left, err) < 0)
		return -1;
	struct registry_blob_dst bd = { blob, NULL, label, p->o->progress, &tee };
	r = registry_get_blob_file(p->c, digest, size, &bd, err);
	done = layer_stream_finish(&s, &used, r < 0 ? &(struct den_err){ 0 } : err);
	if (r < 0 || done < 0) {
		unlink(dst);
		return -1;
	}
	if (done == 1 && unpack_blob_file(blob, dst, *left, &used, err) < 0)
		return -1;
	unlink(blob);
	*left -= used;
	return 0;
}

/* One layer into tmp: downloaded into the cache through its digest, then placed. */
static int fetch_layer(struct pull *p, json_t *l, const char *tmp, json_t *seen, uint64_t *left,
		       struct den_err *err)
{
	const char *mt = json_string_value(json_object_get(l, "mediaType"));
	const char *digest = json_string_value(json_object_get(l, "digest"));
	const char *title = ann(l, ANN_TITLE);
	json_int_t size = json_integer_value(json_object_get(l, "size"));
	cleanup_free char *cache = NULL, *blob = NULL, *dst = NULL;
	char label[512], shown[128];

	if (mt == NULL || digest == NULL || !registry_digest_valid(digest) || size < 0 ||
	    !title_ok(title, seen))
		return den_err_set(err, 0,
				   "refused: the box's manifest names a layer '%s' den cannot "
				   "place (its name, digest or size)",
				   registry_shown(title, shown, sizeof(shown)));
	bool rootfs = strcmp(mt, MT_BOX_ROOTFS_ZSTD) == 0;
	if (!rootfs && strcmp(mt, MT_BOX_FILE_ZSTD) != 0 && strcmp(mt, MT_BOX_FILE) != 0)
		return den_err_set(err, 0,
				   "refused: layer %s has media type %s, which den does not read",
				   title, registry_shown(mt, shown, sizeof(shown)));
	if (rootfs && strcmp(title, "rootfs.tar") != 0)
		return den_err_set(err, 0, "refused: a root file system layer named %s", title);
	if ((uint64_t)size > *left)
		return den_err_set(err, 0, "refused: the box is larger than DEN_BOX_MAX_SIZE");
	json_object_set_new(seen, title, json_true());
	if (asprintf(&cache, "%s/cache/blobs", p->o->home) < 0 ||
	    den_mkdir_p(cache, 0755, err) < 0 || asprintf(&blob, "%s/%s", cache, digest + 7) < 0 ||
	    asprintf(&dst, "%s/%s", tmp, title) < 0)
		return den_err_is_set(err) ? -1 : den_err_set(err, ENOMEM, "cannot pull %s", title);
	snprintf(label, sizeof(label), "%s", title);
	if (strcmp(mt, MT_BOX_FILE_ZSTD) == 0)
		return fetch_zstd(p, digest, (uint64_t)size, blob, dst, label, left, err) < 0
			       ? den_err_wrap(err, "layer %s", title)
			       : 0;
	/* rootfs.tar stays compressed: the store unpacks it, any compression. */
	struct registry_blob_dst bd = { blob, dst, label, p->o->progress, NULL };
	if (registry_get_blob_file(p->c, digest, (uint64_t)size, &bd, err) < 0)
		return den_err_wrap(err, "layer %s", title);
	*left -= (uint64_t)size;
	return 0;
}

static int fetch_box(struct pull *p, const char *tmp, struct den_err *err)
{
	json_t *config = json_object_get(p->m, "config"), *layers = json_object_get(p->m, "layers");
	json_t *seen = json_object(), *l;
	const char *digest = json_string_value(json_object_get(config, "digest"));
	json_int_t size = json_integer_value(json_object_get(config, "size"));
	cleanup_free char *meta = NULL, *path = NULL;
	uint64_t left;
	size_t i;
	int r = -1;

	if (seen == NULL || unpack_max_bytes(&left, err) < 0)
		goto out;
	if (digest == NULL || size <= 0 || size > (json_int_t)CONFIG_MAX) {
		den_err_set(err, 0,
			    "refused: the box's metadata (its config) is missing or larger "
			    "than 1 MiB");
		goto out;
	}
	if (!json_is_array(layers) || json_array_size(layers) == 0 ||
	    json_array_size(layers) > LAYERS_MAX) {
		den_err_set(err, 0, "refused: a box has 1 to %d files, this one %zu", LAYERS_MAX,
			    json_array_size(layers));
		goto out;
	}
	if (registry_get_blob_mem(p->c, digest, (uint64_t)size, &meta, err) < 0 ||
	    asprintf(&path, "%s/metadata.json", tmp) < 0 ||
	    den_write_file_atomic(path, meta, 0644, err) < 0)
		goto out;
	json_array_foreach(layers, i, l)
	{
		if (fetch_layer(p, l, tmp, seen, &left, err) < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(seen);
	return r;
}

/* The box's name, version, provider and architecture, from its manifest and the options. */
static int identify(struct pull *p, struct box_id *id, struct den_err *err)
{
	struct den_constraints c = { 0 };
	struct den_version v;
	const char *why;

	id->name = p->o->name ? p->o->name : ann(p->m, ANN_NAME);
	id->version = ann(p->m, ANN_VERSION);
	id->provider = ann(p->m, ANN_PROVIDER);
	id->arch = ann(p->m, ANN_ARCH);
	if (id->name == NULL || !box_name_valid(id->name) || id->version == NULL ||
	    !box_part_valid(id->version) || den_version_parse(id->version, &v, &why) < 0 ||
	    id->provider == NULL || !box_part_valid(id->provider) || id->arch == NULL ||
	    !box_part_valid(id->arch))
		return den_err_set(err, 0,
				   "refused: %s's manifest does not name its box, version, "
				   "provider and architecture as den does",
				   registry_name(p->c));
	if (p->o->provider != NULL && strcmp(p->o->provider, id->provider) != 0)
		return den_err_set(err, 0, "%s is a box for provider %s, not %s",
				   registry_name(p->c), id->provider, p->o->provider);
	if (p->o->constraint != NULL && (den_constraints_parse(p->o->constraint, &c, &why) < 0 ||
					 !den_constraints_match(&c, &v)))
		return den_err_set(err, 0, "%s is box version %s, which '%s' does not allow",
				   registry_name(p->c), id->version, p->o->constraint);
	if (p->o->checksum != NULL && strcasecmp(p->o->checksum, p->manifest.digest + 7) != 0)
		return den_err_set(err, 0,
				   "%s now holds manifest %s, not the sha256:%s Envfile.lock "
				   "names",
				   registry_name(p->c), p->manifest.digest, p->o->checksum);
	return 0;
}

static int pull(struct pull *p, struct store_entry *out, struct den_err *err)
{
	struct box_id id;
	cleanup_free char *url = NULL, *tmp = NULL;
	cleanup_close int lock = -1;
	int r;

	if (p->ref.digest[0] == '\0' && !p->ref.tagged) {
		if (pick_tag(p, err) < 0)
			return -1;
	} else if (p->ref.tagged) {
		snprintf(p->tag, sizeof(p->tag), "%s", p->ref.tag);
	}
	if (fetch_manifest(p, err) < 0 || identify(p, &id, err) < 0)
		return -1;
	if (asprintf(&url, "%s%s/%s%s%s@%s", OCI_BOX_SCHEME, p->ref.host, p->ref.repository,
		     p->tag[0] ? ":" : "", p->tag, p->manifest.digest) < 0)
		return den_err_set(err, ENOMEM, "cannot pull %s", p->o->ref);
	struct box_origin origin = { url, p->manifest.digest + 7, "sha256" };
	if (store_lock(p->o->home, id.name, &lock, err) < 0)
		return -1;
	if (!p->o->force) {
		r = store_find(p->o->home, &id, out, err);
		if (r != 0)
			return r;
	}
	den_info("pulling %s %s (%s) from %s", id.name, id.version, id.provider, url + 6);
	tmp = store_tmp_dir(p->o->home, "pull", err);
	if (tmp == NULL)
		return -1;
	if (fetch_box(p, tmp, err) < 0) {
		den_rm_rf(tmp, &(struct den_err){ 0 });
		return -1;
	}
	r = store_install_unpacked(p->o->home, &id, steal_pointer(&tmp), &origin, p->o->force, out,
				   err);
	if (r >= 0) {
		char repo[520];
		struct den_err ignored = { 0 };
		snprintf(repo, sizeof(repo), "%s/%s", p->ref.host, p->ref.repository);
		oci_layers_write(out->dir, json_object_get(p->m, "layers"), repo, &ignored);
	}
	return r;
}

char *oci_box_peek_version(const char *ref, const char *constraint, struct den_err *err)
{
	struct oci_pull_opts o = { .ref = ref, .constraint = constraint };
	struct pull p = { .o = &o };
	const char *reference, *version = NULL;
	char *out = NULL;
	json_t *j = NULL;

	if (registry_ref_parse(ref, &p.ref, err) < 0 || registry_open(&p.ref, false, &p.c, err) < 0)
		return NULL;
	if (p.ref.digest[0] == '\0' && !p.ref.tagged) {
		/* A tagless repository: its tags are the versions. */
		if (pick_tag(&p, err) == 0)
			out = strdup(p.tag);
		goto out;
	}
	reference = p.ref.digest[0] ? p.ref.digest : p.ref.tag;
	if (registry_get_manifest(p.c, reference, &p.manifest, err) != 0)
		goto out;
	j = json_loadb(p.manifest.data, p.manifest.len, 0, NULL);
	version = ann(j, ANN_VERSION);
	out = version ? strdup(version) : NULL;
	if (version == NULL)
		not_a_box(&p, err);
out:
	json_decref(j);
	registry_doc_free(&p.manifest);
	registry_close(p.c);
	return out;
}

int oci_box_pull(const struct oci_pull_opts *o, struct store_entry *out, struct den_err *err)
{
	struct pull p = { .o = o };
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (registry_ref_parse(o->ref, &p.ref, err) < 0)
		return -1;
	if (registry_open(&p.ref, false, &p.c, err) < 0)
		return -1;
	r = pull(&p, out, err);
	if (r < 0)
		den_err_wrap(err, "box from %s", registry_name(p.c));
	registry_close(p.c);
	registry_doc_free(&p.manifest);
	json_decref(p.m);
	return r;
}
