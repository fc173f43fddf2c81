/* SPDX-License-Identifier: MIT */
/* virtio-rng: the guest's writable buffers filled from the host's getrandom. */
#include "providers/kvm/virtio.h"

#include <sys/random.h>

static void notify(struct virtio_dev *d, unsigned queue)
{
	struct vq_chain c;
	bool any = false;

	while (vq_pop(&d->q[queue], d->mem, &c) == 1) {
		uint32_t written = 0;
		for (unsigned i = 0; i < c.n; i++) {
			if (!c.seg[i].writable)
				continue;
			ssize_t n = getrandom(c.seg[i].p, c.seg[i].len, 0);
			if (n > 0)
				written += (uint32_t)n;
		}
		vq_push(&d->q[queue], d->mem, c.head, written);
		any = true;
	}
	if (any)
		virtio_signal_queue(d, queue);
}

int virtio_rng_init(struct virtio_dev *d, struct den_err *err)
{
	(void)err;
	d->device_id = VIRTIO_ID_RNG;
	d->features = VIRTIO_F_VERSION_1;
	d->nqueues = 1;
	d->notify = notify;
	d->config = NULL;
	d->snap = &virtio_snap_transport_only;
	return 0;
}
