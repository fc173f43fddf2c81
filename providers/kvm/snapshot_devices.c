/* SPDX-License-Identifier: MIT */
/*
 * The virtio devices in a snapshot: each one's transport state (status,
 * features, every queue's rings and indexes) and what backs it made
 * whole. The vCPUs are parked by then, so the guest posts nothing new,
 * but a device's thread may be serving a chain with its lock let go
 * (virtio-blk), or slirp may hand virtio-net a frame: each device is held
 * under its lock, with nothing in flight, from before its state is read
 * until guest memory is written, so the two agree.
 */
#include "providers/kvm/snapshot-internal.h"
#include "providers/kvm/vm-internal.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A request a disk takes longer than this to serve is a stuck disk: the save gives up. */
#define INFLIGHT_WAIT_MS 30000

const struct virtio_snap_ops virtio_snap_transport_only = { .prepare = NULL };

static bool inflight(const struct virtio_dev *d)
{
	for (unsigned q = 0; q < d->nqueues; q++)
		if (d->q[q].inflight > 0)
			return true;
	return false;
}

/* Takes d->lock once nothing is in flight on d (the device's thread finishes it first). */
static int hold(struct virtio_dev *d, struct den_err *err)
{
	for (unsigned waited = 0;; waited++) {
		pthread_mutex_lock(&d->lock);
		if (!inflight(d))
			return 0;
		pthread_mutex_unlock(&d->lock);
		if (waited >= INFLIGHT_WAIT_MS)
			return den_err_set(err, ETIMEDOUT,
					   "%s is still serving a request after %d s; no snapshot "
					   "taken",
					   d->name, INFLIGHT_WAIT_MS / 1000);
		usleep(1000);
	}
}

int snap_devices_hold(struct vm *vm, struct den_err *err)
{
	/* Before anything is held or written: a device that cannot be saved stops it all. */
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (vm->devs[i].snap == NULL)
			return den_err_set(err, 0, "device %s cannot be snapshotted yet",
					   vm->devs[i].name);
	for (unsigned i = 0; i < vm->ndevs; i++) {
		struct virtio_dev *d = &vm->devs[i];
		if (hold(d, err) < 0) {
			while (i-- > 0)
				pthread_mutex_unlock(&vm->devs[i].lock);
			return -1;
		}
		if (d->snap->prepare != NULL && d->snap->prepare(d, err) < 0) {
			pthread_mutex_unlock(&d->lock);
			while (i-- > 0)
				pthread_mutex_unlock(&vm->devs[i].lock);
			return den_err_wrap(err, "no snapshot taken");
		}
	}
	return 0;
}

void snap_devices_release(struct vm *vm)
{
	for (unsigned i = vm->ndevs; i-- > 0;)
		pthread_mutex_unlock(&vm->devs[i].lock);
}

void snap_devices_save(struct vm *vm, struct snap_writer *w)
{
	struct virtio_mmio_state s;

	for (unsigned i = 0; i < vm->ndevs; i++) {
		virtio_mmio_save(&vm->devs[i], &s);
		snap_put(w, SNAP_DEV_TRANSPORT, i, &s, sizeof(s));
	}
}

int snap_devices_restore(struct vm *vm, const struct snap_file *f, struct den_err *err)
{
	struct virtio_mmio_state s;

	if (f->h.ndevs != vm->ndevs)
		return den_err_set(err, 0,
				   "%s is a snapshot of a VM with %u devices; this VM has %u: "
				   "restore it with the --disk and --net options it was saved with",
				   f->path, f->h.ndevs, vm->ndevs);
	for (unsigned i = 0; i < vm->ndevs; i++) {
		struct virtio_dev *d = &vm->devs[i];
		if (d->snap == NULL)
			return den_err_set(err, 0,
					   "device %s cannot be restored from a snapshot yet",
					   d->name);
		if (snap_get(f, SNAP_DEV_TRANSPORT, i, &s, sizeof(s), err) < 0 ||
		    virtio_mmio_load(d, &s, err) < 0)
			return -1;
	}
	return 0;
}

void snap_devices_kick(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++) {
		struct virtio_dev *d = &vm->devs[i];
		for (unsigned q = 0; q < d->nqueues; q++) {
			if (d->wired && d->kick[q] >= 0)
				eventfd_write(d->kick[q], 1);
			else
				virtio_serve(d, q);
		}
	}
}
