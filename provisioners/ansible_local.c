/* SPDX-License-Identifier: MIT */
/*
 * The ansible_local provisioner: ansible-playbook inside the machine,
 * over its SSH session, against the machine itself (connection local).
 * With install: true a missing Ansible is installed first with the
 * machine's package manager (apt-get, dnf or apk).
 */
#include "provisioners/provisioner.h"
#include "core/cleanup.h"
#include "core/shquote.h"
#include "core/ssh.h"

#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORK "/tmp/den-ansible-local"

static const char install_script[] =
	"if ! command -v ansible-playbook >/dev/null 2>&1; then\n"
	"  echo 'installing Ansible in the machine'\n"
	"  if command -v apt-get >/dev/null 2>&1; then\n"
	"    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&\n"
	"    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
	"--no-install-recommends ansible-core\n"
	"  elif command -v dnf >/dev/null 2>&1; then $SUDO dnf install -y -q ansible-core\n"
	"  elif command -v apk >/dev/null 2>&1; then $SUDO apk add -q ansible-core\n"
	"  else echo 'no apt-get, dnf or apk here to install Ansible with' >&2; exit 127; fi\n"
	"fi\n";

static const char missing_script[] = "if ! command -v ansible-playbook >/dev/null 2>&1; then\n"
				     "  echo 'ansible-playbook is not installed in the machine; "
				     "set install: true on the step' >&2\n"
				     "  exit 127\n"
				     "fi\n";

/* What goes after "ansible-playbook": the step's options, quoted. */
static void options(FILE *f, const struct prov_ctx *ctx, const struct prov_ansible *a)
{
	cleanup_free char *limit = shell_quote(a->limit ? a->limit : ctx->machine->cfg->name);

	fprintf(f, " -i " WORK "/inventory --limit %s", limit ? limit : "all");
	if (a->extra_vars_json != NULL)
		fputs(" --extra-vars @" WORK "/extra-vars.json", f);
	const char *flags[] = { "--tags", a->tags, "--skip-tags", a->skip_tags };
	for (size_t i = 0; i < 4; i += 2) {
		cleanup_free char *q = flags[i + 1] ? shell_quote(flags[i + 1]) : NULL;
		if (q != NULL)
			fprintf(f, " %s %s", flags[i], q);
	}
	if (a->become)
		fputs(" --become", f);
	if (a->verbose > 0)
		fprintf(f, " -%.*s", (int)(a->verbose > 4 ? 4 : a->verbose), "vvvv");
	cleanup_free char *pb = shell_quote(a->playbook);
	fprintf(f, " %s\n", pb ? pb : "");
}

static char *script_for(const struct prov_ctx *ctx, const struct prov_ansible *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cleanup_free char *dir = shell_quote(a->provisioning_path ? a->provisioning_path : "~");

	if (f == NULL || dir == NULL) {
		if (f != NULL)
			fclose(f);
		free(text);
		return NULL;
	}
	fputs("set -e\n", f);
	/* install_script's $SUDO: none for a root login (an image's, maybe without sudo). */
	fprintf(f, "SUDO='%s'\n", prov_sudo(ctx));
	fputs(a->install ? install_script : missing_script, f);
	if (a->provisioning_path == NULL || strcmp(a->provisioning_path, "~") == 0) {
		fputs("cd \"$HOME\"\n", f);
	} else if (a->provisioning_path[0] != '/') {
		/* "~/x" and relative paths are in the SSH user's home. */
		const char *rel = a->provisioning_path;
		cleanup_free char *q = shell_quote(strncmp(rel, "~/", 2) == 0 ? rel + 2 : rel);
		fprintf(f, "cd \"$HOME\"/%s\n", q ? q : "");
	} else {
		fprintf(f, "cd %s\n", dir);
	}
	fprintf(f, "export ANSIBLE_%s=1 ANSIBLE_RETRY_FILES_ENABLED=False PYTHONUNBUFFERED=1\n",
		ctx->out->color ? "FORCE_COLOR" : "NOCOLOR");
	if (a->config_file != NULL) {
		cleanup_free char *cfg = shell_quote(a->config_file);
		fprintf(f, "export ANSIBLE_CONFIG=%s\n", cfg ? cfg : "");
	}
	if (a->galaxy_role_file != NULL) {
		cleanup_free char *g = shell_quote(a->galaxy_role_file);
		fprintf(f, "ansible-galaxy role install -r %s -p " WORK "/roles\n", g ? g : "");
		fputs("export ANSIBLE_ROLES_PATH=" WORK "/roles\n", f);
	}
	fputs("exec ansible-playbook", f);
	options(f, ctx, a);
	fclose(f);
	return text;
}

/* The machine alone, connection local, then the step's groups. */
static char *inventory_for(const struct prov_ctx *ctx, const struct prov_ansible *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *g = a->groups_json ? json_loads(a->groups_json, 0, NULL) : NULL;
	const char *name;
	json_t *v;

	if (f == NULL) {
		json_decref(g);
		return NULL;
	}
	fprintf(f, "%s ansible_connection=local\n", ctx->machine->cfg->name);
	json_object_foreach(g, name, v)
	{
		size_t i;
		json_t *item;
		fprintf(f, "\n[%s]\n", name);
		json_array_foreach(v, i, item) if (json_is_string(item))
			fprintf(f, "%s\n", json_string_value(item));
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			char *t = json_is_string(x) ? strdup(json_string_value(x))
						    : json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
			fprintf(f, "%s=%s\n", k, t ? t : "");
			free(t);
		}
	}
	json_decref(g);
	fclose(f);
	return text;
}

static int run(struct prov_ctx *ctx, const struct prov_step *step, struct den_err *err)
{
	const struct prov_ansible *a = &step->ansible;
	cleanup_free char *script = script_for(ctx, a), *inv = inventory_for(ctx, a);
	int status = -1;

	if (script == NULL || inv == NULL)
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	if (den_ssh_put_text(ctx->ssh, inv, strlen(inv), WORK "/inventory", 0644, err) < 0 ||
	    (a->extra_vars_json != NULL &&
	     den_ssh_put_text(ctx->ssh, a->extra_vars_json, strlen(a->extra_vars_json),
			      WORK "/extra-vars.json", 0600, err) < 0) ||
	    den_ssh_put_text(ctx->ssh, script, strlen(script), WORK "/run.sh", 0700, err) < 0)
		return den_err_wrap(err, "machine %s: step '%s'", ctx->machine->cfg->name,
				    step->name);
	ctx->out->keep_color = ctx->out->color;
	int rc = den_ssh_exec(ctx->ssh, "sh " WORK "/run.sh", prov_output_feed, ctx->out, &status,
			      err);
	ctx->out->keep_color = false;
	if (rc < 0)
		return den_err_wrap(err, "machine %s: step '%s'", ctx->machine->cfg->name,
				    step->name);
	ctx->exit_code = status;
	return status == 0 ? 0 : prov_step_failed(ctx, step, status, err);
}

const struct provisioner_ops prov_ansible_local = {
	.name = "ansible_local",
	.kind = PROV_ANSIBLE_LOCAL,
	.run = run,
};
