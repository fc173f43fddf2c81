/* SPDX-License-Identifier: MIT */
/* libslirp (and with it glib), loaded on first use (core/lazylib.h). */
#include <slirp/libslirp.h>
#include <stddef.h>

#include "core/lazylib.h"

static struct lazylib slirp = { "libslirp.so.0", "libslirp0", NULL };

LAZYLIB_STUB(slirp, Slirp *, slirp_new, (const SlirpConfig *c, const SlirpCb *cb, void *o),
	     (c, cb, o))
LAZYLIB_STUB_VOID(slirp, slirp_cleanup, (Slirp * s), (s))
LAZYLIB_STUB_VOID(slirp, slirp_pollfds_fill, (Slirp * s, uint32_t *t, SlirpAddPollCb cb, void *o),
		  (s, t, cb, o))
LAZYLIB_STUB_VOID(slirp, slirp_pollfds_poll, (Slirp * s, int e, SlirpGetREventsCb cb, void *o),
		  (s, e, cb, o))
LAZYLIB_STUB_VOID(slirp, slirp_input, (Slirp * s, const uint8_t *p, int n), (s, p, n))
LAZYLIB_STUB(slirp, int, slirp_add_hostfwd,
	     (Slirp * s, int udp, struct in_addr h, int hp, struct in_addr g, int gp),
	     (s, udp, h, hp, g, gp))
