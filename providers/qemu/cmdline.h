/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_QEMU_CMDLINE_H
#define DEN_PROVIDERS_QEMU_CMDLINE_H

/*
 * The qemu-system-x86_64 command line a machine runs with: q35, the
 * accelerator, virtio disk (the machine's qcow2 overlay) and seed, a
 * virtio-net card on den's user-mode network (a stream socket to `den net
 * run`, which forwards SSH and the Envfile's ports), 9p shares, the serial
 * console in a log, QMP on a socket, and nothing else (-nodefaults).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qemu_share {
	const char *tag;  /* the 9p mount tag the guest mounts */
	const char *path; /* host folder */
	bool ro;
};

/* A private network's card: its MAC, on a stream socket to the network's switch. */
struct qemu_private {
	int fd; /* QEMU's descriptor of it */
	uint8_t mac[6];
};

struct qemu_launch {
	const char *name;  /* the machine's */
	const char *accel; /* "kvm" or "tcg" */
	unsigned cpus;
	uint64_t memory;    /* bytes */
	const char *disk;   /* qcow2 */
	const char *seed;   /* NoCloud seed image (raw), or NULL */
	const char *qmp;    /* socket path */
	const char *serial; /* console log file */
	const char *pidfile;
	int net_fd; /* QEMU's descriptor of its stream socket to den's network */
	const struct qemu_share *shares;
	size_t n_shares;
	const struct qemu_private *privates; /* second card on: docs/networks.md */
	size_t n_privates;
	bool daemonize; /* -daemonize: QEMU returns once the machine is set up */
};

/* The command line, NULL-terminated; NULL when out of memory. Free with qemu_argv_free. */
char **qemu_argv(const struct qemu_launch *l);
void qemu_argv_free(char **argv);

#endif
