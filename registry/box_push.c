/* SPDX-License-Identifier: MIT */
/*
 * `den box push BOX REF` (registry/box.h): each box of the version, one
 * per provider and architecture, as an image manifest; then the index at
 * the tag, keeping what the tag's index had for other providers of the
 * same box and version (so CI can push its container and VM boxes apart).
 */
#include "boxes/pack.h"
#include "core/cleanup.h"
#include "core/digest.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "registry/box-internal.h"
#include "registry/box.h"
#include "registry/client.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define METADATA_MAX (1u << 20)

struct push {
	const struct oci_push_opts *o;
	struct registry_client *c;
	struct oci_pushed *out;
	const char *repo_name; /* HOST/REPO */
};

static void sha256_hex(const void *data, size_t len, char hex[DIGEST_HEX_MAX])
{
	struct digest *d = digest_new(DIGEST_SHA256);

	hex[0] = '\0';
	if (d != NULL) {
		digest_update(d, data, len);
		digest_final_hex(d, hex);
		digest_free(d);
	}
}

static void count(struct push *p, int r)
{
	if (r == 1)
		p->out->there++;
	else if (r == 2)
		p->out->mounted++;
	else if (r == 0)
		p->out->sent++;
}

/* The repository of "HOST/REPO" when HOST is the registry being pushed to, else NULL. */
static const char *same_registry(const struct push *p, const char *host_repo)
{
	size_t hl = strcspn(p->repo_name, "/");

	if (strncmp(host_repo, p->repo_name, hl + 1) != 0)
		return NULL;
	return host_repo + hl + 1;
}

/* A repository of this registry the record says has the box's blobs, or NULL. */
static const char *mount_source(const struct push *p, json_t *record)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(record, "repositories"), i, r)
	{
		const char *from =
			json_is_string(r) ? same_registry(p, json_string_value(r)) : NULL;
		if (from != NULL &&
		    strcmp(from, p->repo_name + strcspn(p->repo_name, "/") + 1) != 0)
			return from;
	}
	return NULL;
}

/*
 * The blobs the record names, made present without their bytes: there
 * already, or mounted from a repository the record says has them. false
 * when one needs its bytes (or the record is unusable).
 */
static bool from_record(struct push *p, json_t *record, struct den_err *err)
{
	json_t *layers = json_object_get(record, "layers"), *repos, *l, *r;
	size_t i, j;

	repos = json_object_get(record, "repositories");
	json_array_foreach(layers, i, l)
	{
		const char *digest = json_string_value(json_object_get(l, "digest"));
		int got = 3;
		if (digest == NULL || !registry_digest_valid(digest))
			return false;
		json_array_foreach(repos, j, r)
		{
			const char *from =
				same_registry(p, json_string_value(r) ? json_string_value(r) : "");
			struct den_err e = { 0 };
			got = registry_put_blob(p->c, digest, NULL, 0, from, digest, false, &e);
			if (got < 0) {
				*err = e;
				return false;
			}
			if (got != 3)
				break;
		}
		if (got == 3)
			return false;
		count(p, got);
	}
	return json_array_size(layers) > 0;
}

/* One layer: packed into tmp, uploaded, described in layers. */
static int pack_and_send(struct push *p, const struct store_entry *e, const char *tmp,
			 const char *name, bool tree, json_t *layers, struct den_err *err)
{
	cleanup_free char *in = NULL, *blob = NULL;
	char digest[DIGEST_HEX_MAX + 8], label[512];
	struct pack_blob b;
	int r;

	if (asprintf(&in, "%s/%s", e->dir, tree ? "rootfs" : name) < 0 ||
	    asprintf(&blob, "%s/%s.blob", tmp, name) < 0)
		return den_err_set(err, ENOMEM, "cannot push %s", e->name);
	snprintf(label, sizeof(label), "%s %s %s: %s", e->name, e->version, e->provider, name);
	den_info("packing %s", label);
	if ((tree ? pack_blob_tree(in, blob, &b, err) : pack_blob_file(in, blob, &b, err)) < 0)
		return den_err_wrap(err, "cannot push %s", label);
	snprintf(digest, sizeof(digest), "sha256:%.64s", b.hex);
	r = registry_put_blob(p->c, digest, blob, b.size, NULL, label, p->o->progress, err);
	unlink(blob);
	if (r < 0)
		return -1;
	count(p, r);
	if (json_array_append_new(layers, json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType",
						    tree ? MT_BOX_ROOTFS_ZSTD : MT_BOX_FILE_ZSTD,
						    "digest", digest, "size", (json_int_t)b.size,
						    "annotations", ANN_TITLE, name)) < 0)
		return den_err_set(err, ENOMEM, "cannot push %s", e->name);
	return 0;
}

/* Whether a name in the box folder is a box file (not den's own records). */
static bool box_file(const char *name)
{
	return name[0] != '.' && strcmp(name, "box.json") != 0 &&
	       strcmp(name, "metadata.json") != 0 && strcmp(name, LAYERS_RECORD) != 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every box file packed and sent; the record of them written. */
static json_t *pack_all(struct push *p, const struct store_entry *e, struct den_err *err)
{
	cleanup_free char *tmp = store_tmp_dir(p->o->home, "push", err);
	struct dirent **names = NULL;
	json_t *layers = json_array();
	int n, r = 0;

	if (tmp == NULL || layers == NULL) {
		json_decref(layers);
		return NULL;
	}
	n = scandir(e->dir, &names, NULL, by_name);
	if (n < 0)
		r = den_err_set(err, errno, "cannot read %s", e->dir);
	for (int i = 0; i < n; i++) {
		struct stat st;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", e->dir, names[i]->d_name);
		bool rootfs = strcmp(names[i]->d_name, "rootfs") == 0;
		if (r == 0 && box_file(names[i]->d_name) && lstat(path, &st) == 0 &&
		    (S_ISREG(st.st_mode) || (rootfs && S_ISDIR(st.st_mode))))
			r = pack_and_send(p, e, tmp, rootfs ? "rootfs.tar" : names[i]->d_name,
					  rootfs, layers, err);
		free(names[i]);
	}
	free(names);
	den_rm_rf(tmp, &(struct den_err){ 0 });
	if (r == 0 && json_array_size(layers) == 0)
		r = den_err_set(err, 0, "box %s %s (%s) has no files to push", e->name, e->version,
				e->provider);
	if (r < 0) {
		json_decref(layers);
		return NULL;
	}
	return layers;
}

/* One box: its blobs, its config, its manifest; *desc describes it for the index. */
static int push_box(struct push *p, const struct store_entry *e, json_t **desc, struct den_err *err)
{
	cleanup_free char *meta_path = NULL, *meta = NULL, *manifest = NULL;
	char hex[DIGEST_HEX_MAX], digest[DIGEST_HEX_MAX + 8], config_digest[DIGEST_HEX_MAX + 8];
	size_t meta_len = 0;
	json_t *record = oci_layers_read(e->dir), *layers = NULL, *m;
	int r = -1;

	if (asprintf(&meta_path, "%s/metadata.json", e->dir) < 0)
		return den_err_set(err, ENOMEM, "cannot push %s", e->name);
	if (den_read_file(meta_path, METADATA_MAX, &meta, &meta_len, err) < 0)
		goto out;
	sha256_hex(meta, meta_len, hex);
	snprintf(config_digest, sizeof(config_digest), "sha256:%.64s", hex);
	if ((r = registry_put_blob_mem(p->c, config_digest, meta, meta_len, mount_source(p, record),
				       err)) < 0)
		goto out;
	r = -1;
	if (record != NULL && from_record(p, record, err)) {
		layers = json_incref(json_object_get(record, "layers"));
	} else {
		if (den_err_is_set(err))
			goto out;
		layers = pack_all(p, e, err);
		if (layers == NULL)
			goto out;
	}
	if (oci_layers_write(e->dir, layers, p->repo_name, err) < 0)
		den_warn("%s", err->msg), den_err_clear(err); /* only a later push's shortcut */
	m = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:I}, s:O, s:{s:s, s:s, s:s, s:s}}",
		      "schemaVersion", 2, "mediaType", MT_MANIFEST, "artifactType", MT_BOX,
		      "config", "mediaType", MT_BOX_CONFIG, "digest", config_digest, "size",
		      (json_int_t)meta_len, "layers", layers, "annotations", ANN_NAME, e->name,
		      ANN_VERSION, e->version, ANN_PROVIDER, e->provider, ANN_ARCH, e->arch);
	manifest = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(m);
	if (manifest == NULL) {
		den_err_set(err, ENOMEM, "cannot push %s", e->name);
		goto out;
	}
	sha256_hex(manifest, strlen(manifest), hex);
	snprintf(digest, sizeof(digest), "sha256:%.64s", hex);
	if (registry_put_manifest(p->c, digest, MT_MANIFEST, manifest, strlen(manifest), err) < 0)
		goto out;
	*desc = json_pack("{s:s, s:s, s:I, s:s, s:{s:s, s:s}, s:{s:s}}", "mediaType", MT_MANIFEST,
			  "digest", digest, "size", (json_int_t)strlen(manifest), "artifactType",
			  MT_BOX, "platform", "architecture", e->arch, "os", "linux", "annotations",
			  ANN_PROVIDER, e->provider);
	r = *desc ? 0 : den_err_set(err, ENOMEM, "cannot push %s", e->name);
	p->out->boxes++;
	den_info("pushed %s %s (%s, %s) as %s", e->name, e->version, e->provider, e->arch, digest);
out:
	json_decref(record);
	json_decref(layers);
	return r;
}

/* What the tag's index has for this box and version, other providers and architectures. */
static json_t *kept_entries(struct push *p, const char *tag, const char *name, const char *version,
			    json_t *pushed, struct den_err *err)
{
	struct registry_doc d;
	json_t *kept = json_array(), *old, *m;
	size_t i, j;
	int r = registry_get_manifest(p->c, tag, &d, err);

	if (r != 0 || kept == NULL)
		return r < 0 ? (json_decref(kept), NULL) : kept;
	old = json_loadb(d.data, d.len, 0, NULL);
	registry_doc_free(&d);
	json_t *ann = json_object_get(old, "annotations");
	const char *n = json_string_value(json_object_get(ann, ANN_NAME));
	const char *v = json_string_value(json_object_get(ann, ANN_VERSION));
	if (n == NULL || v == NULL || strcmp(n, name) != 0 || strcmp(v, version) != 0) {
		json_decref(old);
		return kept; /* another box or version: replaced whole */
	}
	json_array_foreach(json_object_get(old, "manifests"), i, m)
	{
		const char *prov = json_string_value(
			json_object_get(json_object_get(m, "annotations"), ANN_PROVIDER));
		const char *arch = json_string_value(
			json_object_get(json_object_get(m, "platform"), "architecture"));
		bool replaced = prov == NULL || arch == NULL;
		json_t *q;
		json_array_foreach(pushed, j, q)
		{
			const char *qp = json_string_value(
				json_object_get(json_object_get(q, "annotations"), ANN_PROVIDER));
			const char *qa = json_string_value(
				json_object_get(json_object_get(q, "platform"), "architecture"));
			if (prov && arch && qp && qa && strcmp(prov, qp) == 0 &&
			    strcmp(arch, qa) == 0)
				replaced = true;
		}
		if (!replaced)
			json_array_append(kept, m);
	}
	json_decref(old);
	return kept;
}

static int push_index(struct push *p, const char *tag, const char *name, const char *version,
		      json_t *pushed, struct den_err *err)
{
	cleanup_free char *text = NULL;
	char hex[DIGEST_HEX_MAX];
	json_t *kept = kept_entries(p, tag, name, version, pushed, err), *idx;

	if (kept == NULL)
		return -1;
	json_array_extend(kept, pushed);
	idx = json_pack("{s:i, s:s, s:s, s:o, s:{s:s, s:s}}", "schemaVersion", 2, "mediaType",
			MT_INDEX, "artifactType", MT_BOX, "manifests", kept, "annotations",
			ANN_NAME, name, ANN_VERSION, version);
	text = idx ? json_dumps(idx, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(idx);
	if (text == NULL)
		return den_err_set(err, ENOMEM, "cannot push %s", name);
	if (registry_put_manifest(p->c, tag, MT_INDEX, text, strlen(text), err) < 0)
		return -1;
	sha256_hex(text, strlen(text), hex);
	snprintf(p->out->ref, sizeof(p->out->ref), "%s:%s@sha256:%s", p->repo_name, tag, hex);
	return 0;
}

/* The store's boxes to push: name, the version asked or the newest, the providers asked. */
static int pick(const struct oci_push_opts *o, struct store_entry **list, size_t *n, size_t *picked,
		struct den_err *err)
{
	const char *version = o->version;
	size_t k = 0;

	if (store_list(o->home, list, n, err) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		struct store_entry *e = &(*list)[i];
		if (strcmp(e->name, o->name) != 0)
			continue;
		if (version == NULL)
			version = e->version; /* sorted newest first */
		if (strcmp(e->version, version) != 0 ||
		    (o->provider != NULL && strcmp(e->provider, o->provider) != 0) ||
		    (o->arch != NULL && strcmp(e->arch, o->arch) != 0))
			continue;
		struct store_entry t = (*list)[k];
		(*list)[k++] = *e;
		*e = t;
	}
	*picked = k;
	if (k == 0)
		return den_err_set(err, 0, "no box %s%s%s%s%s in the store to push (den box list)",
				   o->name, o->version ? " " : "", o->version ? o->version : "",
				   o->provider ? " for provider " : "",
				   o->provider ? o->provider : "");
	return 0;
}

int oci_box_push(const struct oci_push_opts *o, struct oci_pushed *out, struct den_err *err)
{
	struct registry_ref ref;
	struct store_entry *list = NULL;
	size_t n = 0, picked = 0;
	struct push p = { .o = o, .out = out };
	json_t *pushed = json_array();
	char repo_name[520];
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (pushed == NULL)
		return den_err_set(err, ENOMEM, "cannot push %s", o->name);
	if (registry_ref_parse(o->ref, &ref, err) < 0)
		goto out;
	if (ref.digest[0] != '\0') {
		den_err_usage(err, "%s: push to a tag (HOST/REPO:TAG), not a digest", o->ref);
		goto out;
	}
	if (pick(o, &list, &n, &picked, err) < 0)
		goto out;
	const char *tag = ref.tagged ? ref.tag : list[0].version;
	snprintf(repo_name, sizeof(repo_name), "%s/%s", ref.host, ref.repository);
	p.repo_name = repo_name;
	if (registry_open(&ref, true, &p.c, err) < 0)
		goto out;
	for (size_t i = 0; i < picked; i++) {
		json_t *desc = NULL;
		if (push_box(&p, &list[i], &desc, err) < 0 ||
		    json_array_append_new(pushed, desc) < 0)
			goto out;
	}
	r = push_index(&p, tag, list[0].name, list[0].version, pushed, err);
out:
	if (r < 0 && p.c != NULL)
		den_err_wrap(err, "push to %s", registry_name(p.c));
	registry_close(p.c);
	store_list_free(list, n);
	json_decref(pushed);
	return r;
}
