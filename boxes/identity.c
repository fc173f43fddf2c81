/* SPDX-License-Identifier: MIT */
#include "boxes/identity.h"
#include "boxes/unpack.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_MAX (1 << 20)

static char *dup_or_null(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? strdup(s) : NULL;
}

int box_identity_read(const char *path, struct box_identity *id, struct den_err *err)
{
	struct archive *a;
	struct archive_entry *e;
	char *text = NULL;
	int ret = -1;

	memset(id, 0, sizeof(*id));
	a = unpack_open(path, true, err);
	if (a == NULL)
		return -1;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		la_int64_t size = archive_entry_size(e);

		if (name != NULL && strncmp(name, "./", 2) == 0)
			name += 2;
		if (name == NULL || strcmp(name, "metadata.json") != 0)
			continue;
		if (size <= 0 || size > META_MAX || (text = calloc(1, (size_t)size + 1)) == NULL ||
		    archive_read_data(a, text, (size_t)size) != size) {
			den_err_set(err, 0, "%s: its metadata.json cannot be read", path);
			goto out;
		}
		json_t *j = json_loads(text, 0, NULL), *den = json_object_get(j, "den");
		if (!json_is_object(j) || !json_is_string(json_object_get(j, "provider"))) {
			json_decref(j);
			den_err_set(err, 0, "%s: its metadata.json names no provider", path);
			goto out;
		}
		id->provider = dup_or_null(j, "provider");
		id->arch = dup_or_null(j, "architecture");
		id->name = dup_or_null(den, "name");
		id->version = dup_or_null(den, "version");
		json_decref(j);
		ret = 0;
		goto out;
	}
	den_err_set(err, 0, "not a box: %s has no metadata.json at its top", path);
out:
	free(text);
	archive_read_free(a);
	return ret;
}

void box_identity_free(struct box_identity *id)
{
	free(id->provider);
	free(id->arch);
	free(id->name);
	free(id->version);
	memset(id, 0, sizeof(*id));
}

char *box_dir_meta(const char *box_dir, const char *key)
{
	cleanup_free char *path = NULL, *text = NULL;
	struct den_err ignored = { 0 };
	char *value = NULL;

	if (asprintf(&path, "%s/metadata.json", box_dir) < 0 ||
	    den_read_file(path, 1 << 20, &text, NULL, &ignored) < 0)
		return NULL;
	json_t *j = json_loads(text, 0, NULL);
	const char *v = json_string_value(json_object_get(json_object_get(j, "den"), key));
	value = v ? strdup(v) : NULL;
	json_decref(j);
	return value;
}

const char *box_provider_of(const char *provider)
{
	/* One VM box for both VM providers: a Vagrant libvirt box. */
	if (provider != NULL && (strcmp(provider, "qemu") == 0 || strcmp(provider, "kvm") == 0))
		return "libvirt";
	/* LXD gets den's container boxes, made LXD images (providers/lxd/). */
	if (provider != NULL && strcmp(provider, "lxd") == 0)
		return "container";
	return provider;
}
