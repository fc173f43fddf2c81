/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_VIRTQUEUE_H
#define DEN_PROVIDERS_KVM_VIRTQUEUE_H

/*
 * Split virtqueues (virtio 1.x), read with the guest as hostile: every
 * ring address, descriptor address and length is checked against guest
 * RAM, every index against the queue size, and a chain longer than the
 * queue (a loop) marks the queue broken instead of being followed.
 */

#include <stdbool.h>
#include <stdint.h>

#include "providers/kvm/boot.h"

#define VQ_MAX_SIZE 256
/*
 * A chain may be as long as its queue: virtio-9p's requests come as one
 * descriptor per page, 128 and more for a 512 KiB msize.
 */
#define VQ_MAX_SEGS VQ_MAX_SIZE

struct guest_mem {
	uint8_t *host;
	struct guest_layout layout;
};

/* Host address of [gpa, gpa + len) when it lies wholly in guest RAM, else NULL. */
uint8_t *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

struct virtqueue {
	uint16_t num; /* size the driver chose (power of two, <= VQ_MAX_SIZE) */
	bool ready;
	uint64_t desc, avail, used; /* guest-physical ring addresses */
	uint16_t last_avail;	    /* next avail ring entry to take */
	uint16_t used_idx; /* den's own count of used entries, never read back from the guest */
	bool broken;	   /* the guest broke the rules: nothing more is taken */
	/*
	 * Chains taken and not yet given back while the device let its lock go
	 * (virtio_serve_unlocked): a snapshot waits for none (snapshot_devices.c).
	 */
	uint16_t inflight;
};

struct vq_seg {
	uint8_t *p;
	uint32_t len;
	bool writable; /* device writes (guest reads) */
};

struct vq_chain {
	uint16_t head;
	unsigned n;
	struct vq_seg seg[VQ_MAX_SEGS];
};

/*
 * The next available chain: 1 when c is filled, 0 when none is waiting,
 * -1 when the guest's rings are bad (q->broken is then set).
 */
int vq_pop(struct virtqueue *q, const struct guest_mem *m, struct vq_chain *c);

/* False while the driver asks for no used-buffer interrupts (VRING_AVAIL_F_NO_INTERRUPT). */
bool vq_wants_interrupt(const struct virtqueue *q, const struct guest_mem *m);

/* Returns a chain to the guest with how many bytes the device wrote into it. */
void vq_push(struct virtqueue *q, const struct guest_mem *m, uint16_t head, uint32_t written);

#endif
