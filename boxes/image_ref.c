/* SPDX-License-Identifier: MIT */
/* Naming a container image (TRANSPORT:PATH) and telling one from a box file. */
#include "boxes/image.h"
#include "boxes/unpack.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/version.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEMBER_MAX (4u << 20)

static const struct {
	const char *prefix;
	enum image_format format;
} transports[] = {
	{ "oci-archive:", IMAGE_OCI_ARCHIVE },
	{ "docker-archive:", IMAGE_DOCKER_ARCHIVE },
	{ "oci:", IMAGE_OCI },
	{ "lxd:", IMAGE_LXD },
};

const char *image_format_name(enum image_format f)
{
	switch (f) {
	case IMAGE_OCI:
		return "oci";
	case IMAGE_OCI_ARCHIVE:
		return "oci-archive";
	case IMAGE_DOCKER_ARCHIVE:
		return "docker-archive";
	case IMAGE_LXD:
		return "lxd";
	case IMAGE_NONE:
		break;
	}
	return "none";
}

enum image_format image_ref_parse(const char *ref, const char *base_dir, char **path, char **tag)
{
	*path = *tag = NULL;
	/* oci://REF and docker://REF are registries (registry/box.h), not paths. */
	if (strstr(ref, "://") != NULL && strchr(ref, ':') == strstr(ref, "://"))
		return IMAGE_NONE;
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		size_t n = strlen(transports[i].prefix);
		if (strncmp(ref, transports[i].prefix, n) != 0 || ref[n] == '\0')
			continue;
		const char *p = ref + n, *colon = NULL;
		/* oci:PATH:REF, as skopeo: a ':' after the path's last '/'. */
		if (transports[i].format == IMAGE_OCI) {
			const char *slash = strrchr(p, '/');
			colon = strchr(slash ? slash : p, ':');
		}
		int n_path = colon ? (int)(colon - p) : (int)strlen(p);
		if (p[0] != '/' && base_dir != NULL) {
			if (asprintf(path, "%s/%.*s", base_dir, n_path, p) < 0)
				*path = NULL;
		} else {
			*path = strndup(p, (size_t)n_path);
		}
		if (colon && colon[1] != '\0')
			*tag = strdup(colon + 1);
		if (*path == NULL || (colon && colon[1] != '\0' && *tag == NULL)) {
			free(*path);
			free(*tag);
			*path = *tag = NULL;
			return IMAGE_NONE;
		}
		return transports[i].format;
	}
	return IMAGE_NONE;
}

const char *image_member_name(struct archive_entry *e)
{
	const char *p = archive_entry_pathname(e);

	while (p != NULL && p[0] == '.' && p[1] == '/')
		p += 2;
	return p;
}

enum image_format image_sniff(const char *path)
{
	struct den_err ignored = { 0 };
	struct archive_entry *e;
	struct archive *a;
	struct stat st;
	bool layout = false, index = false, manifest = false, lxd_meta = false, lxd_root = false;
	enum image_format f = IMAGE_NONE;

	if (stat(path, &st) < 0)
		return IMAGE_NONE;
	if (S_ISDIR(st.st_mode)) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/oci-layout", path);
		return access(p, F_OK) == 0 ? IMAGE_OCI : IMAGE_NONE;
	}
	if (!S_ISREG(st.st_mode) || (a = unpack_open(path, false, &ignored)) == NULL)
		return IMAGE_NONE;
	/* Headers only: a seekable tar skips the members' bytes. */
	for (unsigned n = 0; n < 100000 && archive_read_next_header(a, &e) == ARCHIVE_OK; n++) {
		const char *m = image_member_name(e);
		if (m == NULL)
			continue;
		/* A box file's own members: no image, and no need to read on through its disk. */
		if (strcmp(m, "metadata.json") == 0 || strcmp(m, "Vagrantfile") == 0 ||
		    strcmp(m, "box.img") == 0 || strcmp(m, "box.ovf") == 0)
			goto out;
		layout |= strcmp(m, "oci-layout") == 0;
		index |= strcmp(m, "index.json") == 0;
		manifest |= strcmp(m, "manifest.json") == 0;
		lxd_meta |= strcmp(m, "metadata.yaml") == 0;
		lxd_root |= strncmp(m, "rootfs/", 7) == 0;
		if ((layout && index) || (lxd_meta && lxd_root))
			break;
	}
	/* Docker 25 writes both: the OCI layout is the one with digests. */
	if (layout && index)
		f = IMAGE_OCI_ARCHIVE;
	else if (manifest)
		f = IMAGE_DOCKER_ARCHIVE;
	else if (lxd_meta && lxd_root)
		f = IMAGE_LXD;
out:
	archive_read_free(a);
	return f;
}

const char *image_tag_version(const char *reference)
{
	const char *tag = reference ? strrchr(reference, ':') : NULL, *why;
	struct den_version v;

	tag = tag && strchr(tag, '/') == NULL ? tag + 1 : reference;
	return tag != NULL && den_version_parse(tag, &v, &why) == 0 ? tag : "0";
}

/* A small member of the archive at path (index.json, manifest.json), or NULL. */
static char *read_member(const char *path, const char *name)
{
	struct den_err ignored = { 0 };
	struct archive *a = unpack_open(path, false, &ignored);
	struct archive_entry *e;
	char *text = NULL;

	while (a != NULL && text == NULL && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *m = image_member_name(e);
		la_int64_t n = archive_entry_size(e);
		if (m == NULL || strcmp(m, name) != 0 || n <= 0 || n > MEMBER_MAX)
			continue;
		text = calloc(1, (size_t)n + 1);
		if (text != NULL && archive_read_data(a, text, (size_t)n) != n) {
			free(text);
			text = NULL;
			break;
		}
	}
	if (a != NULL)
		archive_read_free(a);
	return text;
}

/* The reference an index.json or manifest.json names (the tag's, when given). */
static char *reference_in(const char *text, bool docker, const char *tag)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL, *e, *t;
	char *found = NULL;
	size_t i, k;

	json_array_foreach(docker ? j : json_object_get(j, "manifests"), i, e)
	{
		if (docker) {
			json_array_foreach(json_object_get(e, "RepoTags"), k,
					   t) if (found == NULL && json_is_string(t)) found =
				strdup(json_string_value(t));
		} else {
			const char *r = json_string_value(
				json_object_get(json_object_get(e, "annotations"),
						"org.opencontainers.image.ref.name"));
			if (found == NULL && r != NULL &&
			    (tag == NULL || strcmp(image_tag_version(r), tag) == 0 ||
			     strcmp(r, tag) == 0))
				found = strdup(r);
		}
	}
	json_decref(j);
	return found;
}

char *image_peek_version(const char *ref, const char *base_dir)
{
	char *path = NULL, *tag = NULL, *text = NULL, *reference = NULL, *v;
	enum image_format f = image_ref_parse(ref, base_dir, &path, &tag);
	struct den_err ignored = { 0 };

	if (f == IMAGE_NONE)
		return NULL;
	/* The transport says the form: image_add refuses a file of another one. */
	bool docker = f == IMAGE_DOCKER_ARCHIVE;
	if (f == IMAGE_OCI) {
		char *index = NULL;
		if (asprintf(&index, "%s/index.json", path) >= 0)
			den_read_file(index, MEMBER_MAX, &text, NULL, &ignored);
		free(index);
	} else if (f != IMAGE_LXD) {
		text = read_member(path, docker ? "manifest.json" : "index.json");
	}
	reference = reference_in(text, docker, tag);
	v = strdup(tag && f == IMAGE_OCI && reference == NULL ? "0" : image_tag_version(reference));
	free(path);
	free(tag);
	free(text);
	free(reference);
	return v;
}
