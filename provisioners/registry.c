/* SPDX-License-Identifier: MIT */
/* The provisioners built into den. */
#include "provisioners/provisioner.h"

#include <string.h>

#include <errno.h>
#include <stdio.h>

extern const struct provisioner_ops prov_shell, prov_file, prov_ansible, prov_ansible_local;

const struct provisioner_ops *const provisioners[] = {
	&prov_shell, &prov_file, &prov_ansible, &prov_ansible_local, NULL,
};

const struct provisioner_ops *provisioner_find(enum prov_kind kind)
{
	for (size_t i = 0; provisioners[i] != NULL; i++)
		if (provisioners[i]->kind == kind)
			return provisioners[i];
	return NULL;
}

const char *prov_sudo(const struct prov_ctx *ctx)
{
	const char *user = ctx->machine->rec.ssh_user;

	return user != NULL && strcmp(user, "root") == 0 ? "" : "sudo -n ";
}

int prov_step_failed(struct prov_ctx *ctx, const struct prov_step *step, int exit_code,
		     struct den_err *err)
{
	char tail[2048];

	prov_output_flush(ctx->out);
	prov_output_tail(ctx->out, tail, sizeof(tail));
	ctx->exit_code = exit_code;
	return den_err_set(err, 0, "machine %s: step '%s' (%s) failed with exit code %d%s%s",
			   ctx->machine->cfg->name, step->name, envfile_prov_kind_name(step->kind),
			   exit_code, tail[0] ? "; its last lines:\n" : " and printed nothing",
			   tail);
}
