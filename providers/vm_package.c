/* SPDX-License-Identifier: MIT */
/*
 * What `den box package` writes beside a VM machine's flattened box.img,
 * for the qemu and kvm providers alike: the metadata.json and Vagrantfile
 * of a Vagrant libvirt box.
 */
#include "providers/vm_ready.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static const char vagrantfile[] =
	"# A Vagrant libvirt box packaged by `den box package` from a den machine.\n"
	"Vagrant.configure(\"2\") do |config|\n"
	"  config.vm.provider :libvirt do |libvirt|\n"
	"    libvirt.driver = \"kvm\"\n"
	"  end\n"
	"end\n";

int vm_package_halted(const struct provider_ops *ops, struct den_machine *dm, struct den_err *err)
{
	enum machine_state st;

	if (ops->state(dm, &st, err) < 0)
		return -1;
	if (st == MACHINE_RUNNING || st == MACHINE_SUSPENDED)
		return den_err_set(err, 0,
				   "machine %s is %s: `den halt %s` first, so its disk is still",
				   dm->cfg->name, machine_state_name(st), dm->cfg->name);
	return 0;
}

int vm_package_metadata(struct den_machine *dm, const char *dir, uint64_t size, struct den_err *err)
{
	cleanup_free char *meta = NULL, *vf = NULL, *text = NULL;

	if (asprintf(&meta, "%s/metadata.json", dir) < 0 ||
	    asprintf(&vf, "%s/Vagrantfile", dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
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
