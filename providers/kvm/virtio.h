/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_VIRTIO_H
#define DEN_PROVIDERS_KVM_VIRTIO_H

/*
 * virtio-mmio (virtio 1.x, MMIO version 2) devices: the transport
 * (registers, feature negotiation, queues, interrupts) in virtio_mmio.c,
 * and each device's own work in virtio_blk.c, virtio_net.c, virtio_9p.c
 * and virtio_rng.c (virtio_eventfd.c wakes a device's thread). Devices
 * sit 4 KiB apart from VIRTIO_MMIO_BASE, and the guest learns of them from
 * `virtio_mmio.device=4K@ADDR:IRQ` on its command line.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "providers/kvm/virtqueue.h"

#define VIRTIO_MMIO_BASE 0xd0000000ULL
#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_MAX_QUEUES 2
#define VIRTIO_F_VERSION_1 (1ULL << 32)

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_9P 9
#define VIRTIO_REG_QUEUE_NOTIFY 0x050

struct virtio_dev {
	const char *name; /* for messages: "virtio-blk /path" */
	uint32_t device_id;
	uint64_t features; /* offered, VIRTIO_F_VERSION_1 included */
	uint64_t base;	   /* guest-physical address of the registers */
	unsigned irq;
	unsigned nqueues;
	struct virtqueue q[VIRTIO_MAX_QUEUES];
	const struct guest_mem *mem;
	/* Transport state. */
	uint32_t status, dev_features_sel, drv_features_sel, queue_sel, int_status;
	uint64_t driver_features;
	bool broken_reported;
	unsigned resets; /* how many times the driver reset the device */
	/*
	 * The device: a queue was notified (entered and left with d->lock held; it
	 * may let the lock go around slow work, and must then drop its answer if
	 * d->resets changed meanwhile); its configuration space read.
	 */
	void (*notify)(struct virtio_dev *d, unsigned queue);
	uint64_t (*config)(struct virtio_dev *d, unsigned offset, unsigned size);
	void (*interrupt)(struct virtio_dev *d); /* raises the device's IRQ (the VM's) */
	void *vm;				 /* for interrupt() */
	void *priv;				 /* the device's own state */
	pthread_mutex_t lock;
	/*
	 * Wired (virtio_wire): the guest's notify of queue n lands on the eventfd
	 * kick[n] (written by KVM itself, with no exit, where ioeventfd is there),
	 * which the device's thread waits on; a write to irqfd raises the IRQ where
	 * KVM took it (else -1, and interrupt() does). Unwired, a notify is served
	 * at once by the notifying thread.
	 */
	bool wired;
	int kick[VIRTIO_MAX_QUEUES];
	int irqfd;
	int stop; /* eventfd that becomes readable when the VM ends */
	/* The device's thread: serve_loop (virtio_eventfd.c) unless it has its own. */
	void *(*loop)(void *d);
	void (*free)(struct virtio_dev *d); /* the device's own state, or NULL */
	pthread_t thread;
	bool thread_started;
	/* Snapshots: NULL for a device that cannot be snapshotted yet (saving says so). */
	const struct virtio_snap_ops *snap;
};

/*
 * A device's part in a VM snapshot (snapshot_devices.c). The transport's
 * state (virtio_mmio_save) is always saved; a device sets these only for
 * what it keeps beyond it.
 */
struct virtio_snap_ops {
	/*
	 * Before the save, under d->lock with no chain in flight: make what
	 * backs the device whole for a copy (a disk's writes flushed); or NULL.
	 */
	int (*prepare)(struct virtio_dev *d, struct den_err *err);
};
/* For devices whose whole state is the transport's (virtio-rng, virtio-net). */
extern const struct virtio_snap_ops virtio_snap_transport_only;

/* The transport's state in a snapshot, as on disk (fixed size: up to 8 queues). */
#define VIRTIO_SNAP_QUEUES 8
struct virtio_mmio_state {
	uint32_t device_id, nqueues;
	uint64_t features, driver_features;
	uint32_t status, dev_features_sel, drv_features_sel, queue_sel, int_status;
	uint32_t broken_reported;
	struct virtio_queue_state {
		uint64_t desc, avail, used;
		uint16_t num, last_avail, used_idx;
		uint8_t ready, broken;
	} q[VIRTIO_SNAP_QUEUES];
};

/* The transport's state (under d->lock, nothing in flight), and back (before its thread starts). */
void virtio_mmio_save(const struct virtio_dev *d, struct virtio_mmio_state *s);
int virtio_mmio_load(struct virtio_dev *d, const struct virtio_mmio_state *s, struct den_err *err);

void virtio_mmio_read(struct virtio_dev *d, uint64_t offset, uint8_t *data, unsigned size);
void virtio_mmio_write(struct virtio_dev *d, uint64_t offset, const uint8_t *data, unsigned size);

/* Marks used buffers for the driver: the interrupt status bit, then the IRQ (under d->lock). */
void virtio_signal(struct virtio_dev *d);
/* The same, unless the driver asked for no interrupts on that queue (VRING_AVAIL_F_NO_INTERRUPT). */
void virtio_signal_queue(struct virtio_dev *d, unsigned queue);

/* Serves a notified queue, if the driver has the device running (takes d->lock). */
void virtio_serve(struct virtio_dev *d, unsigned queue);

/*
 * A device's notify for slow requests (a disk's, a file system's): each
 * chain popped is served by serve() with d->lock let go, so a vCPU touching
 * the registers never waits on it, and answered with the bytes serve()
 * wrote, unless the driver reset the device meanwhile. The chain counts
 * as in flight throughout: a snapshot waits for it (snapshot_devices.c).
 */
typedef uint32_t virtio_serve_fn(struct virtio_dev *d, struct vq_chain *c);
void virtio_serve_unlocked(struct virtio_dev *d, unsigned queue, virtio_serve_fn *serve);

/* True while the driver has the device running (DRIVER_OK, not marked broken). */
bool virtio_running(const struct virtio_dev *d);

/*
 * Notes that the device stopped on a queue the guest broke: DEVICE_NEEDS_RESET
 * and one line on stderr (under d->lock).
 */
void virtio_check_broken(struct virtio_dev *d, unsigned queue);

/* Eventfds for the queues and the IRQ (virtio_eventfd.c); stop is the VM's end. */
int virtio_wire(struct virtio_dev *d, int stop, struct den_err *err);
/* Starts the device's thread (after the KVM side is registered). */
int virtio_start(struct virtio_dev *d, struct den_err *err);
/* Joins the thread (the VM has ended), frees the device's state, closes the eventfds. */
void virtio_unwire(struct virtio_dev *d);

/* The generic device thread: waits on the kick eventfds and serves the queues. */
void *virtio_serve_loop(void *d);

/* A virtio-blk device over a raw image, or a copy-on-write overlay over one. */
struct vmm_disk;
int virtio_blk_init(struct virtio_dev *d, const struct vmm_disk *disk, struct den_err *err);
void virtio_blk_free(struct virtio_dev *d);

/* A virtio-rng device (the host's getrandom). */
int virtio_rng_init(struct virtio_dev *d, struct den_err *err);

struct usernet_fwd;
/*
 * A virtio-net device on den's user-mode network (libslirp, core/usernet.h),
 * with the given ports forwarded from the host. Its own thread runs the
 * network; the device must be wired.
 */
int virtio_net_init(struct virtio_dev *d, const struct usernet_fwd *fwds, size_t nfwds,
		    bool host_loopback, struct den_err *err);
/*
 * The same on a private network's switch port (docs/networks.md): frames
 * to and from port (SOCK_SEQPACKET, which the device then owns), the card's
 * MAC mac, and the network's MTU offered (VIRTIO_NET_F_MTU).
 */
int virtio_net_init_private(struct virtio_dev *d, int port, const uint8_t mac[6],
			    struct den_err *err);

/* The longest mount tag a share takes (the guest mounts it by this name). */
#define VIRTIO_9P_TAG_MAX 63
/*
 * A virtio-9p device sharing the host folder root (p9.h: a 9P2000.L server
 * that keeps the guest inside it) under the mount tag tag; ro refuses
 * every write. The guest mounts it with
 * `mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 TAG DIR`.
 */
int virtio_9p_init(struct virtio_dev *d, const char *root, const char *tag, bool ro,
		   struct den_err *err);
void virtio_9p_free(struct virtio_dev *d);

#endif
