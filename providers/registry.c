/* SPDX-License-Identifier: MIT */
/*
 * The providers built into den. A machine whose Envfile names none runs
 * under kvm where /dev/kvm can run den's VMM and the store holds a VM
 * build of its box, else in a container (cmd_machine_provider).
 */
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct provider_ops provider_container;
extern const struct provider_ops provider_qemu;
extern const struct provider_ops provider_kvm;
extern const struct provider_ops provider_lxd;

const struct provider_ops *const providers[] = {
	&provider_container, &provider_qemu, &provider_kvm, &provider_lxd, NULL,
};

const struct provider_ops *provider_find(const char *name)
{
	for (size_t i = 0; providers[i] != NULL; i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

char *provider_path(const struct den_machine *dm, const char *name)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s", dm->dir, name) < 0 ? NULL : p;
}

void ssh_info_free(struct ssh_info *info)
{
	free(info->host);
	free(info->user);
	free(info->key_path);
	free(info->known_hosts);
	memset(info, 0, sizeof(*info));
}
