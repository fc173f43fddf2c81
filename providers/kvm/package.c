/* SPDX-License-Identifier: MIT */
/*
 * `den box package MACHINE`'s kvm side: the machine's disk (den's
 * copy-on-write overlay over the box's raw image) flattened into one
 * qcow2 with the metadata.json and Vagrantfile of a Vagrant libvirt box:
 * the same box the qemu provider packages, which either provider boots.
 */
#include "providers/kvm/kvm-provider.h"
#include "providers/kvm/cow_disk.h"
#include "providers/vm_ready.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* The whole disk as a sparse raw file at raw: what the guest sees, zeros as holes. */
static int write_raw(const char *overlay, const char *base, const char *raw, uint64_t *size,
		     struct den_err *err)
{
	struct cow_disk *d = NULL;
	cleanup_free uint8_t *buf = malloc(CHUNK);
	cleanup_close int fd = -1;

	if (buf == NULL)
		return den_err_set(err, ENOMEM, "packaging");
	if (cow_disk_open(overlay, base, 0, &d, err) < 0)
		return -1;
	int rc = 0;
	*size = cow_disk_size(d);
	fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)*size) < 0)
		rc = den_err_set(err, errno, "cannot write %s", raw);
	for (uint64_t off = 0; rc == 0 && off < *size; off += CHUNK) {
		size_t n = *size - off < CHUNK ? (size_t)(*size - off) : CHUNK;
		struct iovec iov = { buf, n };
		if (cow_disk_readv(d, &iov, 1, off, err) < 0)
			rc = -1;
		else if (!all_zero(buf, n) && pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			rc = den_err_set(err, errno, "cannot write %s", raw);
	}
	cow_disk_close(d);
	return rc;
}

static int to_qcow2(const char *raw, const char *img, struct den_err *err)
{
	const char *argv[] = { "qemu-img", "convert", "-q", "-f", "raw",
			       "-O",	   "qcow2",   raw,  img,  NULL };
	struct den_spawn sp = { .argv = argv,
				.in = DEN_SPAWN_NULL,
				.out = DEN_SPAWN_NULL,
				.name = "qemu-img convert",
				.install = "install qemu-utils (`make deps` does)" };
	return den_spawn_run(&sp, err);
}

int kvm_package(struct den_machine *dm, const char *dir, struct den_err *err)
{
	cleanup_free char *overlay = provider_path(dm, "disk.cow"),
			  *base_file = provider_path(dm, KVM_DISK_BASE), *base = NULL, *raw = NULL,
			  *img = NULL;
	uint64_t size = 0;
	size_t len;

	if (overlay == NULL || base_file == NULL || asprintf(&raw, "%s/box.raw", dir) < 0 ||
	    asprintf(&img, "%s/box.img", dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (vm_package_halted(&provider_kvm, dm, err) < 0)
		return -1;
	if (!den_exists(overlay) || den_read_own_file(base_file, 8192, &base, &len, err) < 0)
		return den_err_set(err, 0, "machine %s has no disk: `den up %s` first",
				   dm->cfg->name, dm->cfg->name);
	int rc = write_raw(overlay, base, raw, &size, err);
	if (rc == 0)
		rc = to_qcow2(raw, img, err);
	unlink(raw);
	if (rc < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	return vm_package_metadata(dm, dir, size, err);
}
