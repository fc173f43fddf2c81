/* SPDX-License-Identifier: MIT */
/*
 * den's user-mode network for a QEMU machine: frames over a stream socket
 * in QEMU's `-netdev stream` framing (a 4-byte big-endian length, then the
 * Ethernet frame), to and from libslirp. QEMU's own user network cannot
 * keep the guest off the host's loopback; this one does, and forwards
 * ports as the container provider's does. The frames come from the guest:
 * a length larger than any frame ends the connection.
 */
#include "core/usernet.h"
#include "core/cleanup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define FRAME_MAX 65536 /* more than any Ethernet frame QEMU sends without offloads */

/* One frame to QEMU, whole or not at all (a blocking write: QEMU reads it soon). */
static ssize_t to_stream(const void *buf, size_t len, void *arg)
{
	int fd = *(int *)arg;
	uint32_t head = htonl((uint32_t)len);
	struct iovec iov[2] = { { &head, 4 }, { (void *)buf, len } };
	size_t left = 4 + len;

	while (left > 0) {
		ssize_t n = writev(fd, iov, 2);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		left -= (size_t)n;
		for (int i = 0; i < 2; i++) {
			size_t take = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			n -= (ssize_t)take;
		}
	}
	return (ssize_t)len;
}

/*
 * Hands every whole frame in buf[0..*have) to slirp and keeps the rest;
 * false when a length is out of range (the stream is garbage).
 */
static bool take_frames(struct usernet *u, unsigned char *buf, size_t *have)
{
	size_t at = 0;

	while (*have - at >= 4) {
		uint32_t len;
		memcpy(&len, buf + at, 4);
		len = ntohl(len);
		if (len > FRAME_MAX)
			return false;
		if (*have - at - 4 < len)
			break;
		if (len > 0)
			usernet_input(u, buf + at + 4, len);
		at += 4 + len;
	}
	memmove(buf, buf + at, *have - at);
	*have -= at;
	return true;
}

int usernet_serve_stream(int fd, const struct usernet_fwd *fwds, size_t n, bool host_loopback,
			 int ready_fd, struct den_err *err)
{
	static unsigned char buf[4 + FRAME_MAX];
	struct pollfd fds[USERNET_MAX_FDS];
	struct usernet *u = NULL;
	size_t have = 0;
	int rc = 0;

	/*
	 * slirp writes to sockets whose peers may be gone (a forwarded
	 * connection closed, QEMU ended): EPIPE, never SIGPIPE.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (usernet_new(fwds, n, host_loopback, to_stream, &fd, &u, err) < 0) {
		if (ready_fd >= 0)
			close(ready_fd); /* nothing written: it did not start */
		return -1;
	}
	/* The ports are bound: whoever started us may start QEMU now. */
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "1", 1);
		close(ready_fd);
	}
	for (;;) {
		size_t nfds = 1;
		int timeout = -1, r;

		fds[0] = (struct pollfd){ fd, POLLIN, 0 };
		usernet_fill(u, fds, USERNET_MAX_FDS, &nfds, &timeout);
		r = poll(fds, nfds, timeout);
		if (r < 0 && errno != EINTR) {
			rc = den_err_set(err, errno, "the machine's network stopped");
			break;
		}
		if (r > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(fd, buf + have, sizeof(buf) - have);
			if (got == 0)
				break; /* QEMU is gone: so is its network */
			if (got < 0 && errno != EINTR && errno != EAGAIN) {
				rc = den_err_set(err, errno, "cannot read the machine's frames");
				break;
			}
			if (got > 0) {
				have += (size_t)got;
				if (!take_frames(u, buf, &have)) {
					rc = den_err_set(err, 0,
							 "the machine sent a frame longer than %d "
							 "bytes: its network is stopped",
							 FRAME_MAX);
					break;
				}
			}
		}
		usernet_dispatch(u, fds, nfds, r < 0);
	}
	usernet_free(u);
	return rc;
}
