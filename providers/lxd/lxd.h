/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_LXD_LXD_H
#define DEN_PROVIDERS_LXD_LXD_H

/* What the lxd provider offers besides its ops: `den lxd trust` (cmd/lxd.c). */

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* What `den lxd trust` did, for its message. */
struct lxd_trusted {
	char base[300];	       /* https://HOST:PORT */
	char fingerprint[65];  /* the server's certificate, pinned */
	char pinned[4096];     /* where */
	char client_crt[4096]; /* den's certificate, which LXD trusts */
	bool already;	       /* LXD trusted it before the token */
};

/*
 * Pins the certificate of the LXD at url when it is the one the trust
 * token names, then has that LXD trust den's client certificate with the
 * token (providers/lxd/trust.c). Nothing is kept when a step fails.
 */
int lxd_trust(const char *url, const char *token, struct lxd_trusted *out, struct den_err *err);

/*
 * Asks the local LXD ($LXD_DIR/unix.socket, or /var/lib/lxd's) its
 * version (providers/lxd/probe.c): *where gets the socket. Fails, saying
 * why, when none answers.
 */
int lxd_probe(char *version, size_t vlen, char *where, size_t wlen, struct den_err *err);

#endif
