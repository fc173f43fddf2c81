/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_CONTAINER_IDMAP_H
#define DEN_PROVIDERS_CONTAINER_IDMAP_H

/*
 * A container's ids and the host's (docs/container.md, "User namespace"):
 * container id k is host id base + k, for k below CTR_IDS, so root inside
 * is an unprivileged host id. Files on disk (the box's rootfs, the
 * machine's upper layer) keep the container's own ids; idmapped mounts
 * show them to the container through the same shift.
 */

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"

#define CTR_IDS 65536u
/* den's own range when the user den runs as has none in /etc/subuid (decisions.md). */
#define CTR_IDS_DEN_BASE 0x70000000u

struct ctr_ids {
	uint32_t uid; /* host uid of the container's root */
	uint32_t gid; /* host gid of the container's root group */
};

/* The host ids den's containers map to, for the user den runs as. */
void ctr_ids_pick(struct ctr_ids *ids);

/*
 * The id map ("inside outside count" lines) of a synced folder's
 * idmapped mount: the folder owner's on-disk id shows as the container's
 * id guest, and every other container id as itself (base + k on disk).
 * Writes from inside land as the owner (guest) or as the shifted id.
 * owner 0 (root) is never mapped: then the map is the plain shift.
 */
int ctr_folder_map(char *buf, size_t n, uint32_t base, uint32_t owner, uint32_t guest);

/* A user namespace holding these maps, to idmap mounts with (an O_RDONLY fd). */
int ctr_userns_fd(const char *uid_map, const char *gid_map, struct den_err *err);

/* Idmaps a detached mount (open_tree) with a user namespace's maps. */
int ctr_idmap_tree(int tree, int userns, const char *what, struct den_err *err);

/* Writes the container's maps for pid, whose /proc entry is under procfd. */
int ctr_write_maps(int procfd, pid_t pid, const struct ctr_ids *ids, struct den_err *err);

#endif
