/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_CONTAINER_H
#define DEN_PROVIDERS_CONTAINER_H

/*
 * den's container runtime (DESIGN.md §7), as `den container run` uses it:
 * namespaces, an overlayfs root over the box's unpacked rootfs,
 * pivot_root, /proc /sys /dev, and den-init as PID 1 (or, with
 * system_init, the box's own init: /run tmpfs, a writable cgroup2 tree,
 * SIGRTMIN+3 to halt, as systemd expects of a container).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "core/usernet.h"
#include "core/userns.h"
#include "providers/container/idmap.h"

#define CTR_MAX_BINDS 64
#define CTR_MAX_FILES 16
#define CTR_SYSTEM_FILES 5 /* of them, den's own: /etc/hosts, /etc/hostname... (run.c) */
#define CTR_MAX_NETS 8

/* A file den writes into the container before it starts (from inside: see inside.c). */
struct ctr_sshd;

struct ctr_file {
	const char *guest; /* absolute, or "~/..." in the owner's home */
	const char *text;  /* its content */
	mode_t mode;
	const char *owner; /* user inside that owns it, or NULL for root */
	bool if_empty;	   /* written only where the container has none, or an empty one */
};

struct ctr_bind {
	const char *host;  /* absolute host path */
	const char *guest; /* absolute path in the container */
	bool readonly;
	const char *owner; /* user inside who appears to own the folder's files, or NULL */
	const char *group; /* group inside, or NULL: the owner's */
};

/*
 * A private network (docs/networks.md): a tap device ethN (N from 1) in
 * the container with the address, its frames carried by the supervisor
 * to and from the machine's port on the network's switch.
 */
struct ctr_net {
	int port;	 /* the machine's end of its switch port (SOCK_SEQPACKET) */
	uint32_t addr;	 /* the container's address, host byte order */
	unsigned prefix; /* netmask length */
};

struct ctr_spec {
	const char *rootfs;   /* the box's rootfs: overlay lower layer, never written */
	const char *state;    /* machine folder: upper/, work/, merged/ live here */
	const char *hostname; /* UTS name inside */
	struct ctr_bind binds[CTR_MAX_BINDS];
	const char *project; /* binds below it resolve beneath it, no link followed (hostpath.h) */
	size_t n_binds;
	char *const *argv;		/* what den-init runs as the container's main process */
	struct ctr_sshd *sshd;		/* or den's SSH server (sshd.h), when argv is NULL */
	bool system_init;		/* argv is the box's own init (systemd): PID 1 itself */
	bool host_network;		/* share the host's network namespace */
	bool host_loopback;		/* the gateway reaches the host's 127.0.0.1 */
	unsigned cpus;			/* CPU limit, 0: none */
	uint64_t memory;		/* memory limit in bytes, 0: none */
	const char *cgroup_root;	/* NULL: /sys/fs/cgroup */
	bool no_new_privs;		/* set PR_SET_NO_NEW_PRIVS (breaks sudo inside) */
	const struct usernet_fwd *fwds; /* ports forwarded from the host (own network only) */
	size_t n_fwds;
	const char *control; /* control socket to serve (status, halt, kill), or NULL */
	struct ctr_net nets[CTR_MAX_NETS]; /* private networks (own network only) */
	size_t n_nets;
	const char *hosts; /* more /etc/hosts lines ("ADDRESS NAME...\n"), or NULL */
	struct ctr_file files[CTR_MAX_FILES];
	size_t n_files;
	struct ctr_ids ids;    /* host ids of root inside; zero: ctr_run picks them (idmap.h) */
	bool rootless;	       /* den runs without root: the user's namespace (core/userns.h) */
	struct userns_map map; /* with rootless */
};

/*
 * Runs the container in the foreground: new pid, mount, uts, ipc, net
 * (and cgroup) namespaces; returns once its main process has ended, with
 * *status its exit code (128+N for signal N).
 */
int ctr_run(const struct ctr_spec *spec, int *status, struct den_err *err);

#endif
