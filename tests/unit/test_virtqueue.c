/* SPDX-License-Identifier: MIT */
/*
 * Virtqueues and the virtio-mmio transport with a hostile guest: rings
 * and buffers outside guest RAM, loops, oversized chains and indexes; and
 * a virtio-blk device driven through its registers like a driver would.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/size.h"
#include "providers/kvm/virtio.h"
#include "providers/kvm/vmm.h"
#include "tests/helpers/testutil.h"

#define RAM (1u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define NUM 8

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
} __attribute__((packed));

static uint8_t *ram;
static struct guest_mem gm;

static void setup(void)
{
	ram = calloc(1, RAM);
	boot_layout(RAM, &gm.layout);
	gm.host = ram;
}

static void teardown(void)
{
	free(ram);
}

static struct virtqueue queue(void)
{
	return (struct virtqueue){
		.num = NUM, .ready = true, .desc = DESC, .avail = AVAIL, .used = USED
	};
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct desc d = { addr, len, flags, next };
	memcpy(ram + DESC + 16 * i, &d, 16);
}

static void offer(uint16_t slot, uint16_t head, uint16_t idx)
{
	memcpy(ram + AVAIL + 4 + 2 * slot, &head, 2);
	memcpy(ram + AVAIL + 2, &idx, 2);
}

TestSuite(virtqueue, .init = setup, .fini = teardown);

Test(virtqueue, a_chain_is_taken_and_returned)
{
	struct virtqueue q = queue();
	struct vq_chain c;

	set_desc(0, 0x8000, 16, 1, 1);
	set_desc(1, 0x9000, 512, 2, 0);
	offer(0, 0, 1);
	cr_assert_eq(vq_pop(&q, &gm, &c), 1);
	cr_expect_eq(c.n, 2);
	cr_expect_eq(c.seg[0].p, ram + 0x8000);
	cr_expect(!c.seg[0].writable);
	cr_expect(c.seg[1].writable);
	cr_expect_eq(vq_pop(&q, &gm, &c), 0, "nothing more waits");
	vq_push(&q, &gm, c.head, 512);
	uint16_t used_idx;
	uint32_t elem[2];
	memcpy(&used_idx, ram + USED + 2, 2);
	memcpy(elem, ram + USED + 4, 8);
	cr_expect_eq(used_idx, 1);
	cr_expect_eq(elem[0], 0);
	cr_expect_eq(elem[1], 512);
}

Test(virtqueue, a_descriptor_loop_breaks_the_queue_instead_of_spinning)
{
	struct virtqueue q = queue();
	struct vq_chain c;

	set_desc(0, 0x8000, 16, 1, 1);
	set_desc(1, 0x8000, 16, 1, 0); /* back to 0 */
	offer(0, 0, 1);
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
	cr_expect(q.broken);
	cr_expect_eq(vq_pop(&q, &gm, &c), -1, "and stays broken");
}

Test(virtqueue, buffers_and_rings_outside_guest_ram_are_refused)
{
	struct vq_chain c;
	struct virtqueue q = queue();

	set_desc(0, RAM - 8, 16, 0, 0); /* runs past the end of RAM */
	offer(0, 0, 1);
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
	q = queue();
	set_desc(0, UINT64_MAX - 4, 16, 0, 0); /* wraps around */
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
	q = queue();
	q.desc = RAM + 0x1000; /* the table itself is not in RAM */
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
	q = queue();
	q.avail = AVAIL + 1; /* misaligned ring */
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
}

Test(virtqueue, bad_indexes_are_refused)
{
	struct vq_chain c;
	struct virtqueue q = queue();

	set_desc(0, 0x8000, 16, 0, 0);
	offer(0, NUM + 3, 1); /* a head past the table */
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
	q = queue();
	offer(0, 0, NUM + 5); /* more entries than the queue holds */
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
	q = queue();
	set_desc(0, 0x8000, 16, 1, NUM); /* next past the table */
	offer(0, 0, 1);
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
	q = queue();
	set_desc(0, 0x8000, 16, 4, 0); /* indirect, never offered */
	cr_expect_eq(vq_pop(&q, &gm, &c), -1);
}

Test(virtqueue, an_empty_buffer_is_an_empty_segment_never_a_null_pointer)
{
	struct virtqueue q = queue();
	struct vq_chain c;

	set_desc(0, 0x8000, 16, 1, 1);
	set_desc(1, 0xdead0000ULL, 0, 2, 0); /* no bytes, so its address does not matter */
	offer(0, 0, 1);
	cr_assert_eq(vq_pop(&q, &gm, &c), 1);
	cr_expect_eq(c.n, 2);
	cr_expect_eq(c.seg[1].len, 0);
	cr_expect_not_null(c.seg[1].p, "devices may memcpy zero bytes into it");
}

static void irq(struct virtio_dev *d)
{
	(void)d;
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	virtio_mmio_write(d, off, (const uint8_t *)&v, 4);
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	uint32_t v = 0;
	virtio_mmio_read(d, off, (uint8_t *)&v, 4);
	return v;
}

Test(virtqueue, virtio_blk_reads_and_writes_its_image_through_the_registers)
{
	char *dir = make_temp_dir(), path[4096];
	struct virtio_dev d = { .mem = &gm, .interrupt = irq, .name = "test" };
	struct den_err err = { 0 };

	snprintf(path, sizeof(path), "%s/disk.img", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 4 * 512; i++)
		fputc(i / 512 + 'a', f); /* sector n is full of 'a' + n */
	fclose(f);
	pthread_mutex_init(&d.lock, NULL);
	cr_assert(virtio_blk_init(&d, &(struct vmm_disk){ .path = path }, &err) == 0, "%s",
		  err.msg);
	cr_expect_eq(reg_read(&d, 0x000), 0x74726976, "magic");
	cr_expect_eq(reg_read(&d, 0x008), VIRTIO_ID_BLOCK);
	uint64_t sectors = 0;
	virtio_mmio_read(&d, 0x100, (uint8_t *)&sectors, 8);
	cr_expect_eq(sectors, 4, "capacity in sectors");
	reg_write(&d, 0x030, 0);   /* queue 0 */
	reg_write(&d, 0x038, NUM); /* size */
	reg_write(&d, 0x080, DESC);
	reg_write(&d, 0x090, AVAIL);
	reg_write(&d, 0x0a0, USED);
	reg_write(&d, 0x044, 1);	     /* ready */
	reg_write(&d, 0x070, 1 | 2 | 8 | 4); /* ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK */
	/* Read sector 2. */
	uint32_t hdr[4] = { 0 /* IN */, 0, 2, 0 };
	memcpy(ram + 0x8000, hdr, 16);
	set_desc(0, 0x8000, 16, 1, 1);
	set_desc(1, 0x9000, 512, 1 | 2, 2);
	set_desc(2, 0xa000, 1, 2, 0);
	ram[0xa000] = 0xff;
	offer(0, 0, 1);
	reg_write(&d, 0x050, 0);
	cr_expect_eq(ram[0xa000], 0, "status OK");
	cr_expect_eq(ram[0x9000], 'c', "sector 2 read");
	cr_expect_eq(reg_read(&d, 0x060) & 1, 1, "used-buffer interrupt pending");
	reg_write(&d, 0x064, 1);
	cr_expect_eq(reg_read(&d, 0x060), 0, "acknowledged");
	/* Write sector 3, then a read past the end fails with IOERR. */
	hdr[0] = 1, hdr[2] = 3;
	memcpy(ram + 0x8000, hdr, 16);
	memset(ram + 0x9000, 'Z', 512);
	set_desc(1, 0x9000, 512, 1, 2);
	offer(1, 0, 2);
	reg_write(&d, 0x050, 0);
	cr_expect_eq(ram[0xa000], 0);
	f = fopen(path, "r");
	fseek(f, 3 * 512, SEEK_SET);
	cr_expect_eq(fgetc(f), 'Z', "the write reached the image");
	fclose(f);
	hdr[0] = 0, hdr[2] = 4;
	memcpy(ram + 0x8000, hdr, 16);
	set_desc(1, 0x9000, 512, 1 | 2, 2);
	offer(2, 0, 3);
	reg_write(&d, 0x050, 0);
	cr_expect_eq(ram[0xa000], 1, "past the end: IOERR");
	/* get-id into an empty buffer, then into 4 bytes: the id cut to fit. */
	hdr[0] = 8, hdr[2] = 0;
	memcpy(ram + 0x8000, hdr, 16);
	set_desc(1, 0x9000, 0, 1 | 2, 2);
	offer(3, 0, 4);
	reg_write(&d, 0x050, 0);
	cr_expect_eq(ram[0xa000], 0, "get-id with no room is answered");
	set_desc(1, 0x9000, 4, 1 | 2, 2);
	offer(4, 0, 5);
	reg_write(&d, 0x050, 0);
	cr_expect_eq(memcmp(ram + 0x9000, "den-", 4), 0);
	/* A hostile chain marks the device for reset, and the VMM goes on. */
	set_desc(0, 0x8000, 16, 1, 0);
	offer(5, 0, 6);
	reg_write(&d, 0x050, 0);
	cr_expect(reg_read(&d, 0x070) & 0x40, "DEVICE_NEEDS_RESET");
	reg_write(&d, 0x070, 0);
	cr_expect_eq(reg_read(&d, 0x070), 0, "a reset clears it");
	virtio_blk_free(&d);
	rm_rf(dir);
	free(dir);
}

Test(virtqueue, a_read_only_disk_refuses_writes)
{
	char *dir = make_temp_dir(), path[4096];
	struct virtio_dev d = { .mem = &gm, .interrupt = irq, .name = "test" };
	struct den_err err = { 0 };

	snprintf(path, sizeof(path), "%s/disk.img", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 512; i++)
		fputc('a', f);
	fclose(f);
	pthread_mutex_init(&d.lock, NULL);
	cr_assert(virtio_blk_init(&d, &(struct vmm_disk){ .path = path, .ro = true }, &err) == 0,
		  "%s", err.msg);
	cr_expect(reg_read(&d, 0x010) & (1u << 5), "VIRTIO_BLK_F_RO is offered");
	reg_write(&d, 0x038, NUM);
	reg_write(&d, 0x080, DESC);
	reg_write(&d, 0x090, AVAIL);
	reg_write(&d, 0x0a0, USED);
	reg_write(&d, 0x044, 1);
	reg_write(&d, 0x070, 15);
	uint32_t hdr[4] = { 1 /* OUT */, 0, 0, 0 };
	memcpy(ram + 0x8000, hdr, 16);
	set_desc(0, 0x8000, 16, 1, 1);
	set_desc(1, 0x9000, 512, 1, 2);
	set_desc(2, 0xa000, 1, 2, 0);
	offer(0, 0, 1);
	reg_write(&d, 0x050, 0);
	cr_expect_eq(ram[0xa000], 1, "IOERR");
	f = fopen(path, "r");
	cr_expect_eq(fgetc(f), 'a', "the image is unchanged");
	fclose(f);
	virtio_blk_free(&d);
	rm_rf(dir);
	free(dir);
}

/* One request on queue 0 (set up by start_queue): sector, type, 512 bytes at 0x9000; its status. */
static uint8_t blk_request(struct virtio_dev *d, uint32_t type, uint32_t sector, uint16_t idx)
{
	uint32_t hdr[4] = { type, 0, sector, 0 };

	memcpy(ram + 0x8000, hdr, 16);
	set_desc(0, 0x8000, 16, 1, 1);
	set_desc(1, 0x9000, type == 4 ? 0 : 512, type == 0 ? 1 | 2 : 1, 2);
	set_desc(2, 0xa000, 1, 2, 0);
	ram[0xa000] = 0xff;
	offer(idx, 0, (uint16_t)(idx + 1));
	reg_write(d, 0x050, 0);
	return ram[0xa000];
}

Test(virtqueue, virtio_blk_over_a_cow_disk_writes_the_overlay_only)
{
	char *dir = make_temp_dir(), base[1024], overlay[1024];
	struct virtio_dev d = { .mem = &gm, .interrupt = irq, .name = "test" };
	struct den_err err = { 0 };

	snprintf(base, sizeof(base), "%s/base.raw", dir);
	snprintf(overlay, sizeof(overlay), "%s/disk.cow", dir);
	FILE *f = fopen(base, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 4 * 512; i++)
		fputc(i / 512 + 'a', f);
	fclose(f);
	pthread_mutex_init(&d.lock, NULL);
	struct vmm_disk disk = { .path = overlay, .base = base, .size = 8 * 512 };
	cr_assert(virtio_blk_init(&d, &disk, &err) == 0, "%s", err.msg);
	uint64_t sectors = 0;
	virtio_mmio_read(&d, 0x100, (uint8_t *)&sectors, 8);
	cr_expect_eq(sectors, 8, "the disk's size, not the base's");
	reg_write(&d, 0x030, 0);
	reg_write(&d, 0x038, NUM);
	reg_write(&d, 0x080, DESC);
	reg_write(&d, 0x090, AVAIL);
	reg_write(&d, 0x0a0, USED);
	reg_write(&d, 0x044, 1);
	reg_write(&d, 0x070, 1 | 2 | 8 | 4);
	cr_expect_eq(blk_request(&d, 0, 2, 0), 0);
	cr_expect_eq(ram[0x9000], 'c', "the base's sector 2");
	memset(ram + 0x9000, 'Z', 512);
	cr_expect_eq(blk_request(&d, 1, 3, 1), 0, "write sector 3");
	cr_expect_eq(blk_request(&d, 4, 0, 2), 0, "flush");
	memset(ram + 0x9000, 0, 512);
	cr_expect_eq(blk_request(&d, 0, 3, 3), 0);
	cr_expect_eq(ram[0x9000], 'Z', "the write is read back");
	memset(ram + 0x9000, 'x', 512);
	cr_expect_eq(blk_request(&d, 0, 6, 4), 0);
	cr_expect_eq(ram[0x9000], 0, "past the base: zeros");
	cr_expect_eq(blk_request(&d, 0, 8, 5), 1, "past the disk: IOERR");
	virtio_blk_free(&d);
	f = fopen(base, "r");
	fseek(f, 3 * 512, SEEK_SET);
	cr_expect_eq(fgetc(f), 'd', "the base is untouched");
	fclose(f);
	rm_rf(dir);
	free(dir);
}
