/* SPDX-License-Identifier: MIT */
/* The virtio-mmio transport: registers of the virtio 1.x spec, §4.2.2. */
#include "providers/kvm/virtio.h"

#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#define REG_MAGIC 0x000
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_VENDOR_ID 0x00c
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY VIRTIO_REG_QUEUE_NOTIFY
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC_LOW 0x080
#define REG_QUEUE_DESC_HIGH 0x084
#define REG_QUEUE_DRIVER_LOW 0x090
#define REG_QUEUE_DRIVER_HIGH 0x094
#define REG_QUEUE_DEVICE_LOW 0x0a0
#define REG_QUEUE_DEVICE_HIGH 0x0a4
#define REG_CONFIG_GENERATION 0x0fc
#define REG_CONFIG 0x100

#define STATUS_DRIVER_OK 0x04
#define STATUS_NEEDS_RESET 0x40

static struct virtqueue *selected(struct virtio_dev *d)
{
	return d->queue_sel < d->nqueues ? &d->q[d->queue_sel] : NULL;
}

static void reset(struct virtio_dev *d)
{
	d->status = 0;
	d->int_status = 0;
	d->driver_features = 0;
	d->queue_sel = 0;
	memset(d->q, 0, sizeof(d->q));
	d->broken_reported = false;
	d->resets++; /* a device thread that let the lock go mid-request drops its answer */
}

void virtio_mmio_read(struct virtio_dev *d, uint64_t offset, uint8_t *data, unsigned size)
{
	uint64_t v = 0;
	struct virtqueue *q;

	pthread_mutex_lock(&d->lock);
	if (offset >= REG_CONFIG) {
		v = d->config ? d->config(d, (unsigned)(offset - REG_CONFIG), size) : 0;
		goto out;
	}
	if (size != 4)
		goto out; /* the common registers are 32-bit */
	q = selected(d);
	switch (offset) {
	case REG_MAGIC:
		v = 0x74726976; /* "virt" */
		break;
	case REG_VERSION:
		v = 2;
		break;
	case REG_DEVICE_ID:
		v = d->device_id;
		break;
	case REG_VENDOR_ID:
		v = 0x4e4544; /* "DEN" */
		break;
	case REG_DEVICE_FEATURES:
		v = d->dev_features_sel == 0   ? (uint32_t)d->features
		    : d->dev_features_sel == 1 ? (uint32_t)(d->features >> 32)
					       : 0;
		break;
	case REG_QUEUE_NUM_MAX:
		v = q ? VQ_MAX_SIZE : 0;
		break;
	case REG_QUEUE_READY:
		v = q && q->ready;
		break;
	case REG_INTERRUPT_STATUS:
		v = d->int_status;
		break;
	case REG_STATUS:
		v = d->status;
		break;
	case REG_CONFIG_GENERATION:
		v = 0;
		break;
	default:
		break;
	}
out:
	pthread_mutex_unlock(&d->lock);
	for (unsigned i = 0; i < size && i < 8; i++)
		data[i] = (uint8_t)(v >> (8 * i));
}

static void set_half(uint64_t *field, bool high, uint32_t v)
{
	*field =
		high ? (*field & 0xffffffffULL) | (uint64_t)v << 32 : (*field & ~0xffffffffULL) | v;
}

void virtio_mmio_write(struct virtio_dev *d, uint64_t offset, const uint8_t *data, unsigned size)
{
	uint32_t v = 0;
	struct virtqueue *q;
	unsigned notify = ~0u;

	if (size != 4 || offset >= REG_CONFIG)
		return; /* config space is read-only here; the rest is 32-bit */
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)data[i] << (8 * i);
	pthread_mutex_lock(&d->lock);
	q = selected(d);
	switch (offset) {
	case REG_DEVICE_FEATURES_SEL:
		d->dev_features_sel = v;
		break;
	case REG_DRIVER_FEATURES:
		if (d->drv_features_sel < 2)
			set_half(&d->driver_features, d->drv_features_sel == 1,
				 v & (uint32_t)(d->features >> (32 * d->drv_features_sel)));
		break;
	case REG_DRIVER_FEATURES_SEL:
		d->drv_features_sel = v;
		break;
	case REG_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case REG_QUEUE_NUM:
		if (q && !q->ready)
			q->num = v <= VQ_MAX_SIZE ? (uint16_t)v : 0;
		break;
	case REG_QUEUE_READY:
		if (q)
			q->ready = v == 1;
		break;
	case REG_QUEUE_NOTIFY:
		if (v < d->nqueues)
			notify = v;
		break;
	case REG_INTERRUPT_ACK:
		d->int_status &= ~v;
		break;
	case REG_STATUS:
		if (v == 0)
			reset(d);
		else
			d->status = v;
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		if (q && !q->ready)
			set_half(&q->desc, offset == REG_QUEUE_DESC_HIGH, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		if (q && !q->ready)
			set_half(&q->avail, offset == REG_QUEUE_DRIVER_HIGH, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (q && !q->ready)
			set_half(&q->used, offset == REG_QUEUE_DEVICE_HIGH, v);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&d->lock);
	/* Where KVM has no ioeventfd for it, the notify exits to here: handed on the same way. */
	if (notify != ~0u && d->wired)
		eventfd_write(d->kick[notify], 1);
	else if (notify != ~0u)
		virtio_serve(d, notify);
}

bool virtio_running(const struct virtio_dev *d)
{
	return (d->status & STATUS_DRIVER_OK) && !(d->status & STATUS_NEEDS_RESET);
}

void virtio_check_broken(struct virtio_dev *d, unsigned queue)
{
	/* A guest that broke a queue gets the device marked for reset, once, and a word. */
	if (d->q[queue].broken && !d->broken_reported) {
		d->broken_reported = true;
		d->status |= STATUS_NEEDS_RESET;
		fprintf(stderr,
			"den: %s: the guest wrote an invalid queue %u; the device stops until "
			"the guest resets it\n",
			d->name, queue);
	}
}

void virtio_serve(struct virtio_dev *d, unsigned queue)
{
	pthread_mutex_lock(&d->lock);
	if (queue < d->nqueues && virtio_running(d)) {
		d->notify(d, queue);
		virtio_check_broken(d, queue);
	}
	pthread_mutex_unlock(&d->lock);
}

void virtio_serve_unlocked(struct virtio_dev *d, unsigned queue, virtio_serve_fn *serve)
{
	struct vq_chain c;
	bool any = false;

	while (vq_pop(&d->q[queue], d->mem, &c) == 1) {
		unsigned resets = d->resets;
		d->q[queue].inflight++;
		pthread_mutex_unlock(&d->lock);
		uint32_t written = serve(d, &c);
		pthread_mutex_lock(&d->lock);
		if (d->resets != resets)
			return; /* the driver reset the device meanwhile: the request is gone */
		d->q[queue].inflight--;
		if (!virtio_running(d))
			return;
		vq_push(&d->q[queue], d->mem, c.head, written);
		any = true;
	}
	if (any)
		virtio_signal_queue(d, queue);
}

void virtio_signal_queue(struct virtio_dev *d, unsigned queue)
{
	if (vq_wants_interrupt(&d->q[queue], d->mem))
		virtio_signal(d);
}

void virtio_signal(struct virtio_dev *d)
{
	d->int_status |= 1; /* used buffer notification */
	if (d->wired && d->irqfd >= 0)
		eventfd_write(d->irqfd, 1);
	else
		d->interrupt(d);
}

void virtio_mmio_save(const struct virtio_dev *d, struct virtio_mmio_state *s)
{
	memset(s, 0, sizeof(*s));
	s->device_id = d->device_id;
	s->nqueues = d->nqueues;
	s->features = d->features;
	s->driver_features = d->driver_features;
	s->status = d->status;
	s->dev_features_sel = d->dev_features_sel;
	s->drv_features_sel = d->drv_features_sel;
	s->queue_sel = d->queue_sel;
	s->int_status = d->int_status;
	s->broken_reported = d->broken_reported;
	for (unsigned i = 0; i < d->nqueues && i < VIRTIO_SNAP_QUEUES; i++) {
		const struct virtqueue *q = &d->q[i];
		s->q[i] = (struct virtio_queue_state){ q->desc,	 q->avail,	q->used,
						       q->num,	 q->last_avail, q->used_idx,
						       q->ready, q->broken };
	}
}

/*
 * The same device as the snapshot's (made from the same options), then
 * what the driver had set. Ring addresses need no check here: vq_pop
 * checks them at every use, as it does the guest's own writes.
 */
int virtio_mmio_load(struct virtio_dev *d, const struct virtio_mmio_state *s, struct den_err *err)
{
	_Static_assert(VIRTIO_MAX_QUEUES <= VIRTIO_SNAP_QUEUES, "a snapshot holds every queue");

	if (s->device_id != d->device_id || s->nqueues != d->nqueues || s->features != d->features)
		return den_err_set(
			err, 0,
			"the snapshot's device %#llx is not %s here (device id %u, "
			"features %#llx; here %u, %#llx): restore with the options the VM "
			"was saved with (--disk, ro, --net)",
			(unsigned long long)d->base, d->name, s->device_id,
			(unsigned long long)s->features, d->device_id,
			(unsigned long long)d->features);
	if ((s->driver_features & ~d->features) || s->broken_reported > 1)
		return den_err_set(err, 0, "the snapshot's state of %s is damaged", d->name);
	for (unsigned i = 0; i < d->nqueues; i++)
		if (s->q[i].num > VQ_MAX_SIZE || s->q[i].ready > 1 || s->q[i].broken > 1)
			return den_err_set(err, 0, "the snapshot's queue %u of %s is damaged", i,
					   d->name);
	d->driver_features = s->driver_features;
	d->status = s->status;
	d->dev_features_sel = s->dev_features_sel;
	d->drv_features_sel = s->drv_features_sel;
	d->queue_sel = s->queue_sel;
	d->int_status = s->int_status;
	d->broken_reported = s->broken_reported;
	for (unsigned i = 0; i < d->nqueues; i++) {
		const struct virtio_queue_state *q = &s->q[i];
		d->q[i] = (struct virtqueue){ .num = q->num,
					      .ready = q->ready,
					      .desc = q->desc,
					      .avail = q->avail,
					      .used = q->used,
					      .last_avail = q->last_avail,
					      .used_idx = q->used_idx,
					      .broken = q->broken };
	}
	return 0;
}
