/* SPDX-License-Identifier: MIT */
/*
 * The providers built into den. Each provider's issue adds its ops struct
 * here, in the order den tries them when an Envfile names none:
 *	&provider_kvm, &provider_container, &provider_qemu
 */
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>

extern const struct provider_ops provider_container;
extern const struct provider_ops provider_qemu;

const struct provider_ops *const providers[] = {
	&provider_container,
	&provider_qemu,
	NULL,
};

const struct provider_ops *provider_find(const char *name)
{
	for (size_t i = 0; providers[i] != NULL; i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

void ssh_info_free(struct ssh_info *info)
{
	free(info->host);
	free(info->user);
	free(info->key_path);
	free(info->known_hosts);
	memset(info, 0, sizeof(*info));
}
