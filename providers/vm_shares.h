/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_VM_SHARES_H
#define DEN_PROVIDERS_VM_SHARES_H

/*
 * A VM machine's native synced folders as 9p shares (the qemu and kvm
 * providers'; providers/vm_shares.c). Each folder is opened by den,
 * following no link (a machine syncing the project could have replaced a
 * nested folder with one), and its supervisor gets the descriptor, never
 * the path. A writable share keeps the guest's owners and modes in user
 * extended attributes (QEMU's mapped-xattr, and den's VMM the same way),
 * so a folder on a file system without them (tmpfs before Linux 6.6, many
 * NFS homes) is refused before the machine boots, saying what works.
 */

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/machine.h"

#define VM_MAX_SHARES 64

struct vm_share {
	char tag[24];  /* the 9p mount tag ("den3": vm_share_tag) */
	char path[32]; /* "/proc/self/fd/N": the folder, as the supervisor sees it */
	int fd;	       /* den's O_PATH descriptor of the folder (the child's N) */
	bool ro;
};

/*
 * Opens the machine's native synced folders (made first where `create:
 * true` asks), their descriptors to become the supervisor's fd0, fd0 + 1...;
 * *n of them. On failure none is left open.
 */
int vm_shares_open(struct den_machine *dm, int fd0, struct vm_share *out, size_t max, size_t *n,
		   struct den_err *err);

void vm_shares_close(struct vm_share *s, size_t n);

/*
 * vm_shares_open's checks alone, first thing in up: a folder it refuses
 * stops it before anything is made. *count (when not NULL): how many.
 */
int vm_shares_check(struct den_machine *dm, size_t max, size_t *count, struct den_err *err);

/*
 * 1 when files in the folder dir_fd keep user extended attributes, 0 when
 * the file system has none; < 0 with err when it cannot tell (the folder
 * not writable). Tried on a file of den's own, never on the user's.
 */
int vm_folder_keeps_xattrs(int dir_fd, const char *what, struct den_err *err);

#endif
