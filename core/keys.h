/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_KEYS_H
#define DEN_CORE_KEYS_H

/*
 * A machine's SSH credentials (DESIGN.md §9), made with libssh at first
 * up and kept in its .den folder: den's client key (id_ed25519, 0600) and
 * the guest's host key (host_ed25519_key), which den puts into the guest
 * before it boots, so the very first connection is checked strictly.
 */

#include "core/err.h"

#define KEYS_CLIENT "id_ed25519"
#define KEYS_HOST "host_ed25519_key"

/* Makes both key pairs in dir unless they are there. */
int keys_ensure(const char *dir, struct den_err *err);

/* "ssh-ed25519 AAAA..." of dir/NAME.pub (malloc'd, no newline). */
int keys_public(const char *dir, const char *name, char **out, struct den_err *err);

/* Writes dir/known_hosts: the host key for [host]:port (host an address: 127.0.0.1...). */
int keys_write_known_hosts(const char *dir, const char *host, int port, struct den_err *err);

#endif
