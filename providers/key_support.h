/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KEY_SUPPORT_H
#define DEN_PROVIDERS_KEY_SUPPORT_H

/*
 * Which provider does what an Envfile key asks (docs/envfile.md, "Keys by
 * provider"). A key that `den validate` accepts but a machine's provider
 * does not do is refused by `den up`, never ignored.
 */

#include <stdbool.h>

#include "core/envfile.h"
#include "core/err.h"

struct key_support {
	enum envfile_key key;
	const char *asked;			 /* what the row is about: "true", "host", "any" */
	bool (*asks)(const struct machine *cfg); /* does cfg ask for it? */
	const char *providers[4];		 /* the providers that do it */
	const char *why;			 /* for the others: why not, what to do instead */
};

/* The rows, ending with one whose asks is NULL. */
extern const struct key_support key_supports[];

/* True when provider does what row says. */
bool key_support_has(const struct key_support *row, const char *provider);

/*
 * Fails (DEN_ERR_ENVFILE, "FILE:LINE:COL: ..." naming the key and the
 * provider) when cfg asks for something provider does not do; shown is the
 * Envfile's name in messages.
 */
int provider_check_keys(const char *provider, const struct machine *cfg, const char *shown,
			struct den_err *err);

#endif
