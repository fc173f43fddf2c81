/* SPDX-License-Identifier: MIT */
/*
 * virtio-net on den's user-mode network: the guest's frames go to
 * libslirp (core/usernet.c: NAT, DNS, DHCP, forwarded ports) and slirp's
 * frames into the guest's receive buffers. Everything that touches slirp
 * runs on this device's own thread, which also waits on the queues' kick
 * eventfds. No offloads are offered: the guest checksums and segments
 * itself, and one receive chain takes one whole frame.
 * On a private network (docs/networks.md) the other end is a switch port
 * instead of slirp, a packet a frame, and the card offers the network's
 * MTU (VIRTIO_NET_F_MTU), so that its frames carry 64 KiB.
 */
#include "providers/kvm/virtio.h"
#include "core/usernet.h"
#include "providers/network/switch.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_F_MTU (1ULL << 3)
#define NET_F_MAC (1ULL << 5)
#define NET_F_STATUS (1ULL << 16)
#define NET_S_LINK_UP 1
/* virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
#define NET_HDR 12
#define RXQ 0
#define TXQ 1
#define MAX_FRAME 65536
/* Frames from slirp kept while the guest has no receive buffer free. */
#define BACKLOG 128

struct frame {
	uint8_t *buf;
	size_t len;
};

struct net {
	struct usernet *u; /* den's user-mode network, or NULL */
	int port;	   /* else a private network's switch port; -1 once the switch has gone */
	uint8_t mac[6];
	struct frame backlog[BACKLOG];
	unsigned first, count;
	uint8_t tx[MAX_FRAME];
	uint8_t rx[MAX_FRAME]; /* a frame from the switch port */
};

static uint64_t config(struct virtio_dev *d, unsigned offset, unsigned size)
{
	struct net *n = d->priv;
	uint8_t cfg[12] = { 0 };
	uint64_t v = 0;

	memcpy(cfg, n->mac, 6); /* mac, status, max_virtqueue_pairs, mtu (little-endian) */
	cfg[6] = NET_S_LINK_UP;
	cfg[10] = (uint8_t)(SWITCH_MTU & 0xff);
	cfg[11] = (uint8_t)(SWITCH_MTU >> 8);
	for (unsigned i = 0; i < size && offset + i < sizeof(cfg); i++)
		v |= (uint64_t)cfg[offset + i] << (8 * i);
	return v;
}

/* Copies src into the chain's writable segments from byte *at on; false if it does not fit. */
static bool scatter(struct vq_chain *c, uint32_t *at, const uint8_t *src, size_t len)
{
	uint32_t skip = *at;

	for (unsigned i = 0; i < c->n && len > 0; i++) {
		struct vq_seg *s = &c->seg[i];
		if (!s->writable)
			continue;
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		size_t take = s->len - skip < len ? s->len - skip : len;
		memcpy(s->p + skip, src, take);
		skip = 0;
		src += take;
		len -= take;
		*at += (uint32_t)take;
	}
	return len == 0;
}

/* One frame into the guest, under d->lock: false when it has no receive buffer free. */
static bool deliver(struct virtio_dev *d, const uint8_t *frame, size_t len)
{
	struct virtqueue *q = &d->q[RXQ];
	uint8_t hdr[NET_HDR] = { 0 };
	struct vq_chain c;
	uint32_t at = 0;

	if (!virtio_running(d))
		return true; /* no driver: the frame is dropped, as on an unplugged cable */
	int r = vq_pop(q, d->mem, &c);
	if (r == 0)
		return false;
	if (r < 0) {
		virtio_check_broken(d, RXQ);
		return true;
	}
	hdr[10] = 1; /* num_buffers */
	if (!scatter(&c, &at, hdr, sizeof(hdr)) || !scatter(&c, &at, frame, len))
		at = 0; /* a buffer too small for the frame: handed back empty, the frame dropped */
	vq_push(q, d->mem, c.head, at);
	virtio_signal_queue(d, RXQ);
	return true;
}

/* Frames kept while the guest had no buffers, oldest first (under d->lock). */
static void flush_backlog(struct virtio_dev *d)
{
	struct net *n = d->priv;

	while (n->count > 0) {
		struct frame *f = &n->backlog[n->first];
		if (!deliver(d, f->buf, f->len))
			return;
		free(f->buf);
		f->buf = NULL;
		n->first = (n->first + 1) % BACKLOG;
		n->count--;
	}
}

/* slirp's frame for the guest (on the device's thread). */
static ssize_t from_network(const void *buf, size_t len, void *arg)
{
	struct virtio_dev *d = arg;
	struct net *n = d->priv;

	pthread_mutex_lock(&d->lock);
	flush_backlog(d);
	if ((n->count > 0 || !deliver(d, buf, len)) && n->count < BACKLOG) {
		struct frame *f = &n->backlog[(n->first + n->count) % BACKLOG];
		f->buf = malloc(len);
		if (f->buf != NULL) {
			memcpy(f->buf, buf, len);
			f->len = len;
			n->count++;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return (ssize_t)len;
}

/* The guest's frames, each handed to slirp with the device's lock let go. */
static void transmit(struct virtio_dev *d)
{
	struct net *n = d->priv;
	struct vq_chain c;

	for (;;) {
		size_t len = 0, skip = NET_HDR;
		pthread_mutex_lock(&d->lock);
		int r = virtio_running(d) ? vq_pop(&d->q[TXQ], d->mem, &c) : 0;
		if (r <= 0) {
			virtio_check_broken(d, TXQ);
			pthread_mutex_unlock(&d->lock);
			return;
		}
		for (unsigned i = 0; i < c.n; i++) {
			struct vq_seg *s = &c.seg[i];
			if (s->writable)
				continue;
			size_t from = skip < s->len ? skip : s->len;
			skip -= from;
			size_t take = s->len - from;
			if (take > sizeof(n->tx) - len)
				take = sizeof(n->tx) - len;
			memcpy(n->tx + len, s->p + from, take);
			len += take;
		}
		vq_push(&d->q[TXQ], d->mem, c.head, 0);
		virtio_signal_queue(d, TXQ);
		pthread_mutex_unlock(&d->lock);
		if (len < 14) /* an Ethernet header at least */
			continue;
		if (n->u != NULL)
			usernet_input(n->u, n->tx, len);
		else if (n->port >= 0) /* a switch that cannot take it now loses it, as a wire */
			(void)!send(n->port, n->tx, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

/* The switch's frames for the guest; its end closed: the card has no network left. */
static void from_switch(struct virtio_dev *d)
{
	struct net *n = d->priv;
	ssize_t len;

	while ((len = recv(n->port, n->rx, sizeof(n->rx), MSG_DONTWAIT)) > 0)
		from_network(n->rx, (size_t)len, d);
	if (len == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(n->port);
		n->port = -1;
	}
}

static void *loop(void *arg)
{
	struct virtio_dev *d = arg;
	struct net *n = d->priv;
	struct pollfd fds[3 + USERNET_MAX_FDS];
	eventfd_t count;

	for (;;) {
		size_t nfds = 4;
		int timeout = -1;
		fds[0] = (struct pollfd){ d->kick[RXQ], POLLIN, 0 };
		fds[1] = (struct pollfd){ d->kick[TXQ], POLLIN, 0 };
		fds[2] = (struct pollfd){ d->stop, POLLIN, 0 };
		fds[3] = (struct pollfd){ n->port, POLLIN, 0 };
		if (n->u != NULL)
			usernet_fill(n->u, fds, sizeof(fds) / sizeof(fds[0]), &nfds, &timeout);
		int r = poll(fds, nfds, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && fds[2].revents)
			break; /* the VM ended */
		if (r > 0 && (fds[0].revents & POLLIN) && eventfd_read(d->kick[RXQ], &count) == 0) {
			pthread_mutex_lock(&d->lock);
			flush_backlog(d);
			pthread_mutex_unlock(&d->lock);
		}
		if (r > 0 && (fds[1].revents & POLLIN) && eventfd_read(d->kick[TXQ], &count) == 0)
			transmit(d);
		if (r > 0 && fds[3].revents)
			from_switch(d);
		if (n->u != NULL)
			usernet_dispatch(n->u, fds, nfds, r < 0);
	}
	return NULL;
}

/* Never called: the device is always wired, and its thread serves the queues. */
static void notify(struct virtio_dev *d, unsigned queue)
{
	(void)d;
	(void)queue;
}

static void net_free(struct virtio_dev *d)
{
	struct net *n = d->priv;

	if (n == NULL)
		return;
	usernet_free(n->u);
	if (n->port >= 0)
		close(n->port);
	for (unsigned i = 0; i < n->count; i++)
		free(n->backlog[(n->first + i) % BACKLOG].buf);
	free(n);
	d->priv = NULL;
}

/* The device of n, its MAC mac; features beyond the base ones. */
static void setup(struct virtio_dev *d, struct net *n, const uint8_t mac[6], uint64_t features)
{
	memcpy(n->mac, mac, 6);
	d->device_id = VIRTIO_ID_NET;
	d->features = VIRTIO_F_VERSION_1 | NET_F_MAC | NET_F_STATUS | features;
	d->nqueues = 2;
	d->notify = notify;
	d->config = config;
	d->loop = loop;
	d->free = net_free;
	/*
	 * A snapshot keeps the transport only: frames waiting in the backlog are
	 * lost, as on a wire, and slirp starts afresh on restore, so connections
	 * through it are reset (docs/vmm.md, "Snapshots").
	 */
	d->snap = &virtio_snap_transport_only;
	d->priv = n;
}

int virtio_net_init(struct virtio_dev *d, const struct usernet_fwd *fwds, size_t nfwds,
		    bool host_loopback, struct den_err *err)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct net *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return den_err_set(err, ENOMEM, "cannot set up the network");
	n->port = -1;
	setup(d, n, mac, 0);
	return usernet_new(fwds, nfwds, host_loopback, from_network, d, &n->u, err);
}

int virtio_net_init_private(struct virtio_dev *d, int port, const uint8_t mac[6],
			    struct den_err *err)
{
	struct net *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		close(port);
		return den_err_set(err, ENOMEM, "cannot set up the private network's card");
	}
	n->port = port;
	setup(d, n, mac, NET_F_MTU);
	return 0;
}
