/* SPDX-License-Identifier: MIT */
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "providers/provider.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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

const char *cmd_machine_provider(const struct machine *m)
{
	return m->provider ? m->provider : "container";
}

const struct provider_ops *cmd_machine_ops(const struct den_machine *dm)
{
	return provider_find(dm->rec.provider ? dm->rec.provider : cmd_machine_provider(dm->cfg));
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

int cmd_index_project(const char *home, const char *root, const char *envfile, struct den_err *err)
{
	cleanup_free char *path = NULL, *lockpath = NULL, *text = NULL, *out = NULL;
	cleanup_close int lock = -1;
	struct den_err ignored;
	json_t *j = NULL, *projects, *p;
	size_t i;

	if (asprintf(&path, "%s/index.json", home) < 0 || asprintf(&lockpath, "%s/locks", home) < 0)
		return den_err_set(err, ENOMEM, "cannot update the project index");
	if (den_mkdir_p(lockpath, 0755, err) < 0)
		return -1;
	free(lockpath);
	if (asprintf(&lockpath, "%s/locks/index.lock", home) < 0)
		return den_err_set(err, ENOMEM, "cannot update the project index");
	lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return den_err_set(err, errno, "cannot lock %s", lockpath);
	if (den_read_file(path, 16 << 20, &text, NULL, &ignored) == 0)
		j = json_loads(text, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_pack("{s:[]}", "projects");
	}
	projects = json_object_get(j, "projects");
	if (!json_is_array(projects)) {
		projects = json_array();
		json_object_set_new(j, "projects", projects);
	}
	json_array_foreach(projects, i, p)
	{
		const char *r = json_string_value(json_object_get(p, "root"));
		if (r != NULL && strcmp(r, root) == 0) {
			json_decref(j);
			return 0;
		}
	}
	json_array_append_new(projects, json_pack("{s:s, s:s}", "root", root, "envfile", envfile));
	out = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (out == NULL)
		return den_err_set(err, ENOMEM, "cannot update the project index");
	return den_write_file_atomic(path, out, 0644, err);
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

int cmd_each_machine(struct den_ctx *ctx, char **names, size_t n_names, cmd_machine_fn fn,
		     void *arg, struct den_err *err)
{
	struct machine **sel = NULL;
	size_t n = 0;
	int rc = 0;

	if (cmd_select(ctx, names, n_names, false, &sel, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct den_machine dm;

		if (machine_open(ctx->root, sel[i], &dm, err) < 0) {
			rc = -1;
			break;
		}
		rc = fn(&dm, arg, err);
		machine_close(&dm);
	}
	free(sel);
	return rc;
}
