/* SPDX-License-Identifier: MIT */
/* cgroup layouts v1, v2 and hybrid, on fake cgroup trees in a temp folder. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/size.h"
#include "providers/container/cgroup.h"
#include "tests/helpers/testutil.h"

static char *slurp(const char *dir, const char *file)
{
	static char buf[256];
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s was not written", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *const self_v1 = "4:memory:/sandbox/a\n3:cpuset:/\n2:cpu,cpuacct:/\n"
				   "1:pids:/\n0::/\n";

static void fake_v1(const char *root, bool unified)
{
	const char *dirs[] = { "memory/sandbox/a", "cpu", "cpuset", "pids" };

	for (size_t i = 0; i < 4; i++) {
		char keep[4096];
		snprintf(keep, sizeof(keep), "%s/.keep", dirs[i]);
		write_file(root, keep, "");
	}
	write_file(root, "cpuset/cpuset.cpus", "0-3\n");
	write_file(root, "cpuset/cpuset.mems", "0\n");
	if (unified)
		write_file(root, "unified/cgroup.procs", "");
}

Test(cgroup, layouts_are_told_apart)
{
	char *v1 = make_temp_dir(), *v2 = make_temp_dir(), *hy = make_temp_dir(),
	     *none = make_temp_dir();

	fake_v1(v1, false);
	fake_v1(hy, true);
	write_file(v2, "cgroup.controllers", "cpu memory pids\n");
	cr_expect_eq(cg_detect(v1), CG_V1);
	cr_expect_eq(cg_detect(hy), CG_HYBRID);
	cr_expect_eq(cg_detect(v2), CG_V2);
	cr_expect_eq(cg_detect(none), CG_NONE);
	cr_expect_str_eq(cg_mode_name(CG_HYBRID), "hybrid");
	rm_rf(v1), rm_rf(v2), rm_rf(hy), rm_rf(none);
}

static long pid_max(void)
{
	long max = 0;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");

	cr_assert(f != NULL && fscanf(f, "%ld", &max) == 1);
	fclose(f);
	return max;
}

static void check_v1(bool unified)
{
	char *root = make_temp_dir(), dir[4096];
	struct ctr_cgroup cg;
	struct den_err err = { 0 };

	fake_v1(root, unified);
	cr_assert(cg_create(root, self_v1, "web-1", 2, 512 * DEN_MIB, &cg, &err) == 0, "%s",
		  err.msg);
	cr_expect_eq(cg.mode, unified ? CG_HYBRID : CG_V1);
	snprintf(dir, sizeof(dir), "%s/memory/sandbox/a/den/web-1", root);
	cr_expect_str_eq(slurp(dir, "memory.limit_in_bytes"), "536870912",
			 "below den's own memory cgroup");
	snprintf(dir, sizeof(dir), "%s/cpu/den/web-1", root);
	cr_expect_str_eq(slurp(dir, "cpu.cfs_quota_us"), "200000");
	cr_expect_str_eq(slurp(dir, "cpu.cfs_period_us"), "100000");
	snprintf(dir, sizeof(dir), "%s/cpuset/den/web-1", root);
	cr_expect_str_eq(slurp(dir, "cpuset.cpus"), "0,1", "two CPUs of the four");
	cr_expect_str_eq(slurp(dir, "cpuset.mems"), "0");
	snprintf(dir, sizeof(dir), "%s/pids/den/web-1", root);
	cr_expect_eq(atol(slurp(dir, "pids.max")), pid_max() / 8, "a container: pid_max/8");
	snprintf(dir, sizeof(dir), "%s/pids/den", root);
	cr_expect_eq(atol(slurp(dir, "pids.max")), pid_max() / 2,
		     "every container together: pid_max/2, the host keeps the rest");
	snprintf(dir, sizeof(dir), "%s/pids/den/web-1", root);
	cr_assert(cg_attach(&cg, 4242, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(slurp(dir, "cgroup.procs"), "4242");
	cg_destroy(&cg);
	rm_rf(root);
}

Test(cgroup, v1_limits_memory_cpu_quota_cpuset_and_pids)
{
	check_v1(false);
}

Test(cgroup, hybrid_uses_the_v1_controllers)
{
	check_v1(true);
}

Test(cgroup, v2_writes_max_files_and_delegates_controllers)
{
	char *root = make_temp_dir(), dir[4096];
	struct ctr_cgroup cg;
	struct den_err err = { 0 };

	write_file(root, "cgroup.controllers", "cpu memory pids\n");
	cr_assert(cg_create(root, "0::/user.slice/den.scope\n", "db", 3, DEN_GIB, &cg, &err) == 0,
		  "%s", err.msg);
	snprintf(dir, sizeof(dir), "%s/user.slice/den.scope/den", root);
	cr_expect_str_eq(slurp(dir, "cgroup.subtree_control"), "+cpu +memory +pids");
	snprintf(dir, sizeof(dir), "%s/user.slice/den.scope/den/db", root);
	cr_expect_str_eq(slurp(dir, "memory.max"), "1073741824");
	cr_expect_str_eq(slurp(dir, "cpu.max"), "300000 100000");
	cr_expect_eq(atol(slurp(dir, "pids.max")), pid_max() / 8);
	snprintf(dir, sizeof(dir), "%s/user.slice/den.scope/den", root);
	cr_expect_eq(atol(slurp(dir, "pids.max")), pid_max() / 2);
	cg_destroy(&cg);
	rm_rf(root);
}

Test(cgroup, no_cgroups_is_an_error_that_says_so)
{
	char *root = make_temp_dir();
	struct ctr_cgroup cg;
	struct den_err err = { 0 };

	cr_expect(cg_create(root, "", "x", 1, DEN_GIB, &cg, &err) < 0);
	cr_expect(strstr(err.msg, "cannot limit cpus and memory") != NULL, "%s", err.msg);
	rm_rf(root);
}

static bool exists(const char *dir, const char *file)
{
	char path[8192];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return stat(path, &st) == 0;
}

Test(cgroup, v2_delegates_a_child_of_the_limited_cgroup)
{
	char *root = make_temp_dir(), dir[4096];
	struct ctr_cgroup cg;
	struct den_err err = { 0 };

	write_file(root, "cgroup.controllers", "cpu memory pids\n");
	cr_assert(cg_create(root, "0::/den.scope\n", "db-7", 1, DEN_GIB, &cg, &err) == 0, "%s",
		  err.msg);
	cr_assert(cg_delegate(root, "0::/den.scope\n", "db-7", &cg, &err) == 0, "%s", err.msg);
	cr_assert(cg_attach(&cg, 4242, &err) == 0, "%s", err.msg);
	snprintf(dir, sizeof(dir), "%s/den.scope/den/db-7", root);
	cr_expect_str_eq(slurp(dir, "payload/cgroup.procs"), "4242",
			 "the container goes in the delegated child");
	cr_expect(!exists(dir, "cgroup.procs"), "the limited cgroup holds no process");
	cr_expect_str_eq(slurp(dir, "memory.max"), "1073741824");
	cg_destroy(&cg);
	rm_rf(root);
}

Test(cgroup, hybrid_delegates_the_containers_folder_in_unified)
{
	char *root = make_temp_dir(), dir[4096];
	const char *self = "4:memory:/sandbox/a\n3:cpuset:/\n2:cpu,cpuacct:/\n1:pids:/\n"
			   "0::/user.slice/den.scope\n";
	struct ctr_cgroup cg;
	struct den_err err = { 0 };

	fake_v1(root, true);
	cr_assert(cg_create(root, self, "web-9", 1, DEN_GIB, &cg, &err) == 0, "%s", err.msg);
	cr_assert(cg_delegate(root, self, "web-9", &cg, &err) == 0, "%s", err.msg);
	cr_assert(cg_attach(&cg, 4242, &err) == 0, "%s", err.msg);
	snprintf(dir, sizeof(dir), "%s/unified/user.slice/den.scope/den/web-9", root);
	cr_expect_str_eq(slurp(dir, "cgroup.procs"), "4242", "below den's own cgroup2 folder");
	snprintf(dir, sizeof(dir), "%s/memory/sandbox/a/den/web-9", root);
	cr_expect_str_eq(slurp(dir, "cgroup.procs"), "4242", "and in the v1 controllers");
	cg_destroy(&cg);
	rm_rf(root);
}

Test(cgroup, v1_alone_cannot_delegate_and_says_why)
{
	char *root = make_temp_dir();
	struct ctr_cgroup cg;
	struct den_err err = { 0 };

	fake_v1(root, false);
	cr_assert(cg_create(root, self_v1, "x-1", 1, DEN_GIB, &cg, &err) == 0, "%s", err.msg);
	cr_expect(cg_delegate(root, self_v1, "x-1", &cg, &err) < 0);
	cr_expect(strstr(err.msg, "needs cgroup2") != NULL, "%s", err.msg);
	cg_destroy(&cg);
	rm_rf(root);
}
