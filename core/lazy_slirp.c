/* SPDX-License-Identifier: MIT */
/* libslirp's table (core/lazylib.h), and with it glib: user-mode networking. */
#include <slirp/libslirp.h>
#include <stddef.h>

#include "core/lazylib-internal.h"

#define S Slirp *
#define A struct in_addr

#define DEN_SLIRP_FUNCS(X, V)                                                                      \
	X(S, slirp_new, (const SlirpConfig *c, const SlirpCb *cb, void *o), (c, cb, o))            \
	X(void, slirp_cleanup, (S s), (s))                                                         \
	X(void, slirp_pollfds_fill, (S s, uint32_t * t, SlirpAddPollCb cb, void *o),               \
	  (s, t, cb, o))                                                                           \
	X(void, slirp_pollfds_poll, (S s, int e, SlirpGetREventsCb cb, void *o), (s, e, cb, o))    \
	X(void, slirp_input, (S s, const uint8_t *p, int n), (s, p, n))                            \
	X(int, slirp_add_hostfwd, (S s, int udp, A h, int hp, A g, int gp), (s, udp, h, hp, g, gp))

LAZYLIB_DEFINE(lazylib_slirp, DEN_SLIRP_FUNCS, DEN_SONAME_SLIRP, DEN_PACKAGE_SLIRP)
