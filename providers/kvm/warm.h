/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_WARM_H
#define DEN_PROVIDERS_KVM_WARM_H

/*
 * Warm images, the kvm provider's side (docs/vmm.md, "Warm images"): a
 * booted template of a VM box, saved by den's VMM when the box's seed
 * hook says it is ready, kept in the store beside the box's kernel
 * (BOX/kvm/warm/NAME/: state, memory, disk.cow, seed.iso, warm.json), and
 * restored, made someone new, for each new machine of that box. A warm
 * image is keyed by what must match for a restore: den's version and
 * snapshot format, the host CPU's features as KVM offers them, the box's
 * kernel command line, and the machine's cpus, memory, disk size, login
 * user and number of 9p folders. A key that does not match is another warm image;
 * a damaged one is made again, never run.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct den_machine;
struct machine;
struct vm_boot;

/* What a warm image is for: the key's parts that come from the machine. */
struct warm_want {
	unsigned cpus;
	uint64_t memory, disk_size; /* bytes; disk_size 0: the box's */
	size_t shares;		    /* 9p folders */
	unsigned boot_timeout;	    /* seconds the template may take to say it is ready */
	const char *user;	    /* den's login user, made in the template */
};

void warm_want_of(const struct machine *cfg, const char *user, size_t shares,
		  struct warm_want *out);

/*
 * The warm image for want of the box at box_dir (booted as b says): made
 * now when there is none (one den at a time; a damaged one is made
 * again). *dir gets its folder (malloc'd), or NULL when den could not
 * make one, having said why (the machine then boots). < 0 only when out
 * of memory.
 */
int warm_image_get(const char *box_dir, const struct vm_boot *b, const struct warm_want *want,
		   char **dir, struct den_err *err);

/*
 * What den tells a machine restored from a warm image, for its hook
 * (boxes/vm-guest/den-seed): its login user and key, host key, host name,
 * a new machine-id, fresh entropy and its 9p mounts, to path (mode 0600).
 * The VMM puts it in guest memory and names it on den's channel after the
 * time.
 */
int warm_record_write(const struct den_machine *dm, const char *path, struct den_err *err);

/* The CPU features KVM offers guests on this host, as a digest (64 hex digits). */
int warm_host_cpu(char hex[129], struct den_err *err);

/* A warm image as `den box list` shows it. */
struct warm_info {
	char *name; /* its folder's name */
	unsigned cpus;
	uint64_t memory, disk_size;
	size_t shares;
	bool usable;	/* made by this den, for this host's CPU */
	uint64_t bytes; /* the room its files take */
};

/* The warm images of the box at box_dir (none when it has none). */
int warm_list(const char *box_dir, struct warm_info **out, size_t *n, struct den_err *err);
void warm_list_free(struct warm_info *w, size_t n);

/* Removes the box's warm images: all, or only those this den cannot use. */
int warm_remove(const char *box_dir, bool unusable_only, size_t *removed, struct den_err *err);

#endif
