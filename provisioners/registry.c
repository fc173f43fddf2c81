/* SPDX-License-Identifier: MIT */
/* The provisioners built into den; the provisioners issue adds them here. */
#include "provisioners/provisioner.h"

#include <stddef.h>

const struct provisioner_ops *const provisioners[] = {
	NULL,
};

const struct provisioner_ops *provisioner_find(enum prov_kind kind)
{
	for (size_t i = 0; provisioners[i] != NULL; i++)
		if (provisioners[i]->kind == kind)
			return provisioners[i];
	return NULL;
}
