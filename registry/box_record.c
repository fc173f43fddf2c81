/* SPDX-License-Identifier: MIT */
/*
 * BOX/layers.json (registry/box-internal.h): den's own file, but read as
 * input like any other: a record that does not check out is ignored, and
 * the push packs the box again.
 */
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "registry/box-internal.h"
#include "registry/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX (1u << 20)
#define REPOS_MAX 32

static bool layer_ok(json_t *l)
{
	const char *mt = json_string_value(json_object_get(l, "mediaType"));
	const char *digest = json_string_value(json_object_get(l, "digest"));
	json_t *size = json_object_get(l, "size");
	const char *title =
		json_string_value(json_object_get(json_object_get(l, "annotations"), ANN_TITLE));

	return mt != NULL && digest != NULL && registry_digest_valid(digest) &&
	       json_is_integer(size) && json_integer_value(size) >= 0 && title != NULL &&
	       (strcmp(mt, MT_BOX_FILE_ZSTD) == 0 || strcmp(mt, MT_BOX_ROOTFS_ZSTD) == 0 ||
		strcmp(mt, MT_BOX_FILE) == 0);
}

json_t *oci_layers_read(const char *box_dir)
{
	cleanup_free char *path = NULL, *text = NULL;
	struct den_err ignored = { 0 };
	json_t *j, *layers, *l;
	size_t i;

	if (asprintf(&path, "%s/%s", box_dir, LAYERS_RECORD) < 0 ||
	    den_read_file(path, RECORD_MAX, &text, NULL, &ignored) < 0)
		return NULL;
	j = json_loads(text, 0, NULL);
	layers = json_object_get(j, "layers");
	if (!json_is_array(layers) || json_array_size(layers) == 0 ||
	    !json_is_array(json_object_get(j, "repositories")))
		goto bad;
	json_array_foreach(layers, i, l)
	{
		if (!layer_ok(l))
			goto bad;
	}
	return j;
bad:
	json_decref(j);
	return NULL;
}

int oci_layers_write(const char *box_dir, json_t *layers, const char *repo, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	json_t *old = oci_layers_read(box_dir), *repos = json_array(), *r;
	size_t i;

	/* The repositories that had these very layers, this one first. */
	json_array_append_new(repos, json_string(repo));
	if (old != NULL && json_equal(json_object_get(old, "layers"), layers))
		json_array_foreach(
			json_object_get(old, "repositories"), i,
			r) if (json_is_string(r) && strcmp(json_string_value(r), repo) != 0 &&
			       json_array_size(repos) < REPOS_MAX) json_array_append(repos, r);
	json_decref(old);
	json_t *j = json_pack("{s:O, s:o}", "layers", layers, "repositories", repos);
	text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (text == NULL || asprintf(&path, "%s/%s", box_dir, LAYERS_RECORD) < 0)
		return den_err_set(err, ENOMEM, "cannot write the record of %s", box_dir);
	return den_write_file_atomic(path, text, 0644, err);
}
