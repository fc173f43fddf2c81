/* SPDX-License-Identifier: MIT */
#ifndef DEN_REGISTRY_BOX_H
#define DEN_REGISTRY_BOX_H

/*
 * Boxes as OCI artifacts (docs/boxes.md, "Sharing boxes through a
 * registry"): one image manifest per provider and architecture (config:
 * the box's metadata.json; one layer per box file, zstd, named by its
 * org.opencontainers.image.title), all under one index at the tag.
 */

#include <stdbool.h>
#include <stddef.h>

#include "boxes/store.h"
#include "core/err.h"

#define OCI_BOX_SCHEME "oci://"

/* Whether s is "oci://REF". */
bool oci_box_is_ref(const char *s);

struct oci_push_opts {
	const char *home;
	const char *name;     /* the box in the store */
	const char *version;  /* NULL: its newest version */
	const char *provider; /* NULL: every provider of that version */
	const char *arch;     /* NULL: every architecture */
	const char *ref;      /* HOST/REPO[:TAG]; no tag: the version is the tag */
	bool progress;
};

struct oci_pushed {
	char ref[600];	/* HOST/REPO:TAG@sha256:INDEX */
	size_t boxes;	/* manifests pushed */
	size_t sent;	/* blobs uploaded */
	size_t there;	/* blobs the repository had */
	size_t mounted; /* blobs mounted from another repository */
};

/* `den box push`: the boxes to the registry, the index at the tag last. */
int oci_box_push(const struct oci_push_opts *o, struct oci_pushed *out, struct den_err *err);

struct oci_pull_opts {
	const char *home;
	const char *ref;	/* HOST/REPO[:TAG][@DIGEST], without oci:// */
	const char *name;	/* the store's name for it; NULL: the box's own */
	const char *constraint; /* NULL, or the versions a tagless ref may take */
	const char *provider;	/* NULL: the only one the index has for this host */
	const char *arch;	/* NULL: this host's (or "unknown") */
	const char *checksum;	/* the manifest digest's hex the lock names, or NULL */
	bool force, progress;
};

/*
 * `den box add oci://REF`, and box_url: oci://HOST/REPO: the box pulled
 * into the store, every blob checked against its digest before anything
 * is kept; 1 when it was there already.
 */
int oci_box_pull(const struct oci_pull_opts *o, struct store_entry *out, struct den_err *err);

/*
 * The version ref would give a box (`den box outdated`): a tagless
 * repository's newest version tag the constraint allows, else the version
 * the tag's box says. malloc'd; NULL with err when it cannot be read.
 */
char *oci_box_peek_version(const char *ref, const char *constraint, struct den_err *err);

#define DOCKER_IMAGE_SCHEME "docker://"

/* Whether s is "docker://REF". */
bool docker_image_is_ref(const char *s);

/*
 * docker://REF's image (linux/amd64 from an index) fetched into an OCI
 * layout, a new folder in $DEN_HOME/tmp (*layout, malloc'd: the caller
 * removes it), every blob checked against its digest; *origin gets
 * "docker://HOST/REPO[:TAG]@sha256:MANIFEST", what the box records.
 */
int docker_image_fetch(const char *home, const char *ref, bool progress, char **layout,
		       char **origin, struct den_err *err);

#endif
