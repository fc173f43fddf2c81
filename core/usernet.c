/* SPDX-License-Identifier: MIT */
#include "core/usernet.h"
#include "core/lazylib.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TIMERS 64

struct timer {
	bool used, armed;
	int64_t expire_ms;
	SlirpTimerCb cb;
	void *cb_opaque;
};

struct usernet {
	Slirp *slirp;
	usernet_send_fn send;
	void *arg;
	struct timer timers[MAX_TIMERS];
	struct pollfd *fds; /* the array of the current fill/dispatch round */
	size_t base, n, max;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t cb_send(const void *buf, size_t len, void *opaque)
{
	struct usernet *u = opaque;
	return u->send(buf, len, u->arg);
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	den_debug("network: guest error: %s", msg);
}

static int64_t cb_clock(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct usernet *u = opaque;

	for (int i = 0; i < MAX_TIMERS; i++) {
		if (!u->timers[i].used) {
			u->timers[i] = (struct timer){ true, false, 0, cb, cb_opaque };
			return &u->timers[i];
		}
	}
	return NULL;
}

static void cb_timer_free(void *t, void *opaque)
{
	(void)opaque;
	if (t != NULL)
		memset(t, 0, sizeof(struct timer));
}

static void cb_timer_mod(void *t, int64_t expire_ms, void *opaque)
{
	struct timer *tm = t;

	(void)opaque;
	if (tm != NULL) {
		tm->armed = true;
		tm->expire_ms = expire_ms;
	}
}

static void cb_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb callbacks = {
	.send_packet = cb_send,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_fd,
	.unregister_poll_fd = cb_fd,
	.notify = cb_notify,
};

/*
 * A libslirp instance of cfg whose frames for the guest go to send; what
 * names it in an error ("the user-mode network", "the DHCP server").
 */
static int start(const SlirpConfig *cfg, usernet_send_fn send, void *arg, const char *what,
		 struct usernet **out, struct den_err *err)
{
	struct usernet *u;

	if (den_slirp_load(err) < 0)
		return -1;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return den_err_set(err, ENOMEM, "cannot set up %s", what);
	u->send = send;
	u->arg = arg;
	u->slirp = slirp_new(cfg, &callbacks, u);
	if (u->slirp == NULL) {
		free(u);
		return den_err_set(err, 0, "cannot start %s (libslirp)", what);
	}
	*out = u;
	return 0;
}

int usernet_new(const struct usernet_fwd *fwds, size_t n, bool host_loopback, usernet_send_fn send,
		void *arg, struct usernet **out, struct den_err *err)
{
	struct usernet *u = NULL;
	SlirpConfig cfg = { .version = 1,
			    .in_enabled = true,
			    .vhostname = "den",
			    .if_mtu = 1500,
			    .if_mru = 1500,
			    .disable_host_loopback = !host_loopback };
	struct in_addr guest;

	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, USERNET_GATEWAY, &cfg.vhost);
	inet_pton(AF_INET, USERNET_GUEST, &cfg.vdhcp_start);
	inet_pton(AF_INET, USERNET_DNS, &cfg.vnameserver);
	inet_pton(AF_INET, USERNET_GUEST, &guest);
	if (start(&cfg, send, arg, "the user-mode network", &u, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (slirp_add_hostfwd(u->slirp, fwds[i].udp, fwds[i].host_ip, fwds[i].host_port,
				      guest, fwds[i].guest_port) < 0) {
			char ip[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &fwds[i].host_ip, ip, sizeof(ip));
			usernet_free(u);
			return den_err_set(
				err, 0,
				"cannot forward %s:%u/%s to the guest's port %u: the "
				"host port is in use (pick another, or auto_correct: true)",
				ip, fwds[i].host_port, fwds[i].udp ? "udp" : "tcp",
				fwds[i].guest_port);
		}
	}
	*out = u;
	return 0;
}

int usernet_new_dhcp(const struct usernet_dhcp *d, usernet_send_fn send, void *arg,
		     struct usernet **out, struct den_err *err)
{
	/*
	 * Restricted: nothing the guest sends reaches the host or beyond; no
	 * DNS either. What is left is libslirp's DHCP server (and ARP for its
	 * own address, which a renewal needs).
	 */
	SlirpConfig cfg = { .version = 3,
			    .restricted = 1,
			    .in_enabled = true,
			    .vnetwork = d->network,
			    .vnetmask = d->netmask,
			    .vhost = d->server,
			    .vdhcp_start = d->lease,
			    .vnameserver = d->server,
			    .vhostname = d->hostname,
			    .if_mtu = 1500,
			    .if_mru = 1500,
			    .disable_host_loopback = true,
			    .disable_dns = true };

	return start(&cfg, send, arg, "the DHCP server", out, err);
}

void usernet_input(struct usernet *u, const void *frame, size_t len)
{
	slirp_input(u->slirp, frame, (int)len);
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct usernet *u = opaque;
	short ev = 0;

	if (u->base + u->n >= u->max)
		return -1;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	u->fds[u->base + u->n] = (struct pollfd){ fd, ev, 0 };
	return (int)u->n++;
}

static int cb_revents(int idx, void *opaque)
{
	struct usernet *u = opaque;
	short r;
	int ev = 0;

	if (idx < 0 || (size_t)idx >= u->n)
		return 0;
	r = u->fds[u->base + (size_t)idx].revents;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

void usernet_fill(struct usernet *u, struct pollfd *fds, size_t max, size_t *n, int *timeout_ms)
{
	uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
	int64_t now_ms = now_ns() / 1000000;

	u->fds = fds;
	u->base = *n;
	u->n = 0;
	u->max = max;
	slirp_pollfds_fill(u->slirp, &t, cb_add_poll, u);
	for (int i = 0; i < MAX_TIMERS; i++) {
		if (u->timers[i].used && u->timers[i].armed) {
			int64_t left = u->timers[i].expire_ms - now_ms;
			if (left < 0)
				left = 0;
			if ((uint64_t)left < t)
				t = (uint32_t)left;
		}
	}
	*timeout_ms = t == UINT32_MAX ? -1 : (int)t;
	*n = u->base + u->n;
}

void usernet_dispatch(struct usernet *u, struct pollfd *fds, size_t n, bool poll_failed)
{
	int64_t now_ms = now_ns() / 1000000;

	(void)n;
	u->fds = fds;
	slirp_pollfds_poll(u->slirp, poll_failed, cb_revents, u);
	for (int i = 0; i < MAX_TIMERS; i++) {
		struct timer *t = &u->timers[i];
		if (t->used && t->armed && t->expire_ms <= now_ms) {
			t->armed = false;
			t->cb(t->cb_opaque);
		}
	}
}

void usernet_free(struct usernet *u)
{
	if (u == NULL)
		return;
	if (u->slirp != NULL)
		slirp_cleanup(u->slirp);
	free(u);
}

int usernet_parse_fwd(const char *s, struct usernet_fwd *f, struct den_err *err)
{
	char ip[64] = "127.0.0.1";
	unsigned hp, gp;
	const char *p = s;

	memset(f, 0, sizeof(*f));
	if (strncmp(p, "tcp:", 4) == 0) {
		p += 4;
	} else if (strncmp(p, "udp:", 4) == 0) {
		f->udp = true;
		p += 4;
	}
	if (sscanf(p, "%63[0-9.]:%u:%u", ip, &hp, &gp) != 3 &&
	    (snprintf(ip, sizeof(ip), "127.0.0.1"), sscanf(p, "%u:%u", &hp, &gp) != 2))
		return den_err_usage(
			err, "forward '%s': expected [tcp:|udp:][IP:]HOSTPORT:GUESTPORT", s);
	if (hp < 1 || hp > 65535 || gp < 1 || gp > 65535 ||
	    inet_pton(AF_INET, ip, &f->host_ip) != 1)
		return den_err_usage(err, "forward '%s': ports are 1 to 65535, IP an IPv4 address",
				     s);
	f->host_port = (uint16_t)hp;
	f->guest_port = (uint16_t)gp;
	return 0;
}

int usernet_parse_hostfwd(const char *s, struct usernet_fwd *f, struct den_err *err)
{
	char proto[4] = "tcp", host[64] = "", guest[64] = "", rest[8];
	unsigned hp = 0, gp = 0;
	const char *p = s;
	int used = 0;

	memset(f, 0, sizeof(*f));
	/* [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
	if (sscanf(p, "%3[a-z]:%n", proto, &used) == 1 && used > 0)
		p += used;
	bool ok = (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0) &&
		  (sscanf(p, "%63[0-9.]:%u-%63[0-9.]:%u%7s", host, &hp, guest, &gp, rest) == 4 ||
		   sscanf(p, ":%u-:%u%7s", &hp, &gp, rest) == 2 ||
		   sscanf(p, "%63[0-9.]:%u-:%u%7s", host, &hp, &gp, rest) == 3 ||
		   sscanf(p, ":%u-%63[0-9.]:%u%7s", &hp, guest, &gp, rest) == 3);
	if (!ok)
		return den_err_usage(err,
				     "hostfwd=%s: expected [tcp|udp]:[HOSTADDR]:HOSTPORT-"
				     "[GUESTADDR]:GUESTPORT, as tcp:127.0.0.1:8080-:80",
				     s);
	f->udp = strcmp(proto, "udp") == 0;
	if (host[0] == '\0')
		snprintf(host, sizeof(host), "127.0.0.1"); /* never every address by default */
	if (guest[0] != '\0' && strcmp(guest, USERNET_GUEST) != 0)
		return den_err_usage(err, "hostfwd=%s: the guest is %s on den's network", s,
				     USERNET_GUEST);
	if (hp < 1 || hp > 65535 || gp < 1 || gp > 65535 ||
	    inet_pton(AF_INET, host, &f->host_ip) != 1)
		return den_err_usage(err, "hostfwd=%s: ports are 1 to 65535, addresses IPv4", s);
	f->host_port = (uint16_t)hp;
	f->guest_port = (uint16_t)gp;
	return 0;
}
