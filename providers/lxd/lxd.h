/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_LXD_LXD_H
#define DEN_PROVIDERS_LXD_LXD_H

/* What the lxd provider offers besides its ops: `den lxd trust` (cmd/lxd.c). */

#include "core/err.h"

/*
 * Pins the certificate of the LXD at url when it is the one the trust
 * token names, then has that LXD trust den's client certificate with the
 * token (providers/lxd/trust.c). Nothing is kept when a step fails.
 */
int lxd_trust(const char *url, const char *token, struct den_err *err);

#endif
