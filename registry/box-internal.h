/* SPDX-License-Identifier: MIT */
#ifndef DEN_REGISTRY_BOX_INTERNAL_H
#define DEN_REGISTRY_BOX_INTERNAL_H

/* The artifact's media types and annotations, and the record of a box's blobs. */

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"

#define MT_BOX "application/vnd.den.box.v1"			 /* artifactType */
#define MT_BOX_CONFIG "application/vnd.den.box.metadata.v1+json" /* metadata.json */
#define MT_BOX_FILE "application/vnd.den.box.file.v1"		 /* a box file as it is */
#define MT_BOX_FILE_ZSTD "application/vnd.den.box.file.v1+zstd"
#define MT_BOX_ROOTFS_ZSTD "application/vnd.den.box.rootfs.v1.tar+zstd" /* rootfs/ as a tar */

#define ANN_TITLE "org.opencontainers.image.title"
#define ANN_NAME "dev.den.box.name"
#define ANN_VERSION "dev.den.box.version"
#define ANN_PROVIDER "dev.den.box.provider"
#define ANN_ARCH "dev.den.box.architecture"

/*
 * BOX/layers.json, beside a box in the store: the blobs it was last
 * pushed or pulled as, and the repositories that have them, so pushing
 * it again sends nothing the registry has and packs nothing.
 * {"layers": [{"mediaType", "digest", "size", "title"}], "repositories": ["HOST/REPO"]}
 */
#define LAYERS_RECORD "layers.json"

/* The record of box_dir, or NULL when there is none den can use. */
json_t *oci_layers_read(const char *box_dir);

/* Writes it (layers: an array as above; repo added to those it names). */
int oci_layers_write(const char *box_dir, json_t *layers, const char *repo, struct den_err *err);

#endif
