/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_SEED_H
#define DEN_PROVIDERS_SEED_H

/*
 * The NoCloud seed a cloud-init box boots with: an ISO 9660 image
 * labelled `cidata` (libarchive's writer) holding meta-data (instance id,
 * hostname) and user-data (#cloud-config: den's login user with
 * passwordless sudo and den's key, and the host key den generated, so den
 * knows the machine's key before it ever connects).
 */

#include "core/err.h"

struct seed_spec {
	const char *instance_id; /* changes when the machine is made anew */
	const char *hostname;
	const char *user;
	const char *authorized_key;   /* "ssh-ed25519 AAAA..." den logs in with */
	const char *host_key_private; /* OpenSSH private key text */
	const char *host_key_public;  /* "ssh-ed25519 AAAA..." */
	const char *networks; /* private networks, "MAC ADDRESS/PREFIX\n" each; NULL: none */
	const char *hosts;    /* /etc/hosts lines of the machines sharing them; NULL: none */
};

/* The user-data document (malloc'd), written with libyaml's emitter. */
char *seed_user_data(const struct seed_spec *s, struct den_err *err);

/* Writes the seed image to path (replacing it). */
int seed_write(const char *path, const struct seed_spec *s, struct den_err *err);

/*
 * The seed of a warm image's template (docs/vmm.md, "Warm images"):
 * den/warm, which tells den's seed hook to take no keys and, last in the
 * boot, to say on den's channel that it is ready to be saved, and
 * den/user, the login user it makes ready (no key, password locked).
 */
int seed_write_warm(const char *path, const char *user, struct den_err *err);

struct den_machine;
/*
 * The seed of a VM (kvm and qemu providers) to path: its instance id (name
 * and creation time), host name, login user (rec.ssh_user), den's login
 * key and the host key den made for it (its folder's keys), and its
 * private networks' addresses and hosts (NULL: none), for den's hook.
 */
int seed_write_machine(const struct den_machine *dm, const char *path, const char *hosts,
		       struct den_err *err);

#endif
