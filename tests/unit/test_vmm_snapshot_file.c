/* SPDX-License-Identifier: MIT */
/*
 * The snapshot's files (providers/kvm/snapshot_file.c), no VM needed:
 * sections come back as written; a damaged or hostile state file (cut
 * short, another magic or format, a section running past the end, an
 * index the VM has not, random damage) is refused saying what is wrong,
 * and never read out of bounds (the sanitizer build checks); a snapshot
 * of another VM names both sizes; memory is written sparse, and a memory
 * file of the wrong size is refused.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/kvm/snapshot_file.h"
#include "tests/helpers/testutil.h"

static char *dir, path[1024];
static uint8_t *good;
static size_t good_len;

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A snapshot of 2 vCPUs and 1 device, 16 MiB, with a few sections. */
static void setup(void)
{
	struct snap_writer w;
	struct snap_header h = { .cpus = 2, .ndevs = 1, .memory = 16 << 20, .has = SNAP_HAS_XSAVE };
	struct den_err err = { 0 };
	uint8_t regs[144];

	dir = make_temp_dir();
	snprintf(path, sizeof(path), "%s/state", dir);
	snap_writer_start(&w, &h);
	for (uint32_t cpu = 0; cpu < 2; cpu++) {
		memset(regs, (int)(0xa0 + cpu), sizeof(regs));
		snap_put(&w, SNAP_VCPU_REGS, cpu, regs, sizeof(regs));
	}
	snap_put(&w, SNAP_VM_CLOCK, 0, "clock...", 8);
	snap_put(&w, SNAP_DEV_TRANSPORT, 0, "device", 6);
	cr_assert_eq(snap_writer_write(&w, path, &err), 0, "%s", err.msg);
	good = malloc(w.len);
	memcpy(good, w.buf, w.len);
	good_len = w.len;
	snap_writer_free(&w);
}

static void teardown(void)
{
	rm_rf(dir);
	free(dir);
	free(good);
}

TestSuite(snapshot_file, .init = setup, .fini = teardown);

static void put(const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* good, changed by change at offset at (len bytes), cut to cut bytes: refused with said. */
static void expect_refused(size_t at, const void *change, size_t len, size_t cut, const char *said)
{
	uint8_t *buf = malloc(good_len);
	struct snap_file f;
	struct den_err err = { 0 };

	memcpy(buf, good, good_len);
	if (change != NULL)
		memcpy(buf + at, change, len);
	put(buf, cut);
	cr_expect_eq(snap_file_read(path, &f, &err), -1, "refused: %s", said);
	cr_expect(strstr(err.msg, said) != NULL, "'%s' in: %s", said, err.msg);
	free(buf);
}

Test(snapshot_file, sections_come_back_as_written)
{
	struct snap_file f;
	struct den_err err = { 0 };
	uint8_t regs[144], want[144];

	cr_assert_eq(snap_file_read(path, &f, &err), 0, "%s", err.msg);
	cr_expect_eq(f.h.cpus, 2);
	cr_expect_eq(f.h.memory, 16 << 20);
	cr_expect_eq(f.h.has, SNAP_HAS_XSAVE);
	cr_expect_str_eq(f.h.den_version, DEN_VERSION);
	cr_assert_eq(snap_get(&f, SNAP_VCPU_REGS, 1, regs, sizeof(regs), &err), 0, "%s", err.msg);
	memset(want, 0xa1, sizeof(want));
	cr_expect(memcmp(regs, want, sizeof(regs)) == 0, "vCPU 1's own registers");
	cr_expect_eq(snap_get(&f, SNAP_VCPU_REGS, 0, regs, 100, &err), -1);
	cr_expect(strstr(err.msg, "is 144 bytes, not 100") != NULL, "%s", err.msg);
	cr_expect_eq(snap_get(&f, SNAP_VCPU_LAPIC, 0, regs, 100, &err), -1);
	cr_expect(strstr(err.msg, "has no vCPU local APIC for 0") != NULL, "%s", err.msg);
	cr_expect_eq(snap_file_check_vm(&f, 2, 16 << 20, &err), 0);
	snap_file_free(&f);
}

Test(snapshot_file, a_snapshot_of_another_vm_is_refused_naming_both)
{
	struct snap_file f;
	struct den_err err = { 0 };

	cr_assert_eq(snap_file_read(path, &f, &err), 0, "%s", err.msg);
	cr_expect_eq(snap_file_check_vm(&f, 1, 16 << 20, &err), -1);
	cr_expect(strstr(err.msg, "a VM with 2 vCPUs; this VM has 1: restore it with --cpus 2") !=
			  NULL,
		  "%s", err.msg);
	cr_expect_eq(snap_file_check_vm(&f, 2, 64 << 20, &err), -1);
	cr_expect(strstr(err.msg, "16 MiB of memory; this VM has 64 MiB: restore it with "
				  "--memory 16M") != NULL,
		  "%s", err.msg);
	snap_file_free(&f);
}

Test(snapshot_file, a_damaged_or_hostile_state_file_is_refused_saying_what)
{
	const size_t hdr = sizeof(struct snap_header), sec = 16;
	uint32_t v32;
	uint64_t v64;

	expect_refused(0, NULL, 0, 5, "is not a den snapshot");
	expect_refused(0, NULL, 0, 40, "is truncated (40 bytes");
	expect_refused(0, "DENSNAQ\n", 8, good_len, "is not a den snapshot");
	v32 = 7;
	expect_refused(8, &v32, 4, good_len, "is a snapshot of format 7 (saved by den");
	char only[64];
	snprintf(only, sizeof(only), "restores format %u only", SNAP_FORMAT);
	expect_refused(8, &v32, 4, good_len, only);
	v32 = 60;
	expect_refused(12, &v32, 4, good_len, "its header does not add up");
	v32 = 0;
	expect_refused(48, &v32, 4, good_len, "0 vCPUs");
	expect_refused(16, "0123456789abcdef0123456789abcdef", 32, good_len,
		       "its den version is not text");
	/* The first section's length, past the end of the file. */
	v64 = 1ull << 40;
	expect_refused(hdr + 8, &v64, 8, good_len, "runs past the end of the file");
	v64 = good_len - hdr - sec + 1;
	expect_refused(hdr + 8, &v64, 8, good_len, "runs past the end of the file");
	expect_refused(0, NULL, 0, hdr + 10, "section 0 is cut short");
	expect_refused(0, NULL, 0, good_len - 3, "runs past the end");
	/* A vCPU the VM has not, a type den does not know. */
	v32 = 2;
	expect_refused(hdr + 4, &v32, 4, good_len, "index 2, which a VM of 2 vCPUs");
	v32 = 999;
	expect_refused(hdr, &v32, 4, good_len, "has type 999");
}

Test(snapshot_file, a_missing_state_file_says_there_is_no_snapshot)
{
	struct snap_file f;
	struct den_err err = { 0 };

	unlink(path);
	cr_expect_eq(snap_file_read(path, &f, &err), -1);
	cr_expect(strstr(err.msg, "no snapshot there (or its save was cut short)") != NULL, "%s",
		  err.msg);
}

/* Random damage: refused or read, never a read out of bounds (ASan) nor a section past the end. */
Test(snapshot_file, random_damage_never_reads_out_of_bounds)
{
	uint8_t *buf = malloc(good_len);

	for (int i = 0; i < 3000; i++) {
		struct snap_file f;
		struct den_err err = { 0 };
		size_t cut = good_len;
		memcpy(buf, good, good_len);
		for (int n = 0; n < 1 + (int)(rnd() % 4); n++)
			buf[rnd() % good_len] = (uint8_t)rnd();
		if (rnd() % 4 == 0)
			cut = rnd() % (good_len + 1);
		put(buf, cut);
		if (snap_file_read(path, &f, &err) < 0) {
			cr_assert(err.msg[0] != '\0', "a refusal says why");
			continue;
		}
		for (uint32_t t = 0; t < 80; t++) {
			for (uint32_t idx = 0; idx < 3; idx++) {
				size_t len = 0;
				const uint8_t *p = snap_find(&f, (enum snap_type)t, idx, &len);
				if (p != NULL)
					cr_assert(p >= f.buf && p + len <= f.buf + f.len);
			}
		}
		snap_file_free(&f);
	}
	free(buf);
}

Test(snapshot_file, memory_is_written_sparse_and_a_short_file_is_refused)
{
	const uint64_t size = 8 << 20;
	uint8_t *mem = calloc(1, size);
	char mpath[1100];
	struct den_err err = { 0 };
	struct stat st;

	snprintf(mpath, sizeof(mpath), "%s/memory", dir);
	for (int i = 0; i < 5; i++)
		mem[rnd() % size] = (uint8_t)(1 + rnd() % 255);
	memset(mem + size - 4096, 0x5a, 4096); /* the last page, whole */
	cr_assert_eq(snap_memory_write(mpath, mem, size, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(mpath, &st), 0);
	cr_expect_eq(st.st_size, (off_t)size);
	cr_expect_leq(st.st_blocks * 512, 6 * 4096 * 4, "6 pages written of 2048: %lld bytes",
		      (long long)st.st_blocks * 512);
	int fd = snap_memory_open(mpath, size, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	uint8_t *back = malloc(size);
	cr_assert_eq(pread(fd, back, size, 0), (ssize_t)size);
	cr_expect(memcmp(back, mem, size) == 0, "the memory file holds guest RAM as it was");
	close(fd);
	cr_assert_eq(truncate(mpath, size - 4096), 0);
	cr_expect_eq(snap_memory_open(mpath, size, &err), -1);
	cr_expect(strstr(err.msg, "is 8384512 bytes; its VM had 8388608 bytes") != NULL, "%s",
		  err.msg);
	free(back);
	free(mem);
}
