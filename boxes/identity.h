/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_IDENTITY_H
#define DEN_BOXES_IDENTITY_H

/*
 * What a box file says about itself: its metadata.json, read from the
 * archive without unpacking the rest. Boxes den builds carry their name
 * and version under "den"; Vagrant's carry only the provider.
 */

#include "core/err.h"

struct box_identity {
	char *provider;	      /* metadata "provider" */
	char *arch;	      /* metadata "architecture", or NULL */
	char *name, *version; /* metadata "den": { "name", "version" }, or NULL */
};

int box_identity_read(const char *path, struct box_identity *id, struct den_err *err);

/*
 * "warm" in a VM box's "den" metadata: its seed hook speaks this version
 * of den's warm-image handshake (docs/vmm.md, "Warm images").
 */
#define BOX_WARM_PROTOCOL "3" /* 3: den's record in den's ACPI table */

/* A field of "den" in the metadata.json of a box unpacked at box_dir (malloc'd), or NULL. */
char *box_dir_meta(const char *box_dir, const char *key);
void box_identity_free(struct box_identity *id);

/*
 * The box provider a den provider runs: the qemu and kvm providers run
 * Vagrant libvirt boxes ("libvirt"); the container provider its own.
 */
const char *box_provider_of(const char *provider);

#endif
