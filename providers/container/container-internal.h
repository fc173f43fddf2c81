/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_CONTAINER_INTERNAL_H
#define DEN_PROVIDERS_CONTAINER_INTERNAL_H

/* The container runtime's own pieces, private to providers/container/. */

#include "providers/container/container.h"

/*
 * den's root, in the container's namespaces: builds the root (its layers
 * idmapped through userns, the container's user namespace), binds the
 * synced folders and pivots into it (rootfs.c).
 */
int ctr_setup_root(const struct ctr_spec *spec, int userns, struct den_err *err);
/* The same without root, by PID 1 as root of its own user namespace (rootfs.c). */
int ctr_setup_root_rootless(const struct ctr_spec *spec, struct den_err *err);

/* Capabilities, seccomp, no_new_privs: the last step before den-init (harden.c). */
int ctr_harden(const struct ctr_spec *spec, struct den_err *err);

/*
 * In the container's network namespace: tap0 up with the guest address,
 * ping sockets for ping_groups ("LOW HIGH", ids as the caller sees them) (net.c).
 */
int ctr_net_make_tap(int *tap, const char *ping_groups, struct den_err *err);
/* The same for private network n: ifname up with n's address and den's MAC for it (net.c). */
int ctr_net_make_private_tap(const char *ifname, const struct ctr_net *n, int *tap,
			     struct den_err *err);
/* Passing the tap descriptor from the container to den over a unix socket. */
int ctr_send_fd(int sock, int fd, struct den_err *err);
int ctr_recv_fd(int sock, int *fd, struct den_err *err);

/* Before pivot_root: O_PATH descriptors of the binds' host folders (inside.c). */
int ctr_open_binds(const struct ctr_spec *spec, int *fds, struct den_err *err);
/* After pivot_root, resolved inside the new root: the binds, by den's root (inside.c). */
int ctr_bind_inside(const struct ctr_spec *spec, const int *bind_fds, struct den_err *err);
/* And by PID 1, as the container's root: the files den gives every container. */
int ctr_put_files(const struct ctr_spec *spec, struct den_err *err);

/* den-init, PID 1 of the container: runs argv, reaps, forwards SIGTERM (init.c). */
int ctr_init(char *const *argv, const struct ctr_sshd *sshd);

#endif
