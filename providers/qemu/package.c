/* SPDX-License-Identifier: MIT */
/*
 * `den box package MACHINE`'s qemu side: the machine's disk flattened
 * (overlay and box image as one qcow2, qemu-img convert) with the
 * metadata.json and Vagrantfile of a Vagrant libvirt box.
 */
#include "providers/qemu/disk.h"
#include "providers/qemu/qemu-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char vagrantfile[] =
	"# A Vagrant libvirt box packaged by `den box package` from a den machine.\n"
	"Vagrant.configure(\"2\") do |config|\n"
	"  config.vm.provider :libvirt do |libvirt|\n"
	"    libvirt.driver = \"kvm\"\n"
	"  end\n"
	"end\n";

/* Overlay and box image as one self-contained qcow2. */
static int flatten(const char *disk, const char *img, struct den_err *err)
{
	char out[4096], *argv[] = { "qemu-img", "convert",    "-f",	   "qcow2", "-O",
				    "qcow2",	(char *)disk, (char *)img, NULL };

	return qemu_img(argv, out, sizeof(out), err);
}

int qemu_package(struct den_machine *dm, const char *dir, struct den_err *err)
{
	cleanup_free char *disk = qemu_path(dm, "disk.qcow2"), *img = NULL, *meta = NULL,
			  *vf = NULL, *text = NULL;
	enum machine_state st;
	uint64_t size;

	if (disk == NULL || asprintf(&img, "%s/box.img", dir) < 0 ||
	    asprintf(&meta, "%s/metadata.json", dir) < 0 ||
	    asprintf(&vf, "%s/Vagrantfile", dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (qemu_state(dm, &st, err) < 0)
		return -1;
	if (st == MACHINE_RUNNING || st == MACHINE_SUSPENDED)
		return den_err_set(err, 0,
				   "machine %s is %s: `den halt %s` first, so its disk is still",
				   dm->cfg->name, machine_state_name(st), dm->cfg->name);
	if (!den_exists(disk))
		return den_err_set(err, 0, "machine %s has no disk: `den up %s` first",
				   dm->cfg->name, dm->cfg->name);
	if (flatten(disk, img, err) < 0 || qemu_disk_size(img, "qcow2", &size, err) < 0)
		return -1;
	/* Vagrant's virtual_size is in whole GB. */
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:{s:s?, s:s?, s:s}}", "provider", "libvirt",
			      "format", "qcow2", "virtual_size",
			      (json_int_t)((size + (1ULL << 30) - 1) >> 30), "architecture",
			      "amd64", "den", "ssh_user", dm->rec.ssh_user, "packaged_from",
			      dm->rec.box, "credentials", "seed");
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (text == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (den_write_file_atomic(meta, text, 0644, err) < 0 ||
	    den_write_file_atomic(vf, vagrantfile, 0644, err) < 0)
		return -1;
	return 0;
}
