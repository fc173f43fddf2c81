/* SPDX-License-Identifier: MIT */
/*
 * `den box package MACHINE`'s qemu side: the machine's disk flattened
 * (overlay and box image as one qcow2, qemu-img convert) with the
 * metadata.json and Vagrantfile of a Vagrant libvirt box (vm_package.c).
 */
#include "providers/qemu/disk.h"
#include "providers/qemu/qemu-internal.h"
#include "providers/vm_ready.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Overlay and box image as one self-contained qcow2. */
static int flatten(const char *disk, const char *img, struct den_err *err)
{
	char out[4096], *argv[] = { "qemu-img", "convert",    "-f",	   "qcow2", "-O",
				    "qcow2",	(char *)disk, (char *)img, NULL };

	return qemu_img(argv, out, sizeof(out), err);
}

int qemu_package(struct den_machine *dm, const char *dir, struct den_err *err)
{
	cleanup_free char *disk = provider_path(dm, "disk.qcow2"), *img = NULL;
	uint64_t size;

	if (disk == NULL || asprintf(&img, "%s/box.img", dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (vm_package_halted(&provider_qemu, dm, err) < 0)
		return -1;
	if (!den_exists(disk))
		return den_err_set(err, 0, "machine %s has no disk: `den up %s` first",
				   dm->cfg->name, dm->cfg->name);
	if (flatten(disk, img, err) < 0 || qemu_disk_size(img, "qcow2", &size, err) < 0)
		return -1;
	return vm_package_metadata(dm, dir, size, err);
}
