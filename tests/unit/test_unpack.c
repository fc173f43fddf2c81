/* SPDX-License-Identifier: MIT */
/* The size cap and folder modes, below what the e2e tests reach. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxes/pack.h"
#include "boxes/unpack.h"
#include "core/size.h"
#include "tests/helpers/testutil.h"

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

/*
 * Folder modes and times are set when the archive is closed, by relative
 * names: that must happen in the target, not in den's working folder
 * (where a folder of the same name would get them).
 */
Test(unpack, folder_modes_land_in_the_target_not_the_working_folder)
{
	char *work = make_temp_dir(), *into = make_temp_dir(), cmd[8192], path[4096];
	struct den_err err = { 0 };
	struct stat st;
	uint64_t used = 0;

	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -m 0700 tmp && python3 -c \"import tarfile, io\n"
		 "t = tarfile.open('root.tar', 'w')\n"
		 "d = tarfile.TarInfo('./tmp'); d.type = tarfile.DIRTYPE; d.mode = 0o1777; d.mtime "
		 "= 1000000000\n"
		 "t.addfile(d)\n"
		 "f = tarfile.TarInfo('./tmp/x'); f.size = 2\n"
		 "t.addfile(f, io.BytesIO(b'hi'))\n"
		 "t.close()\"",
		 work);
	cr_assert(system(cmd) == 0);
	cr_assert(chdir(work) == 0);
	snprintf(path, sizeof(path), "%s/root.tar", work);
	cr_assert(unpack_archive(path, into, UNPACK_ROOTFS, DEN_GIB, &used, &err) == 0, "%s",
		  err.msg);
	snprintf(path, sizeof(path), "%s/tmp", into);
	cr_assert(stat(path, &st) == 0);
	cr_expect_eq(st.st_mode & 07777, 01777, "the target's tmp is 1777 (got %o)",
		     st.st_mode & 07777);
	cr_expect_eq(st.st_mtime, 1000000000);
	snprintf(path, sizeof(path), "%s/tmp", work);
	cr_assert(stat(path, &st) == 0);
	cr_expect_eq(st.st_mode & 07777, 0700, "the working folder's tmp is untouched (got %o)",
		     st.st_mode & 07777);
	rm_rf(work);
	rm_rf(into);
}

/* den's own boxes must unpack: a sparse file (debian-11's faillog) is packed dense. */
Test(unpack, a_packed_sparse_file_unpacks)
{
	char *tree = make_temp_dir(), *into = make_temp_dir(), path[4096], tar[4096];
	struct den_err err = { 0 };
	struct stat st;
	uint64_t used = 0;

	snprintf(path, sizeof(path), "%s/faillog", tree);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputc('x', f);
	cr_assert(ftruncate(fileno(f), 8 << 20) == 0);
	fclose(f);
	snprintf(tar, sizeof(tar), "%s.tar", into);
	cr_assert(pack_tree(tree, tar, &err) == 0, "%s", err.msg);
	cr_assert(unpack_archive(tar, into, UNPACK_ROOTFS, DEN_GIB, &used, &err) == 0, "%s",
		  err.msg);
	snprintf(path, sizeof(path), "%s/faillog", into);
	cr_assert(stat(path, &st) == 0);
	cr_expect_eq(st.st_size, 8 << 20);
	unlink(tar);
	rm_rf(tree);
	rm_rf(into);
}
