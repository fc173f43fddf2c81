/* SPDX-License-Identifier: MIT */
/*
 * Copy-on-write disks (providers/kvm/cow_disk.c): random reads and writes,
 * in random iovec pieces, give what a plain copy of the base gives; the
 * base is never written; writes survive close and open; a disk grows; a
 * damaged overlay or a changed base is refused.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/kvm/cow_disk.h"
#include "tests/helpers/testutil.h"

#define BASE_SIZE (3 * COW_CLUSTER + 7 * 512 + 100) /* not a whole cluster, not whole sectors */
#define DISK_SIZE (8 * COW_CLUSTER)

static char *dir, base[1024], overlay[1024];
static uint8_t *plain; /* what the disk should hold */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void setup(void)
{
	dir = make_temp_dir();
	snprintf(base, sizeof(base), "%s/base.raw", dir);
	snprintf(overlay, sizeof(overlay), "%s/disk.cow", dir);
	plain = calloc(1, DISK_SIZE);
	for (size_t i = 0; i < BASE_SIZE; i++)
		plain[i] = (uint8_t)rnd();
	FILE *f = fopen(base, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(plain, 1, BASE_SIZE, f), BASE_SIZE);
	fclose(f);
}

static void teardown(void)
{
	rm_rf(dir);
	free(dir);
	free(plain);
}

TestSuite(cow_disk, .init = setup, .fini = teardown);

static struct cow_disk *open_disk(uint64_t size)
{
	struct cow_disk *d = NULL;
	struct den_err err = { 0 };

	cr_assert_eq(cow_disk_open(overlay, base, size, &d, &err), 0, "%s", err.msg);
	return d;
}

/* buf of len bytes as up to 4 iovecs of random lengths. */
static int split(uint8_t *buf, size_t len, struct iovec *iov)
{
	int n = 0;
	size_t at = 0;

	while (at < len && n < 3) {
		size_t take = rnd() % (len - at + 1);
		iov[n++] = (struct iovec){ buf + at, take };
		at += take;
	}
	iov[n++] = (struct iovec){ buf + at, len - at };
	return n;
}

static void expect_whole_disk(struct cow_disk *d)
{
	uint8_t *got = malloc(DISK_SIZE);
	struct iovec iov = { got, DISK_SIZE };
	struct den_err err = { 0 };

	cr_assert_eq(cow_disk_readv(d, &iov, 1, 0, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < DISK_SIZE; i++)
		if (got[i] != plain[i])
			cr_assert_fail("byte %zu: %u, want %u", i, got[i], plain[i]);
	free(got);
}

static void random_io(struct cow_disk *d, int rounds, bool sectors_only)
{
	static uint8_t buf[3 * COW_CLUSTER];
	struct iovec iov[4];
	struct den_err err = { 0 };

	for (int r = 0; r < rounds; r++) {
		size_t len = 1 + rnd() % sizeof(buf);
		uint64_t off = rnd() % DISK_SIZE;
		if (sectors_only) {
			off -= off % 512;
			len = (len + 511) / 512 * 512;
		}
		if (off + len > DISK_SIZE)
			len = DISK_SIZE - off;
		int n = split(buf, len, iov);
		if (rnd() % 2) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rnd();
			cr_assert_eq(cow_disk_writev(d, iov, n, off, &err), 0, "%s", err.msg);
			memcpy(plain + off, buf, len);
		} else {
			cr_assert_eq(cow_disk_readv(d, iov, n, off, &err), 0, "%s", err.msg);
			cr_assert(memcmp(buf, plain + off, len) == 0, "read %zu at %llu differs",
				  len, (unsigned long long)off);
		}
	}
}

Test(cow_disk, random_reads_and_writes_match_a_plain_copy)
{
	struct stat before, after;

	cr_assert_eq(stat(base, &before), 0);
	struct cow_disk *d = open_disk(DISK_SIZE);
	cr_expect_eq(cow_disk_size(d), DISK_SIZE);
	expect_whole_disk(d); /* nothing written: the base, then zeros */
	random_io(d, 400, false);
	random_io(d, 400, true);
	expect_whole_disk(d);
	cow_disk_close(d);

	d = open_disk(0); /* again: what was written is there */
	expect_whole_disk(d);
	cow_disk_close(d);

	uint8_t *b = malloc(BASE_SIZE);
	FILE *f = fopen(base, "r");
	cr_assert_eq(fread(b, 1, BASE_SIZE, f), BASE_SIZE);
	fclose(f);
	cr_assert_eq(stat(base, &after), 0);
	cr_expect_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec, "the base is never written");
	cr_expect_eq(after.st_size, BASE_SIZE);
	free(b);
}

Test(cow_disk, flushed_writes_survive_a_den_that_never_closed)
{
	struct cow_disk *d = open_disk(DISK_SIZE);
	struct den_err err = { 0 };

	random_io(d, 200, true);
	cr_assert_eq(cow_disk_flush(d, &err), 0, "%s", err.msg);
	/* Killed here: the file as it is, without close. */
	char copy[2200];
	snprintf(copy, sizeof(copy), "cp --sparse=always %s %s.kept", overlay, overlay);
	cr_assert_eq(system(copy), 0);
	cow_disk_close(d);
	snprintf(copy, sizeof(copy), "%s.kept", overlay);
	cr_assert_eq(rename(copy, overlay), 0);
	d = open_disk(0);
	expect_whole_disk(d);
	cow_disk_close(d);
}

Test(cow_disk, a_disk_grows_and_never_shrinks)
{
	struct cow_disk *d = open_disk(4 * COW_CLUSTER);
	struct den_err err = { 0 };
	uint8_t z[512];
	struct iovec iov = { z, sizeof(z) };

	cr_expect_neq(cow_disk_readv(d, &iov, 1, 4 * COW_CLUSTER, &err), 0, "past the end");
	cow_disk_close(d);
	d = open_disk(DISK_SIZE);
	cr_expect_eq(cow_disk_size(d), DISK_SIZE);
	expect_whole_disk(d); /* the new part reads as zeros */
	cow_disk_close(d);
	cr_expect_neq(cow_disk_open(overlay, base, 2 * COW_CLUSTER, &d, &err), 0);
	cr_expect(strstr(err.msg, "cannot shrink") != NULL, "%s", err.msg);
}

Test(cow_disk, a_changed_base_or_a_damaged_overlay_is_refused)
{
	struct cow_disk *d = open_disk(DISK_SIZE);
	struct den_err err = { 0 };

	cow_disk_close(d);
	struct timespec t[2] = { { 0, UTIME_OMIT }, { 12345, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, base, t, 0), 0);
	cr_expect_neq(cow_disk_open(overlay, base, 0, &d, &err), 0);
	cr_expect(strstr(err.msg, "changed since the machine was made") != NULL, "%s", err.msg);

	unlink(overlay);
	d = open_disk(DISK_SIZE);
	cow_disk_close(d);
	int fd = open(overlay, O_WRONLY);
	cr_assert_eq(pwrite(fd, "\xff\xff\xff\xff", 4, 16), 4); /* the size */
	close(fd);
	memset(&err, 0, sizeof(err));
	cr_expect_neq(cow_disk_open(overlay, base, 0, &d, &err), 0);
	cr_expect(strstr(err.msg, "is not a disk den made") != NULL, "%s", err.msg);
}

Test(cow_disk, a_new_disk_smaller_than_its_base_is_refused_and_not_left)
{
	struct cow_disk *d = NULL;
	struct den_err err = { 0 };

	cr_expect_neq(cow_disk_open(overlay, base, 512, &d, &err), 0);
	cr_expect(access(overlay, F_OK) != 0, "no half-made overlay is left");
}

Test(cow_disk, a_new_disk_of_no_size_given_is_the_images_in_whole_sectors)
{
	struct cow_disk *d = open_disk(0);

	cr_expect_eq(cow_disk_size(d), (BASE_SIZE + 511) / 512 * 512);
	cow_disk_close(d);
}

/* Both files' bytes, all of them, equal. */
static void expect_same_files(const char *a, const char *b)
{
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	static uint8_t ba[1 << 20], bb[1 << 20];
	size_t na, nb;
	uint64_t at = 0;

	cr_assert(fa != NULL && fb != NULL);
	do {
		na = fread(ba, 1, sizeof(ba), fa);
		nb = fread(bb, 1, sizeof(bb), fb);
		cr_assert_eq(na, nb, "the copy is as long as the overlay");
		cr_assert(memcmp(ba, bb, na) == 0, "the copy differs in the MiB at %llu",
			  (unsigned long long)at);
		at += na;
	} while (na > 0);
	fclose(fa);
	fclose(fb);
}

/* For a snapshot: a copy of an overlay written at random places, whole and still sparse. */
Test(cow_disk, a_copy_of_an_overlay_is_the_same_disk_and_as_sparse)
{
	const uint64_t size = 256ull << 20;
	struct cow_disk *d = open_disk(size);
	struct den_err err = { 0 };
	static uint8_t bufs[24][2 * COW_CLUSTER];
	uint64_t offs[24];
	size_t lens[24];
	char copy[1100];
	struct stat src, dst;

	for (int i = 0; i < 24; i++) {
		lens[i] = 1 + rnd() % sizeof(bufs[i]);
		offs[i] = rnd() % (size - lens[i]);
		for (size_t j = 0; j < lens[i]; j++)
			bufs[i][j] = (uint8_t)rnd();
		struct iovec iov = { bufs[i], lens[i] };
		cr_assert_eq(cow_disk_writev(d, &iov, 1, offs[i], &err), 0, "%s", err.msg);
	}
	cr_assert_eq(cow_disk_flush(d, &err), 0, "%s", err.msg);
	snprintf(copy, sizeof(copy), "%s/copy.cow", dir);
	cr_assert_eq(cow_disk_copy(overlay, copy, true, &err), 0, "%s", err.msg);
	cow_disk_close(d);
	expect_same_files(overlay, copy);
	cr_assert_eq(stat(overlay, &src), 0);
	cr_assert_eq(stat(copy, &dst), 0);
	cr_expect_eq(dst.st_mode & 0777, 0600);
	cr_expect_lt(dst.st_blocks * 512, dst.st_size / 16, "sparse: %lld bytes taken of %lld",
		     (long long)dst.st_blocks * 512, (long long)dst.st_size);
	cr_expect_leq(dst.st_blocks, src.st_blocks + 128, "no more room than the overlay's");

	/* The copy is a disk over the same base: the last write to each place reads back. */
	unlink(overlay);
	cr_assert_eq(rename(copy, overlay), 0);
	d = open_disk(0);
	for (int i = 0; i < 24; i++) {
		static uint8_t got[2 * COW_CLUSTER];
		struct iovec iov = { got, lens[i] };
		cr_assert_eq(cow_disk_readv(d, &iov, 1, offs[i], &err), 0, "%s", err.msg);
		for (int later = i + 1; later < 24; later++) /* later writes over this one win */
			for (size_t j = 0; j < lens[i]; j++)
				if (offs[i] + j >= offs[later] &&
				    offs[i] + j < offs[later] + lens[later])
					bufs[i][j] = bufs[later][offs[i] + j - offs[later]];
		cr_expect(memcmp(got, bufs[i], lens[i]) == 0, "write %d reads back from the copy",
			  i);
	}
	cow_disk_close(d);
}

Test(cow_disk, copying_a_file_that_is_no_overlay_is_refused)
{
	struct den_err err = { 0 };
	char copy[1100];

	snprintf(copy, sizeof(copy), "%s/copy.cow", dir);
	cr_expect_neq(cow_disk_copy(base, copy, false, &err), 0);
	cr_expect(strstr(err.msg, "is not a copy-on-write disk den made") != NULL, "%s", err.msg);
	cr_expect(access(copy, F_OK) != 0);
}
