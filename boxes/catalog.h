/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_CATALOG_H
#define DEN_BOXES_CATALOG_H

/*
 * A box catalog: Vagrant Cloud's metadata JSON, served by any web server
 * or read from a file (DESIGN.md §6):
 *	{ "name": "den/debian-12", "description": "...",
 *	  "versions": [ { "version": "1.0.0", "providers": [
 *	      { "name": "container", "url": "...", "checksum_type": "sha256",
 *	        "checksum": "...", "architecture": "amd64",
 *	        "default_architecture": true } ] } ] }
 * Strings point into the parsed JSON, which the catalog owns.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/version.h"

struct catalog_provider {
	const char *name, *url;
	const char *checksum_type, *checksum; /* NULL when the catalog gives none */
	const char *arch;		      /* "unknown" when not given */
	bool default_arch;
};

struct catalog_version {
	const char *version;
	struct den_version v;
	struct catalog_provider *providers;
	size_t n_providers;
};

struct catalog {
	const char *name, *description;
	struct catalog_version *versions; /* newest first */
	size_t n_versions;
	json_t *root;
};

/* Parses and checks a catalog; where names it in messages (a URL or path). */
int catalog_parse(const char *text, size_t len, const char *where, struct catalog *out,
		  struct den_err *err);
void catalog_free(struct catalog *c);

/*
 * The newest version allowed by constraint (NULL: any) that has provider
 * (NULL: any) for arch. arch NULL means this host's, falling back as
 * Vagrant does: first the host's architecture, then "unknown", then the
 * provider marked default_architecture. A version with no libvirt box
 * serves provider libvirt with its virtualbox, vmware_desktop or hyperv
 * one (in that order), which den converts when it adds it.
 */
int catalog_select(const struct catalog *c, const char *constraint, const char *provider,
		   const char *arch, const struct catalog_version **v,
		   const struct catalog_provider **p, struct den_err *err);

/* Vagrant's name for this host's architecture: "amd64", "arm64", "i386"... */
const char *box_host_arch(void);

#endif
