/* SPDX-License-Identifier: MIT */
/*
 * The ansible provisioner: the real ansible-playbook on the host, with
 * the inventory den makes (ansible/ in the project's state folder) or the user's, limited
 * to the machines of this run, from the project's folder. Roles from
 * galaxy_role_file go to its roles/ first.
 */
#include "provisioners/provisioner.h"
#include "core/cleanup.h"
#include "core/project.h"
#include "core/fsutil.h"
#include "provisioners/host_cmd.h"
#include "provisioners/inventory.h"

#include <errno.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGV 32

static int check(const struct prov_step *step, struct den_err *err)
{
	(void)step;
	if (!den_on_path("ansible-playbook"))
		return den_err_set(err, 0,
				   "ansible-playbook is not installed on this host (apt-get "
				   "install ansible-core, or pip install ansible-core)");
	return 0;
}

/* Step names become file names: anything but [A-Za-z0-9._-] becomes '_'. */
static char *safe_name(char *s)
{
	for (char *c = s; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
			*c = '_';
	return s;
}

/* "a,b,c" for --limit: the step's own limit, else the machines of this run. */
static char *limit_of(const struct prov_ctx *ctx, const struct prov_ansible *a)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (a->limit != NULL)
		return strdup(a->limit);
	f = open_memstream(&out, &len);
	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < ctx->n_limit; i++)
		fprintf(f, "%s%s", i ? "," : "", ctx->limit[i]);
	fclose(f);
	return out;
}

static int galaxy(struct prov_ctx *ctx, const struct prov_step *step, const char *roles,
		  struct den_err *err)
{
	char *argv[] = { "ansible-galaxy",
			 "role",
			 "install",
			 "-r",
			 (char *)step->ansible.galaxy_role_file,
			 "-p",
			 (char *)roles,
			 NULL };
	int status = -1;

	if (prov_run_host(argv, NULL, ctx->ef->root, ctx->out, &status, err) < 0)
		return -1;
	return status == 0 ? 0 : prov_step_failed(ctx, step, status, err);
}

static int run(struct prov_ctx *ctx, const struct prov_step *step, struct den_err *err)
{
	const struct prov_ansible *a = &step->ansible;
	cleanup_free char *dir = NULL, *inv = NULL, *limit = limit_of(ctx, a), *vars = NULL,
			  *vars_arg = NULL, *roles = NULL, *roles_env = NULL, *cfg_env = NULL;
	char *argv[MAX_ARGV], *env[8], verbose[8] = "-";
	size_t n = 0, ne = 0;
	int status = -1;

	cleanup_free char *state = NULL;
	if (project_state_dir(ctx->ef->root, &state, err) < 0)
		return -1;
	if (limit == NULL || asprintf(&dir, "%s/ansible", state) < 0 ||
	    asprintf(&roles, "%s/roles", dir) < 0)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	if (den_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (a->inventory_path == NULL) {
		if (asprintf(&inv, "%s/" PROV_INVENTORY_FILE, dir) < 0)
			return den_err_set(err, ENOMEM, "step '%s'", step->name);
		if (prov_inventory_write(ctx->ef, a->groups_json, inv, err) < 0)
			return -1;
	}
	if (a->galaxy_role_file != NULL && galaxy(ctx, step, roles, err) < 0)
		return -1;
	argv[n++] = "ansible-playbook";
	argv[n++] = "-i";
	argv[n++] = (char *)(a->inventory_path ? a->inventory_path : inv);
	argv[n++] = "--limit";
	argv[n++] = limit;
	if (a->extra_vars_json != NULL) {
		cleanup_free char *file = strdup(step->name);
		if (file == NULL ||
		    asprintf(&vars, "%s/extra-vars-%s.json", dir, safe_name(file)) < 0 ||
		    den_write_file_atomic(vars, a->extra_vars_json, 0600, err) < 0 ||
		    asprintf(&vars_arg, "@%s", vars) < 0)
			return den_err_is_set(err) ? -1 : den_err_set(err, ENOMEM, "step");
		argv[n++] = "--extra-vars";
		argv[n++] = vars_arg;
	}
	if (a->tags != NULL) {
		argv[n++] = "--tags";
		argv[n++] = (char *)a->tags;
	}
	if (a->skip_tags != NULL) {
		argv[n++] = "--skip-tags";
		argv[n++] = (char *)a->skip_tags;
	}
	if (a->become)
		argv[n++] = "--become";
	for (unsigned v = 0; v < a->verbose && v < 4; v++)
		verbose[v + 1] = 'v', verbose[v + 2] = '\0';
	if (a->verbose > 0)
		argv[n++] = verbose;
	argv[n++] = (char *)a->playbook_abs;
	argv[n] = NULL;
	env[ne++] = ctx->out->color ? "ANSIBLE_FORCE_COLOR=1" : "ANSIBLE_NOCOLOR=1";
	env[ne++] = "ANSIBLE_HOST_KEY_CHECKING=True";
	env[ne++] = "ANSIBLE_RETRY_FILES_ENABLED=False";
	env[ne++] = "PYTHONUNBUFFERED=1";
	if (a->galaxy_role_file != NULL &&
	    asprintf(&roles_env, "ANSIBLE_ROLES_PATH=%s", roles) >= 0)
		env[ne++] = roles_env;
	if (a->config_file != NULL && asprintf(&cfg_env, "ANSIBLE_CONFIG=%s", a->config_file) >= 0)
		env[ne++] = cfg_env;
	env[ne] = NULL;
	ctx->out->keep_color = ctx->out->color;
	int rc = prov_run_host(argv, env, ctx->ef->root, ctx->out, &status, err);
	ctx->out->keep_color = false;
	if (rc < 0)
		return -1;
	ctx->exit_code = status;
	return status == 0 ? 0 : prov_step_failed(ctx, step, status, err);
}

const struct provisioner_ops prov_ansible = {
	.name = "ansible",
	.kind = PROV_ANSIBLE,
	.check = check,
	.run = run,
};
