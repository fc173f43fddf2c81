/* SPDX-License-Identifier: MIT */
/*
 * virtio-9p through its registers and queue, as Linux's driver uses it:
 * the mount tag in config space, requests split across descriptors (one
 * per page), replies scattered over several, and chains of garbage, each
 * answered or dropped, with the device working on after.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/kvm/p9.h"
#include "providers/kvm/virtio.h"
#include "tests/helpers/p9msg.h"
#include "tests/helpers/testutil.h"

#define RAM (4u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define NUM 128
#define OUT_AREA 0x10000   /* the requests' bytes */
#define IN_AREA 0x100000   /* room for the replies */
#define HUGE_AREA 0x200000 /* a request past P9_MAX_MSIZE */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
} __attribute__((packed));

static uint8_t *ram;
static struct guest_mem gm;
static struct virtio_dev d;
static char *dir;
static uint16_t avail_idx;
static struct p9m m;

static void irq(struct virtio_dev *dev)
{
	(void)dev;
}

static void reg_write(uint64_t off, uint32_t v)
{
	virtio_mmio_write(&d, off, (const uint8_t *)&v, 4);
}

static uint32_t reg_read(uint64_t off)
{
	uint32_t v = 0;
	virtio_mmio_read(&d, off, (uint8_t *)&v, 4);
	return v;
}

static void setup(void)
{
	struct den_err err = { 0 };

	ram = calloc(1, RAM);
	boot_layout(RAM, &gm.layout);
	gm.host = ram;
	dir = make_temp_dir();
	d = (struct virtio_dev){ .mem = &gm, .interrupt = irq, .name = "test" };
	pthread_mutex_init(&d.lock, NULL);
	cr_assert(virtio_9p_init(&d, dir, "share0", false, &err) == 0, "%s", err.msg);
	reg_write(0x030, 0);
	reg_write(0x038, NUM);
	reg_write(0x080, DESC);
	reg_write(0x090, AVAIL);
	reg_write(0x0a0, USED);
	reg_write(0x044, 1);
	reg_write(0x070, 1 | 2 | 8 | 4);
	avail_idx = 0;
}

static void teardown(void)
{
	virtio_9p_free(&d);
	rm_rf(dir);
	free(dir);
	free(ram);
}

/*
 * One chain of descs (NEXT flags and links filled in here), notified; the
 * used length, or -1 when the chain was not given back.
 */
static int64_t send_chain(const struct desc *descs, unsigned n)
{
	uint16_t used_before, used_after;
	uint32_t elem[2];

	for (unsigned i = 0; i < n; i++) {
		struct desc e = descs[i];
		e.flags = (uint16_t)(e.flags | (i + 1 < n ? 1 : 0));
		e.next = (uint16_t)(i + 1);
		memcpy(ram + DESC + 16 * i, &e, 16);
	}
	memcpy(&used_before, ram + USED + 2, 2);
	uint16_t head = 0;
	memcpy(ram + AVAIL + 4 + 2 * (avail_idx % NUM), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	reg_write(0x050, 0);
	memcpy(&used_after, ram + USED + 2, 2);
	if (used_after == used_before)
		return -1;
	memcpy(elem, ram + USED + 4 + 8 * (used_before % NUM), 8);
	return elem[1];
}

/* m as `pieces` readable descriptors and `room` bytes of reply in `wpieces` writable ones. */
static int64_t request(unsigned pieces, size_t room, unsigned wpieces)
{
	struct desc descs[NUM];
	size_t len = p9m_end(&m), at = 0;
	unsigned n = 0;

	memcpy(ram + OUT_AREA, m.b, len);
	for (unsigned i = 0; i < pieces; i++) {
		size_t take = i + 1 == pieces ? len - at : len / pieces;
		descs[n++] = (struct desc){ OUT_AREA + at, (uint32_t)take, 0, 0 };
		at += take;
	}
	at = 0;
	for (unsigned i = 0; i < wpieces; i++) {
		size_t take = i + 1 == wpieces ? room - at : room / wpieces;
		descs[n++] = (struct desc){ IN_AREA + at, (uint32_t)take, 2, 0 };
		at += take;
	}
	memset(ram + IN_AREA, 0xee, room);
	return send_chain(descs, n);
}

static uint8_t reply_type(void)
{
	return ram[IN_AREA + 4];
}

static uint32_t reply_u32(size_t at)
{
	uint32_t v;
	memcpy(&v, ram + IN_AREA + at, 4);
	return v;
}

/* Tversion, Tattach (fid 0), Twalk to fid 1: a session, through the queue. */
static void session(void)
{
	p9m_begin(&m, P9M_TVERSION, 0xffff);
	p9m_u32(&m, 262144);
	p9m_str(&m, "9P2000.L");
	cr_assert_eq(request(3, 4096, 2), 7 + 4 + 2 + 8, "Rversion, the request in 3 pieces");
	cr_assert_eq(reply_type(), 101);
	cr_assert_eq(reply_u32(7), 262144);
	p9m_begin(&m, P9M_TATTACH, 1);
	p9m_u32(&m, 0);
	p9m_u32(&m, 0xffffffff);
	p9m_str(&m, "root");
	p9m_str(&m, "");
	p9m_u32(&m, 0);
	cr_assert_eq(request(2, 4096, 1), 7 + 13);
	cr_assert_eq(reply_type(), 105);
	p9m_begin(&m, P9M_TWALK, 2);
	p9m_u32(&m, 0);
	p9m_u32(&m, 1);
	p9m_u16(&m, 0);
	cr_assert_eq(request(1, 4096, 1), 7 + 2);
	cr_assert_eq(reply_type(), 111);
}

TestSuite(virtio_9p, .init = setup, .fini = teardown);

Test(virtio_9p, offers_its_mount_tag)
{
	cr_expect_eq(reg_read(0x008), 9, "VIRTIO_ID_9P");
	reg_write(0x014, 0);
	cr_expect(reg_read(0x010) & 1, "VIRTIO_9P_MOUNT_TAG");
	reg_write(0x014, 1);
	cr_expect(reg_read(0x010) & 1, "VIRTIO_F_VERSION_1");
	uint16_t len = 0;
	virtio_mmio_read(&d, 0x100, (uint8_t *)&len, 2);
	cr_expect_eq(len, 6);
	char tag[8] = "";
	for (unsigned i = 0; i < 6; i++)
		virtio_mmio_read(&d, 0x102 + i, (uint8_t *)&tag[i], 1);
	cr_expect_str_eq(tag, "share0");
	uint32_t past = 0xffffffff;
	virtio_mmio_read(&d, 0x100 + 8, (uint8_t *)&past, 4);
	cr_expect_eq(past, 0, "past the tag: zeros");
}

Test(virtio_9p, a_file_is_made_and_written_through_split_chains)
{
	static uint8_t data[3 * 4096 + 100];
	char path[4096];

	session();
	p9m_begin(&m, P9M_TLCREATE, 3);
	p9m_u32(&m, 1);
	p9m_str(&m, "f");
	p9m_u32(&m, 2);
	p9m_u32(&m, 0644);
	p9m_u32(&m, 0);
	cr_assert_eq(request(4, 4096, 3), 7 + 13 + 4, "Rlcreate");
	cr_assert_eq(reply_type(), 15);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	p9m_begin(&m, P9M_TWRITE, 4);
	p9m_u32(&m, 1);
	p9m_u64(&m, 0);
	p9m_u32(&m, sizeof(data));
	p9m_bytes(&m, data, sizeof(data));
	cr_assert_eq(request(5, 4096, 1), 11, "Rwrite, the data over five descriptors");
	cr_assert_eq(reply_type(), 119);
	cr_assert_eq(reply_u32(7), sizeof(data));
	snprintf(path, sizeof(path), "%s/f", dir);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	static uint8_t back[sizeof(data)];
	cr_assert_eq(fread(back, 1, sizeof(back), f), sizeof(data));
	fclose(f);
	cr_expect_eq(memcmp(back, data, sizeof(data)), 0, "the bytes on the host");
	/* A read as Linux's zero-copy path asks: an 11-byte header, then the pages. */
	p9m_begin(&m, P9M_TREAD, 5);
	p9m_u32(&m, 1);
	p9m_u64(&m, 0);
	p9m_u32(&m, 8192);
	struct desc descs[] = {
		{ OUT_AREA, 0, 0, 0 },
		{ IN_AREA, 11, 2, 0 },
		{ IN_AREA + 0x1000, 4096, 2, 0 },
		{ IN_AREA + 0x3000, 4096, 2, 0 },
	};
	memcpy(ram + OUT_AREA, m.b, p9m_end(&m));
	descs[0].len = (uint32_t)m.n;
	cr_assert_eq(send_chain(descs, 4), 11 + 8192);
	cr_expect_eq(reply_type(), 117);
	cr_expect_eq(reply_u32(7), 8192);
	cr_expect_eq(memcmp(ram + IN_AREA + 0x1000, data, 4096), 0, "the first page");
	cr_expect_eq(memcmp(ram + IN_AREA + 0x3000, data + 4096, 4096), 0, "the second page");
}

/* The device answers a good request after whatever came before. */
static void expect_working(void)
{
	p9m_begin(&m, P9M_TGETATTR, 9);
	p9m_u32(&m, 1);
	p9m_u64(&m, 0x7ff);
	cr_expect_eq(request(1, 4096, 1), 7 + 153, "an Rgetattr after the garbage");
	cr_expect_eq(reply_type(), 25);
	cr_expect_eq(reg_read(0x070) & 0x40, 0, "the device was not marked broken");
}

Test(virtio_9p, garbage_chains_are_answered_or_dropped_and_the_device_goes_on)
{
	session();
	/* Nothing to read: an Rlerror without a tag. */
	struct desc empty[] = { { OUT_AREA, 0, 0, 0 }, { IN_AREA, 64, 2, 0 } };
	cr_expect_eq(send_chain(empty, 2), 11);
	cr_expect_eq(reply_type(), 7);
	cr_expect_eq(reply_u32(7), EPROTO);
	struct desc only_writable[] = { { IN_AREA, 64, 2, 0 } };
	cr_expect_eq(send_chain(only_writable, 1), 11);
	cr_expect_eq(reply_type(), 7);
	/* Nowhere to answer: given back with nothing written. */
	p9m_begin(&m, P9M_TGETATTR, 9);
	p9m_u32(&m, 1);
	p9m_u64(&m, 0x7ff);
	memcpy(ram + OUT_AREA, m.b, p9m_end(&m));
	struct desc only_readable[] = { { OUT_AREA, (uint32_t)m.n, 0, 0 } };
	cr_expect_eq(send_chain(only_readable, 1), 0);
	struct desc tiny_room[] = { { OUT_AREA, (uint32_t)m.n, 0, 0 }, { IN_AREA, 10, 2, 0 } };
	cr_expect_eq(send_chain(tiny_room, 2), 0, "no room even for an Rlerror");
	struct desc zero[] = { { OUT_AREA, 0, 0, 0 } };
	cr_expect_eq(send_chain(zero, 1), 0);
	/* Sizes that lie. */
	p9m_end(&m);
	ram[OUT_AREA] = 200;
	struct desc lying[] = { { OUT_AREA, (uint32_t)m.n, 0, 0 }, { IN_AREA, 64, 2, 0 } };
	cr_expect_eq(send_chain(lying, 2), 11);
	cr_expect_eq(reply_u32(7), EPROTO);
	ram[OUT_AREA] = 3;
	cr_expect_eq(send_chain(lying, 2), 11);
	/* Readable after writable: not how a chain is laid out. */
	p9m_end(&m);
	memcpy(ram + OUT_AREA, m.b, m.n);
	struct desc misordered[] = { { OUT_AREA, 7, 0, 0 },
				     { IN_AREA, 64, 2, 0 },
				     { OUT_AREA + 7, (uint32_t)m.n - 7, 0, 0 } };
	cr_expect_eq(send_chain(misordered, 3), 11);
	cr_expect_eq(reply_u32(7), EPROTO);
	/* More than the largest msize. */
	memset(ram + HUGE_AREA, 0, P9_MAX_MSIZE + 4096);
	memcpy(ram + HUGE_AREA, m.b, 7);
	struct desc huge[] = { { HUGE_AREA, P9_MAX_MSIZE + 4096, 0, 0 }, { IN_AREA, 64, 2, 0 } };
	cr_expect_eq(send_chain(huge, 2), 11);
	cr_expect_eq(reply_u32(7), EMSGSIZE);
	cr_expect_eq(ram[IN_AREA + 5], 9, "answered with the request's tag");
	expect_working();
}

Test(virtio_9p, a_chain_of_more_descriptors_than_64_is_served)
{
	session();
	p9m_begin(&m, P9M_TGETATTR, 9);
	p9m_u32(&m, 1);
	p9m_u64(&m, 0x7ff);
	/* 20 bytes in 10 pieces, 160 bytes of reply in 60: 70 descriptors. */
	cr_expect_eq(request(10, 7 + 153, 60), 7 + 153);
	cr_expect_eq(reply_type(), 25);
}

Test(virtio_9p, a_bad_tag_is_refused)
{
	struct virtio_dev other = { .mem = &gm, .interrupt = irq, .name = "test" };
	struct den_err err = { 0 };

	cr_expect_lt(virtio_9p_init(&other, dir, "a b", false, &err), 0);
	cr_expect(strstr(err.msg, "tag") != NULL, "%s", err.msg);
	cr_expect_lt(virtio_9p_init(&other, dir, "", false, &err), 0);
	cr_expect_lt(virtio_9p_init(&other, "/nonexistent/den", "t", false, &err), 0);
}
