/* SPDX-License-Identifier: MIT */
/*
 * A device's queues and interrupt on eventfds, and the thread that serves
 * them. The VM registers kick[n] with KVM_IOEVENTFD on the device's
 * QueueNotify register (data n), so a guest's notify wakes this thread
 * without an exit to userspace, and irqfd with KVM_IRQFD, so raising the
 * IRQ is one write. The vCPUs never wait for a disk.
 */
#include "providers/kvm/virtio.h"
#include "providers/kvm/vm-internal.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int virtio_wire(struct virtio_dev *d, int stop, struct den_err *err)
{
	d->irqfd = -1;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		d->kick[q] = -1;
	d->stop = stop;
	d->wired = true;
	d->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->irqfd < 0)
		return den_err_set(err, errno, "%s: cannot make its interrupt eventfd", d->name);
	for (unsigned q = 0; q < d->nqueues; q++) {
		d->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->kick[q] < 0)
			return den_err_set(err, errno, "%s: cannot make its queue eventfds",
					   d->name);
	}
	return 0;
}

void *virtio_serve_loop(void *arg)
{
	struct virtio_dev *d = arg;
	struct pollfd p[VIRTIO_MAX_QUEUES + 1];
	unsigned n = d->nqueues;

	for (unsigned q = 0; q < n; q++)
		p[q] = (struct pollfd){ d->kick[q], POLLIN, 0 };
	p[n] = (struct pollfd){ d->stop, POLLIN, 0 };
	for (;;) {
		if (poll(p, n + 1, -1) < 0 && errno != EINTR)
			break;
		if (p[n].revents)
			break; /* the VM ended */
		for (unsigned q = 0; q < n; q++) {
			eventfd_t count;
			if ((p[q].revents & POLLIN) && eventfd_read(d->kick[q], &count) == 0)
				virtio_serve(d, q);
		}
	}
	return NULL;
}

int virtio_start(struct virtio_dev *d, struct den_err *err)
{
	int e = vm_thread_start(&d->thread, d->loop ? d->loop : virtio_serve_loop, d);

	if (e != 0)
		return den_err_set(err, e, "%s: cannot start its thread", d->name);
	d->thread_started = true;
	return 0;
}

void virtio_unwire(struct virtio_dev *d)
{
	if (d->thread_started)
		pthread_join(d->thread, NULL);
	d->thread_started = false;
	if (d->free != NULL)
		d->free(d);
	if (!d->wired)
		return;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (d->kick[q] >= 0)
			close(d->kick[q]);
	if (d->irqfd >= 0)
		close(d->irqfd);
	d->wired = false;
}
