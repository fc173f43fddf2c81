/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_STORE_H
#define DEN_BOXES_STORE_H

/*
 * The box store: $DEN_HOME/boxes/ORG/NAME/VERSION/PROVIDER-ARCH/, each
 * holding the box's files, its metadata.json and den's record of where it
 * came from (box.json). A box enters the store only whole: it is unpacked
 * into $DEN_HOME/tmp/ and renamed into place; $DEN_HOME/locks/ keeps
 * two dens from adding the same box at once.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct box_id {
	const char *name;     /* "den/debian-12" */
	const char *version;  /* "1.0.0" */
	const char *provider; /* "container" */
	const char *arch;     /* "amd64" */
};

/* Where a box came from, recorded in box.json. */
struct box_origin {
	const char *url;      /* catalog's box URL, or the file's path */
	const char *checksum; /* hex, or NULL */
	const char *checksum_type;
};

struct store_entry {
	char *name, *version, *provider, *arch, *dir;
	char *url, *checksum_type, *checksum; /* where it came from (box.json), or NULL */
};

/* "org/name" or "name": letters, digits, '.', '_', '-'. */
bool box_name_valid(const char *name);

/* One plain part (a version, provider or architecture): no '/', not starting with '.'. */
bool box_part_valid(const char *s);

/* The folder of a box in the store (malloc'd); it may not exist. */
char *store_box_dir(const char *home, const struct box_id *id);

/*
 * A new folder $DEN_HOME/tmp/WHAT-PID-XXXXXX (malloc'd), for work that
 * must not be seen half done; what killed dens left there is swept first.
 */
char *store_tmp_dir(const char *home, const char *what, struct den_err *err);

/* Takes a lock on one box name+version (flock), so two adds do not race. */
int store_lock(const char *home, const char *name, int *fd, struct den_err *err);

/*
 * Unpacks the box archive at path and moves it into the store. The box's
 * metadata.json names its provider (which must match id->provider when
 * that is set) and, when id->arch is NULL, its architecture. A box already
 * there is replaced only with force; returns 1 when it was there and kept.
 * *out gets the box as stored (free with store_entry_free).
 */
int store_install(const char *home, const struct box_id *id, const char *path,
		  const struct box_origin *origin, bool force, struct store_entry *out,
		  struct den_err *err);

/*
 * A box unpacked into tmp (a store_tmp_dir, malloc'd; taken: it is gone
 * after, either way): metadata.json and its payload files, a container
 * box's rootfs.tar (any compression) not yet unpacked. Checked and moved
 * into the store as store_install does with an archive.
 */
int store_install_unpacked(const char *home, const struct box_id *id, char *tmp,
			   const struct box_origin *origin, bool force, struct store_entry *out,
			   struct den_err *err);

/*
 * A box folder made whole in $DEN_HOME/tmp (store_tmp_dir: metadata.json
 * and the payload, a container box's rootfs/ unpacked) moved into the
 * store as id, as store_install does with an archive. tmp is gone after,
 * either way.
 */
int store_install_dir(const char *home, const struct box_id *id, const char *tmp,
		      const struct box_origin *origin, bool force, struct store_entry *out,
		      struct den_err *err);

/*
 * The box in the store with exactly id's name, version, provider and
 * architecture: 1 and *out filled, 0 when there is none, -1 when the
 * store cannot be read.
 */
int store_find(const char *home, const struct box_id *id, struct store_entry *out,
	       struct den_err *err);

/* Every box in the store, sorted by name, then version newest first. */
int store_list(const char *home, struct store_entry **out, size_t *n, struct den_err *err);
void store_list_free(struct store_entry *e, size_t n);
void store_entry_free(struct store_entry *e);

/* Removes one box folder (and its empty parents). */
int store_remove(const char *home, const struct store_entry *e, struct den_err *err);

#endif
