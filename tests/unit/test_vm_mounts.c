/* SPDX-License-Identifier: MIT */
/*
 * The script that mounts a VM's 9p folders (providers/vm_ready.c), which
 * den runs over SSH under one sudo and a warm image's hook runs as root:
 * one line per native folder, tagged by its number among them, ro kept
 * read-only and not chowned, every path quoted, a failure naming its
 * folder; no script when there is no 9p folder.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/machine.h"
#include "providers/vm_ready.h"

static const char *ro[] = { "ro" };

static struct synced_folder folders[] = {
	{ .host = ".", .guest = "/vagrant", .type = SYNC_NATIVE, .disabled = true },
	{ .host = "./code", .guest = "/code", .type = SYNC_RSYNC },
	{ .host = "./share", .guest = "/share", .type = SYNC_NATIVE },
	{ .host = "./data",
	  .guest = "/it's data",
	  .type = SYNC_NATIVE,
	  .owner = "alice",
	  .group = "dev",
	  .mount_options = ro,
	  .n_mount_options = 1 },
};

static void machine(struct machine *cfg, struct den_machine *dm, size_t n)
{
	memset(cfg, 0, sizeof(*cfg));
	memset(dm, 0, sizeof(*dm));
	cfg->name = "web";
	cfg->folders = folders;
	cfg->n_folders = n;
	dm->cfg = cfg;
	dm->rec.ssh_user = "den";
}

Test(vm_mounts, each_native_folder_is_one_line_tagged_by_its_number_among_them)
{
	struct machine cfg;
	struct den_machine dm;
	struct den_err err = { 0 };
	cleanup_free char *s = NULL;

	machine(&cfg, &dm, 4);
	cr_assert_eq(vm_mount_script(&dm, false, &s, &err), 0, "%s", err.msg);
	cr_assert_not_null(s);
	cr_expect(strstr(s, "modprobe 9pnet_virtio") == s, "the transport's module first");
	cr_expect(strstr(s, "/vagrant") == NULL, "a disabled folder is left out");
	cr_expect(strstr(s, "/code") == NULL, "an rsync folder is not mounted");
	cr_expect(strstr(s, "msize=262144 den0 '/share'") != NULL, "%s", s);
	cr_expect(strstr(s, "false || chown 'den' '/share'") != NULL,
		  "owned inside by the login user: %s", s);
	cr_expect(strstr(s, "msize=262144,ro den1 '/it'\\''s data'") != NULL,
		  "read-only, the path quoted: %s", s);
	cr_expect(strstr(s, "true || chown 'alice':'dev'") != NULL,
		  "a read-only folder is not chowned: %s", s);
	cr_expect(strstr(s, "echo 'mounting synced folder /share' >&2; exit 1;") != NULL,
		  "a failure names its folder: %s", s);
}

Test(vm_mounts, unmounting_lets_go_of_each_that_is_mounted)
{
	struct machine cfg;
	struct den_machine dm;
	struct den_err err = { 0 };
	cleanup_free char *s = NULL;

	machine(&cfg, &dm, 4);
	cr_assert_eq(vm_mount_script(&dm, true, &s, &err), 0, "%s", err.msg);
	cr_assert_not_null(s);
	cr_expect(strstr(s, "! mountpoint -q '/share' || umount '/share'") != NULL, "%s", s);
	cr_expect(strstr(s, "modprobe") == NULL && strstr(s, "mount -t") == NULL, "%s", s);
}

Test(vm_mounts, no_9p_folder_no_script)
{
	struct machine cfg;
	struct den_machine dm;
	struct den_err err = { 0 };
	char *s = (char *)"unset";

	machine(&cfg, &dm, 2);
	cr_assert_eq(vm_mount_script(&dm, false, &s, &err), 0, "%s", err.msg);
	cr_expect_null(s);
}
