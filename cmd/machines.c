/* SPDX-License-Identifier: MIT */
#include "cmd/machines.h"
#include "boxes/identity.h"
#include "boxes/store.h"
#include "core/project.h"
#include "providers/host_kvm.h"
#include "providers/provider.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cmd_select(struct den_ctx *ctx, char **names, size_t n_names, bool autostart_only,
	       struct machine ***out, size_t *n, struct den_err *err)
{
	if (envfile_select(ctx->ef, names, n_names, out, n, err) < 0)
		return -1;
	if (autostart_only && n_names == 0) {
		size_t k = 0;
		for (size_t i = 0; i < *n; i++)
			if ((*out)[i]->autostart)
				(*out)[k++] = (*out)[i];
		*n = k;
	}
	return 0;
}

/* Does the store hold a VM build (any version) of box? Read only: never the network. */
static bool vm_box_stored(const char *box)
{
	struct den_err ignored = { 0 };
	struct store_entry *e = NULL;
	char *home = NULL;
	size_t n = 0;
	bool found = false;

	if (box == NULL || den_home(&home, &ignored) < 0)
		return false;
	if (store_list(home, &e, &n, &ignored) == 0)
		for (size_t i = 0; i < n; i++)
			found |= strcmp(e[i].name, box) == 0 &&
				 strcmp(e[i].provider, box_provider_of("kvm")) == 0;
	store_list_free(e, n);
	free(home);
	return found;
}

const char *cmd_machine_provider(const struct machine *cfg)
{
	char why[512];

	if (cfg->provider != NULL)
		return cfg->provider;
	return kvm_host_usable(why, sizeof(why)) && vm_box_stored(cfg->box) ? "kvm" : "container";
}

const char *cmd_machine_provider_of(const struct den_machine *dm)
{
	return dm->exists && dm->rec.provider != NULL ? dm->rec.provider
						      : cmd_machine_provider(dm->cfg);
}

const struct provider_ops *cmd_machine_ops(const struct den_machine *dm)
{
	return provider_find(cmd_machine_provider_of(dm));
}

int cmd_one_machine(struct den_ctx *ctx, const char *name, const struct machine **out,
		    struct den_err *err)
{
	struct envfile *ef = ctx->ef;

	if (name != NULL) {
		*out = envfile_machine(ef, name);
		if (*out == NULL) {
			struct machine **sel = NULL;
			size_t n = 0;
			if (envfile_select(ef, (char *[]){ (char *)name }, 1, &sel, &n, err) < 0)
				return -1;
			*out = n == 1 ? sel[0] : NULL;
			free(sel);
			if (*out == NULL)
				return den_err_usage(err, "'%s' names %zu machines; name one", name,
						     n);
		}
		return 0;
	}
	for (size_t i = 0; i < ef->n_machines; i++)
		if (ef->machines[i].primary) {
			*out = &ef->machines[i];
			return 0;
		}
	if (ef->n_machines == 1) {
		*out = &ef->machines[0];
		return 0;
	}
	return den_err_usage(err, "this project has %zu machines and none is primary; name one",
			     ef->n_machines);
}

/* The machine's provider, or an error saying it is not created. */
const struct provider_ops *cmd_created_ops(struct den_machine *dm, struct den_err *err)
{
	const struct provider_ops *ops = cmd_machine_ops(dm);

	if (!dm->exists) {
		den_err_set(err, 0, "%s is not created: `den up %s` first", dm->cfg->name,
			    dm->cfg->name);
		return NULL;
	}
	if (ops == NULL)
		den_err_set(err, 0, "machine %s was made by provider %s, which this den lacks",
			    dm->cfg->name, dm->rec.provider ? dm->rec.provider : "?");
	return ops;
}

int cmd_unsupported(const struct provider_ops *ops, const char *what, struct den_err *err)
{
	return den_err_set(err, 0, "the %s provider cannot %s (the qemu provider can)", ops->name,
			   what);
}

struct each_job {
	struct den_ctx *ctx;
	struct machine **sel;
	cmd_machine_fn *fn;
	void *arg;
};

static int each_one(void *arg, size_t i, struct den_err *err)
{
	struct each_job *j = arg;
	struct den_machine dm;

	if (machine_open(j->ctx->root, j->sel[i], &dm, err) < 0)
		return -1;
	int rc = j->fn(&dm, j->arg, err);
	machine_close(&dm);
	return rc;
}

int cmd_run_machines(struct den_ctx *ctx, struct machine **sel, size_t n, parallel_job_fn *job,
		     void *arg, bool *ok, struct den_err *err)
{
	const char **names = calloc(n + 1, sizeof(*names));

	if (names == NULL)
		return den_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		names[i] = sel[i]->name;
	int rc = parallel_run(&ctx->parallel, names, n, job, arg, ok, err);
	free(names);
	return rc;
}

int cmd_each_machine(struct den_ctx *ctx, char **names, size_t n_names, cmd_machine_fn *fn,
		     void *arg, struct den_err *err)
{
	struct machine **sel = NULL;
	size_t n = 0;

	if (cmd_select(ctx, names, n_names, false, &sel, &n, err) < 0)
		return -1;
	struct each_job j = { ctx, sel, fn, arg };
	int rc = cmd_run_machines(ctx, sel, n, each_one, &j, NULL, err);
	free(sel);
	return rc;
}
