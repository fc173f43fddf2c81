/* SPDX-License-Identifier: MIT */
#include "providers/kvm/virtqueue.h"

#include <string.h>

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
} __attribute__((packed));

uint8_t *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct guest_layout *l = &m->layout;

	if (len > l->ram || gpa + len < gpa)
		return NULL;
	if (gpa + len <= l->low)
		return m->host + gpa;
	if (gpa >= MMIO_GAP_END && gpa - MMIO_GAP_END + len <= l->high)
		return m->host + l->low + (gpa - MMIO_GAP_END);
	return NULL;
}

static int broken(struct virtqueue *q)
{
	q->broken = true;
	return -1;
}

int vq_pop(struct virtqueue *q, const struct guest_mem *m, struct vq_chain *c)
{
	if (!q->ready || q->broken || q->num == 0 || q->num > VQ_MAX_SIZE)
		return q->broken ? -1 : 0;
	/* The alignments the spec requires: anything else is a driver gone wrong. */
	if (q->desc % 16 != 0 || q->avail % 2 != 0 || q->used % 4 != 0 || (q->num & (q->num - 1)))
		return broken(q);
	struct desc *table = (struct desc *)guest_ptr(m, q->desc, (uint64_t)q->num * 16);
	uint8_t *avail = guest_ptr(m, q->avail, 4 + (uint64_t)q->num * 2);
	if (table == NULL || avail == NULL)
		return broken(q);
	uint16_t idx = __atomic_load_n((uint16_t *)(avail + 2), __ATOMIC_ACQUIRE);
	if (idx == q->last_avail)
		return 0;
	/* More entries than the queue holds: the driver's index is garbage. */
	if ((uint16_t)(idx - q->last_avail) > q->num)
		return broken(q);
	uint16_t head;
	memcpy(&head, avail + 4 + 2 * (q->last_avail % q->num), 2);
	if (head >= q->num)
		return broken(q);
	q->last_avail++;
	c->head = head;
	c->n = 0;
	uint16_t i = head;
	for (unsigned steps = 0;; steps++) {
		struct desc d;
		memcpy(&d, &table[i], sizeof(d));
		if (steps >= q->num || c->n == VQ_MAX_SEGS || (d.flags & DESC_F_INDIRECT))
			return broken(q); /* a loop, an endless chain, or what den never offered */
		/* An empty buffer points at a byte of den's own: never NULL for memcpy and friends. */
		static uint8_t empty;
		uint8_t *p = d.len ? guest_ptr(m, d.addr, d.len) : &empty;
		if (p == NULL)
			return broken(q);
		c->seg[c->n++] = (struct vq_seg){ p, d.len, (d.flags & DESC_F_WRITE) != 0 };
		if (!(d.flags & DESC_F_NEXT))
			break;
		if (d.next >= q->num)
			return broken(q);
		i = d.next;
	}
	return 1;
}

void vq_push(struct virtqueue *q, const struct guest_mem *m, uint16_t head, uint32_t written)
{
	uint8_t *used = guest_ptr(m, q->used, 4 + (uint64_t)q->num * 8);

	if (used == NULL) {
		q->broken = true;
		return;
	}
	uint32_t elem[2] = { head, written };
	memcpy(used + 4 + 8 * (q->used_idx % q->num), elem, 8);
	q->used_idx++;
	__atomic_store_n((uint16_t *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
}

bool vq_wants_interrupt(const struct virtqueue *q, const struct guest_mem *m)
{
	const uint8_t *avail = guest_ptr(m, q->avail, 2);

	if (avail == NULL || q->num == 0)
		return true;
	/* After the used index it follows: the driver's flag is read once the entries are out. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(__atomic_load_n((const uint16_t *)avail, __ATOMIC_ACQUIRE) & 1);
}
