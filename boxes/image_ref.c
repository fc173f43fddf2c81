/* SPDX-License-Identifier: MIT */
/* Naming a container image (TRANSPORT:PATH) and telling one from a box file. */
#include "boxes/image.h"
#include "boxes/unpack.h"
#include "core/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

enum image_format image_ref_parse(const char *ref, char **path, char **tag)
{
	*path = *tag = NULL;
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
		*path = colon ? strndup(p, (size_t)(colon - p)) : strdup(p);
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
	/* Headers only: a seekable tar skips the members' bytes. A box's metadata.json ends it. */
	for (unsigned n = 0; n < 100000 && archive_read_next_header(a, &e) == ARCHIVE_OK; n++) {
		const char *m = image_member_name(e);
		if (m == NULL)
			continue;
		if (strcmp(m, "metadata.json") == 0)
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
