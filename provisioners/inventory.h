/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVISIONERS_INVENTORY_H
#define DEN_PROVISIONERS_INVENTORY_H

/*
 * The Ansible inventory den makes for the ansible provisioner: every
 * machine of the Envfile that exists, reached as 127.0.0.1 on its SSH
 * port with den's key, and OpenSSH checking the host key den gave it
 * against the machine's known_hosts (strictly); then the step's groups
 * ({"web": ["web1"], "web:vars": {...}, "all:children": [...]}).
 */

#include "core/envfile.h"
#include "core/err.h"

/* Writes the inventory to path (atomically). groups_json may be NULL. */
int prov_inventory_write(struct envfile *ef, const char *groups_json, const char *path,
			 struct den_err *err);

#endif
