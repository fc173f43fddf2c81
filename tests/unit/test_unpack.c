/* SPDX-License-Identifier: MIT */
/* Symlink containment and the size cap, below what the e2e tests reach. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "boxes/unpack.h"
#include "core/size.h"

Test(unpack, the_size_cap_comes_from_den_box_max_size)
{
	uint64_t max = 0;
	struct den_err err = { 0 };

	unsetenv("DEN_BOX_MAX_SIZE");
	cr_assert(unpack_max_bytes(&max, &err) == 0);
	cr_expect_eq(max, 64 * DEN_GIB);
	setenv("DEN_BOX_MAX_SIZE", "10G", 1);
	cr_assert(unpack_max_bytes(&max, &err) == 0);
	cr_expect_eq(max, 10 * DEN_GIB);
	setenv("DEN_BOX_MAX_SIZE", "lots", 1);
	cr_expect(unpack_max_bytes(&max, &err) < 0);
	cr_expect_eq(err.kind, DEN_ERR_USAGE);
	unsetenv("DEN_BOX_MAX_SIZE");
}
