/* SPDX-License-Identifier: MIT */
/* A container's id ranges (/etc/subuid), its synced folders' id maps, the rootless map. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/userns.h"
#include "providers/container/idmap.h"

Test(idmap, subid_range_by_name_or_number)
{
	const char *text = "alice:100000:65536\nroot:200000:65536\n1001:300000:131072\n";

	cr_assert_eq(userns_subid_start(text, "alice", 1000), 100000);
	cr_assert_eq(userns_subid_start(text, "root", 0), 200000);
	cr_assert_eq(userns_subid_start(text, "bob", 1001), 300000);
	cr_assert_eq(userns_subid_start(text, "carol", 1002), 0);
}

Test(idmap, subid_ranges_too_small_or_bad_are_skipped)
{
	cr_assert_eq(userns_subid_start("alice:100000:1000\nalice:500000:65536\n", "alice", 1),
		     500000);
	cr_assert_eq(userns_subid_start("alice:0:65536\n", "alice", 1), 0);
	cr_assert_eq(userns_subid_start("alice:4294967000:65536\n", "alice", 1), 0);
	cr_assert_eq(userns_subid_start("alice:12x:65536\nalice::65536\nalice:5\n", "alice", 1), 0);
	cr_assert_eq(userns_subid_start("", "alice", 1), 0);
	cr_assert_eq(userns_subid_start("alice:100000:65536", "alice", 1), 100000);
}

Test(idmap, folder_owner_trades_places_with_the_guest_user)
{
	char buf[256];

	cr_assert_eq(ctr_folder_map(buf, sizeof(buf), 100000, 4321, 1000), 0);
	cr_assert_str_eq(buf, "4321 101000 1\n101000 4321 1\n100000 100000 1000\n"
			      "101001 101001 64535\n");
}

Test(idmap, folder_owned_by_root_inside_or_at_the_edges)
{
	char buf[256];

	/* owner: root inside: the folder's owner is container root. */
	cr_assert_eq(ctr_folder_map(buf, sizeof(buf), 100000, 4321, 0), 0);
	cr_assert_str_eq(buf, "4321 100000 1\n100000 4321 1\n100001 100001 65535\n");
	/* The last container id. */
	cr_assert_eq(ctr_folder_map(buf, sizeof(buf), 100000, 4321, 65535), 0);
	cr_assert_str_eq(buf, "4321 165535 1\n165535 4321 1\n100000 100000 65535\n");
}

Test(idmap, host_root_is_never_mapped)
{
	char buf[256];

	cr_assert_eq(ctr_folder_map(buf, sizeof(buf), 100000, 0, 1000), 0);
	cr_assert_str_eq(buf, "100000 100000 65536\n");
	/* An owner already inside the range shows as what it is. */
	cr_assert_eq(ctr_folder_map(buf, sizeof(buf), 100000, 100005, 1000), 0);
	cr_assert_str_eq(buf, "100000 100000 65536\n");
	/* So does a guest id past the range. */
	cr_assert_eq(ctr_folder_map(buf, sizeof(buf), 100000, 4321, 70000), 0);
	cr_assert_str_eq(buf, "100000 100000 65536\n");
}

Test(idmap, too_small_a_buffer_is_an_error)
{
	char buf[20];

	cr_assert_eq(ctr_folder_map(buf, sizeof(buf), 100000, 4321, 1000), -1);
}

Test(userns, map_args_put_the_user_at_the_login_id)
{
	char buf[128];

	cr_assert_eq(userns_map_args(buf, sizeof(buf), 100000, 1001), 0);
	cr_assert_str_eq(buf, "0 100000 1000 1000 1001 1 1001 101000 64535");
	cr_assert_eq(userns_map_args(buf, 10, 100000, 1001), -1);
}
