/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVISIONERS_INVENTORY_H
#define DEN_PROVISIONERS_INVENTORY_H

/*
 * The Ansible inventory den makes for the ansible provisioner, in YAML
 * (Ansible's yaml inventory plugin): every machine of the Envfile that
 * exists, reached as 127.0.0.1 on its SSH port with den's key, and
 * OpenSSH checking the host key den gave it against the machine's
 * known_hosts (strictly); then the step's groups ({"web": ["web1"],
 * "web:vars": {...}, "all:children": [...]}). Written with libyaml's
 * emitter: a value read back from a machine's state (its SSH user) stays
 * one literal string, whatever quotes, '=' or newlines it holds, and the
 * hosts' variables are tagged !unsafe, so Ansible never templates them.
 */

#include <stddef.h>

#include "core/envfile.h"
#include "core/err.h"

/* File name of den's inventory: the extension makes Ansible read it as YAML. */
#define PROV_INVENTORY_FILE "inventory.yml"

/* One machine as Ansible reaches it. */
struct prov_inv_host {
	const char *name;	 /* inventory host name: the machine's */
	int port;		 /* SSH port on 127.0.0.1 */
	const char *user;	 /* login user */
	const char *key_path;	 /* den's private key for it */
	const char *known_hosts; /* file holding the host key den gave it */
	const char *host;	 /* address of port: NULL is 127.0.0.1 */
};

/*
 * The inventory's YAML text for hosts and groups_json (NULL: none) in
 * *out (malloc'd). Fails on text libyaml cannot write (not UTF-8).
 */
int prov_inventory_yaml(const struct prov_inv_host *hosts, size_t n, const char *groups_json,
			char **out, struct den_err *err);

/* Writes the inventory of ef's machines to path (atomically). groups_json may be NULL. */
int prov_inventory_write(struct envfile *ef, const char *groups_json, const char *path,
			 struct den_err *err);

#endif
