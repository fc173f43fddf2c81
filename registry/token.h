/* SPDX-License-Identifier: MIT */
#ifndef DEN_REGISTRY_TOKEN_H
#define DEN_REGISTRY_TOKEN_H

/*
 * Logging in to a registry: the Authorization header for its Basic
 * challenge, or the bearer token its Bearer challenge's realm hands out
 * (the distribution project's token spec: GET with the user's password,
 * or the OAuth2 refresh-token POST for an identity token).
 */

#include "core/err.h"
#include "registry/registry.h"

struct registry_client;

/* *header = "Authorization: Basic base64(user:password)" (malloc'd). */
int registry_basic_header(const struct registry_creds *creds, char **header, struct den_err *err);

/*
 * Asks ch's realm for a token for scopes (space-separated) and sets the
 * client's Authorization header to it. The realm must be https, or plain
 * http on loopback or when the registry itself is spoken to in plain HTTP.
 */
int registry_token_fetch(struct registry_client *c, const struct registry_challenge *ch,
			 const char *scopes, struct den_err *err);

#endif
