/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_IMAGE_H
#define DEN_BOXES_IMAGE_H

/*
 * Container images as container boxes (docs/boxes.md, "Container
 * images"): an OCI image layout folder, an oci-archive or a docker-archive
 * tarball, named as skopeo and podman name them:
 *
 *     oci:PATH[:REF]   docker-archive:PATH   oci-archive:PATH
 *     lxd:PATH         (LXD's and LXC's images: boxes/lxd_image.c)
 *
 * Every blob is checked against its digest as it is read, the layers are
 * applied in order with their whiteouts, and the result is stored as a
 * normal container box whose metadata keeps the image's config.
 */

#include <stdbool.h>
#include <stdint.h>

#include "boxes/store.h"
#include "core/err.h"

struct json_t;

enum image_format {
	IMAGE_NONE,
	IMAGE_OCI,	      /* an OCI image layout folder */
	IMAGE_OCI_ARCHIVE,    /* a tar of one */
	IMAGE_DOCKER_ARCHIVE, /* `docker save`: manifest.json, configs, layer tars */
	IMAGE_LXD,	      /* LXD's unified tarball, or a folder of its split form */
};

/* "oci-archive" ... for messages and box.json. */
const char *image_format_name(enum image_format f);

/*
 * "TRANSPORT:PATH" -> its format, *path (malloc'd; a relative PATH joined
 * to base_dir when that is not NULL) and, for oci:, *tag (malloc'd, NULL
 * when not given). IMAGE_NONE when ref names no image transport (nothing
 * is allocated then).
 */
enum image_format image_ref_parse(const char *ref, const char *base_dir, char **path, char **tag);

/*
 * What the file or folder at path holds: an image format, or IMAGE_NONE
 * (a box file, a catalog or anything else).
 */
enum image_format image_sniff(const char *path);

/*
 * The version an image's reference gives its box: its tag when that is a
 * version ("1.2" of "localhost/app:1.2"), else "0".
 */
const char *image_tag_version(const char *reference);

/*
 * The version the image ref names would get as a box, read without
 * unpacking it (`den box outdated`): malloc'd, NULL when ref is no image.
 */
char *image_peek_version(const char *ref, const char *base_dir);

/* A tar member's name without its leading "./"s, or NULL. */
struct archive_entry;
const char *image_member_name(struct archive_entry *e);

/* One layer: its blob file (below the layout) and what it must hash to. */
struct image_layer {
	char *file;    /* relative to the image's folder */
	char *digest;  /* the blob's, "sha256:HEX"; NULL in a docker-archive */
	char *diff_id; /* the uncompressed tar's, from the config */
};

struct image {
	char *reference;       /* "localhost/app:1.0", or NULL */
	char *id;	       /* the config's digest, "sha256:HEX": the image's identity */
	char *manifest;	       /* the manifest's digest (OCI), or NULL */
	struct json_t *config; /* the config blob, verified */
	struct image_layer *layers;
	size_t n_layers;
	char *lxd_unified; /* LXD: the unified tarball, or NULL */
	char *lxd_rootfs;  /* LXD: the split form's rootfs tarball, or NULL */
};

/*
 * Reads the image in dir (a layout folder, or an archive unpacked by
 * unpack_archive): index or manifest.json, the manifest (amd64 picked from
 * a multi-architecture index; tag, when given, picks among several), the
 * config. Each blob read is checked against its digest.
 */
int image_open(int dirfd, enum image_format f, const char *tag, struct image *img,
	       struct den_err *err);
void image_free(struct image *img);

/* A file below the image's folder (dirfd), reached through no link that leaves it. */
int image_open_below(int dirfd, const char *file);

/*
 * Applies the image's layers, in order, into root (empty): each blob's
 * digest and each layer's diff_id checked while it streams; at most max
 * bytes written (*used gets how many).
 */
int image_apply_layers(int dirfd, const struct image *img, const char *root, uint64_t max,
		       uint64_t *used, struct den_err *err);

/*
 * An LXD image at path: a unified tarball or a folder of the split form.
 * Its metadata.yaml is read (architecture checked, properties kept as
 * img->config's "properties"); img->id is LXD's fingerprint.
 */
int image_lxd_open(const char *path, struct image *img, struct den_err *err);

/* Unpacks an LXD image's root file system into dir/rootfs (as a rootfs.tar). */
int lxd_unpack_rootfs(const struct image *img, const char *dir, uint64_t max, struct den_err *err);

/* What image_add is asked. */
struct image_add_opts {
	const char *ref;	/* TRANSPORT:PATH */
	const char *base_dir;	/* where a relative PATH is; NULL: the working folder */
	const char *name;	/* the box's name; NULL: from the image's reference */
	const char *version;	/* the box's version; NULL: the image's tag if a version, else 0 */
	const char *constraint; /* a box_version the version must meet, or NULL */
	const char *checksum;	/* the image id (hex) the lock names, or NULL */
	const char *origin;	/* where it came from, for box.json and messages; NULL: ref */
	bool force;
};

/* Adds the image as a container box; 1 when it was in the store already. */
int image_add(const char *home, const struct image_add_opts *o, struct store_entry *out,
	      struct den_err *err);

#endif
