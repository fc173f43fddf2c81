/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_USERNET_H
#define DEN_CORE_USERNET_H

/*
 * User-mode networking (DESIGN.md §8): libslirp in the supervisor's event
 * loop. The guest is 10.0.2.15/24, its gateway 10.0.2.2 (which reaches
 * the host's loopback) and DNS 10.0.2.3; all of it exists only inside
 * this process. Forwarded ports listen on the host (127.0.0.1 unless the
 * Envfile says otherwise). Shared by the container and kvm providers.
 */

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define USERNET_GUEST "10.0.2.15"
#define USERNET_GATEWAY "10.0.2.2"
#define USERNET_DNS "10.0.2.3"
#define USERNET_PREFIX 24
#define USERNET_MAX_FDS 256

struct usernet;

struct usernet_fwd {
	bool udp;
	struct in_addr host_ip; /* where to listen on the host */
	uint16_t host_port, guest_port;
};

/* Frames for the guest go to send(buf, len, arg). */
typedef ssize_t (*usernet_send_fn)(const void *buf, size_t len, void *arg);

/*
 * A user-mode network with ports forwarded. With host_loopback the gateway
 * (10.0.2.2) reaches the host's 127.0.0.1, as QEMU's does; without, the
 * guest reaches no service that listens on the host's loopback only
 * (other machines' forwarded ports included), as rootless podman's default.
 */
int usernet_new(const struct usernet_fwd *fwds, size_t n, bool host_loopback, usernet_send_fn send,
		void *arg, struct usernet **out, struct den_err *err);

/*
 * A DHCP server and nothing else, for one machine on a private network
 * (providers/network/): libslirp restricted, so no packet reaches the
 * host. It answers at server (its MAC: 52:55 and server's bytes, as
 * libslirp's own) and leases lease, the first address it gives, to the one
 * machine whose frames it is given; with hostname (NULL: none).
 */
struct usernet_dhcp {
	struct in_addr network, netmask, server, lease;
	const char *hostname;
};
int usernet_new_dhcp(const struct usernet_dhcp *d, usernet_send_fn send, void *arg,
		     struct usernet **out, struct den_err *err);

/* A frame from the guest. */
void usernet_input(struct usernet *u, const void *frame, size_t len);

/*
 * Before poll(): appends slirp's descriptors to fds (from *n on) and
 * lowers *timeout_ms to its next timer. After poll(): usernet_dispatch
 * with the same array runs slirp and its expired timers.
 */
void usernet_fill(struct usernet *u, struct pollfd *fds, size_t max, size_t *n, int *timeout_ms);
void usernet_dispatch(struct usernet *u, struct pollfd *fds, size_t n, bool poll_failed);

void usernet_free(struct usernet *u);

/*
 * Serves a QEMU `-netdev stream` peer on fd (usernet_stream.c) until it
 * hangs up: ports forwarded, the host's loopback as host_loopback says.
 * Once the ports are bound, writes one byte to ready_fd (when >= 0); closes
 * it either way.
 */
int usernet_serve_stream(int fd, const struct usernet_fwd *fwds, size_t n, bool host_loopback,
			 int ready_fd, struct den_err *err);

/* "tcp:127.0.0.1:2222:22", "udp:5353:53", "8080:80" -> a forward. */
int usernet_parse_fwd(const char *s, struct usernet_fwd *f, struct den_err *err);

/*
 * QEMU's hostfwd syntax, "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"
 * ("tcp:127.0.0.1:8080-:80") -> a forward; no host address means 127.0.0.1.
 */
int usernet_parse_hostfwd(const char *s, struct usernet_fwd *f, struct den_err *err);

#endif
