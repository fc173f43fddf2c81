/* SPDX-License-Identifier: MIT */
/*
 * The box sub-commands that look at a project's Envfile and Envfile.lock:
 * `den box outdated`, `den box update`, `den box prune`, and recording a
 * `den box add` in the lock.
 */
#include "boxes/box.h"
#include "boxes/catalog.h"
#include "boxes/image.h"
#include "boxes/download.h"
#include "boxes/lock.h"
#include "boxes/resolve.h"
#include "boxes/identity.h"
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "cmd/table.h"
#include "core/cleanup.h"
#include "core/lock.h"
#include "core/project.h"
#include "core/version.h"
#include "providers/kvm/warm.h"
#include "registry/box.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cmd_usage cmd_usage_box_update = {
	.path = "box update",
};

const struct cmd_usage cmd_usage_box_outdated = {
	.path = "box outdated",
	.opts = { CMD_OPT("global", 0, CMD_VALUE_NONE, NULL,
			  "every box in the store, not only the project's") },
};

const struct cmd_usage cmd_usage_box_prune = {
	.path = "box prune",
	.opts = { CMD_OPT("dry-run", 0, CMD_VALUE_NONE, NULL,
			  "say what would be removed, remove nothing") },
};

/* The box provider a machine needs: its provider's (cmd_machine_provider's choice when unset). */
static const char *box_provider(const struct machine *cfg)
{
	return box_provider_of(cmd_machine_provider(cfg));
}

static const char *server_for(const struct machine *cfg)
{
	return cfg->box_url ? cfg->box_url : getenv("DEN_BOX_SERVER");
}

/* The distinct boxes the Envfile's machines want. *out is malloc'd. */
static size_t project_wants(const struct envfile *ef, const char *root, struct box_want **out)
{
	struct box_want *w = calloc(ef->n_machines + 1, sizeof(*w));
	size_t n = 0;

	for (size_t i = 0; w != NULL && i < ef->n_machines; i++) {
		const struct machine *cfg = &ef->machines[i];
		bool seen = false;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(w[j].name, cfg->box) == 0 &&
			       strcmp(w[j].provider, box_provider(cfg)) == 0;
		if (!seen)
			w[n++] = (struct box_want){ cfg->box, cfg->box_version, box_provider(cfg),
						    server_for(cfg), root };
	}
	*out = w;
	return n;
}

/* The project's Envfile read, its lock taken, its Envfile.lock read. */
static int open_project(struct den_ctx *ctx, const char *what, char **home, struct boxlock *lock,
			struct den_err *err)
{
	if (den_home(home, err) < 0 || cmd_load_envfile(ctx, err) < 0 ||
	    project_lock(ctx->root, what, &ctx->lock_fd, err) < 0)
		return -1;
	return boxlock_read(ctx->envfile_path, lock, err);
}

int box_record_in_project(struct den_ctx *ctx, const struct store_entry *e, struct den_err *err)
{
	struct boxlock lock;
	struct den_version v;
	struct den_constraints c;
	const char *why;
	int rc = 0;

	/* Only inside a project whose Envfile reads cleanly; elsewhere there is no lock. */
	if (cmd_load_envfile(ctx, err) < 0) {
		den_err_clear(err);
		return 0;
	}
	if (project_lock(ctx->root, "box add", &ctx->lock_fd, err) < 0 ||
	    boxlock_read(ctx->envfile_path, &lock, err) < 0)
		return -1;
	for (size_t i = 0; i < ctx->ef->n_machines && rc == 0; i++) {
		const struct machine *cfg = &ctx->ef->machines[i];
		if (strcmp(cfg->box, e->name) != 0 || strcmp(box_provider(cfg), e->provider) != 0)
			continue;
		/* Resolved once: moving a lock is `den box update`'s job. */
		if (boxlock_find(&lock, e->name, e->provider, e->arch) != NULL)
			continue;
		if (cfg->box_version != NULL &&
		    (den_constraints_parse(cfg->box_version, &c, &why) < 0 ||
		     den_version_parse(e->version, &v, &why) < 0 || !den_constraints_match(&c, &v)))
			continue;
		struct lock_entry le = { e->name,	   (char *)cfg->box_version,
					 e->version,	   e->provider,
					 e->arch,	   e->url,
					 e->checksum_type, e->checksum };
		rc = boxlock_set(&lock, &le, err);
	}
	if (rc == 0 && lock.changed) {
		rc = boxlock_write(&lock, err);
		if (rc == 0)
			den_info("recorded %s %s in %s", e->name, e->version, lock.path);
	}
	boxlock_free(&lock);
	return rc;
}

/*
 * Every box the Envfile needs, resolved (update: to the newest allowed,
 * ignoring the lock) and written back to Envfile.lock; says what each is.
 */
static int resolve_project(struct den_ctx *ctx, const char *what, bool update, struct den_err *err)
{
	struct box_want *w = NULL;
	struct boxlock lock;
	struct resolve_opts o = { .update = update, .progress = cmd_progress() };
	cleanup_free char *home = NULL;
	int rc = 0;

	if (open_project(ctx, what, &home, &lock, err) < 0)
		return -1;
	o.home = home;
	size_t n = project_wants(ctx->ef, ctx->root, &w);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct lock_entry *le =
			boxlock_find(&lock, w[i].name, w[i].provider, box_host_arch());
		cleanup_free char *before = le ? strdup(le->version) : NULL;
		struct store_entry e;

		rc = box_resolve(&o, &w[i], &lock, &e, err);
		if (rc < 0)
			break;
		if (!update)
			den_info("%s %s (%s, %s) is ready", e.name, e.version, e.provider, e.arch);
		else if (before == NULL || strcmp(before, e.version) != 0)
			den_info("%s (%s): %s -> %s", e.name, e.provider, before ? before : "none",
				 e.version);
		else
			den_info("%s (%s): %s is the newest allowed", e.name, e.provider,
				 e.version);
		store_entry_free(&e);
	}
	if (rc == 0)
		rc = boxlock_write(&lock, err);
	boxlock_free(&lock);
	free(w);
	return rc;
}

int cmd_box_update(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	if (argc > 1)
		return den_err_usage(err,
				     "`den box update` takes no arguments (got '%s'); it "
				     "updates the boxes of the Envfile",
				     argv[1]);
	return resolve_project(ctx, "box update", true, err);
}

/* Newest version in the catalog allowed by constraint (NULL: any), or "?" when unknown. */
/* version (malloc'd, taken) when constraint allows it, else "none". */
static char *image_allowed(char *version, const char *constraint)
{
	struct den_constraints c = { 0 };
	struct den_version v;
	const char *why;

	if (constraint == NULL ||
	    (den_constraints_parse(constraint, &c, &why) == 0 &&
	     den_version_parse(version, &v, &why) == 0 && den_constraints_match(&c, &v)))
		return version;
	free(version);
	return strdup("none");
}

static char *latest(const char *server, const char *base_dir, const char *name,
		    const char *constraint, const char *provider)
{
	cleanup_free char *url = NULL, *text = NULL;
	struct catalog c;
	const struct catalog_version *v;
	const struct catalog_provider *p;
	struct den_err err = { 0 };
	size_t len;
	char *out = NULL;

	/* A registry's box: its newest version tag, or the version its tag holds now. */
	if (oci_box_is_ref(server)) {
		char *peeked =
			oci_box_peek_version(server + strlen(OCI_BOX_SCHEME), constraint, &err);
		return peeked ? image_allowed(peeked, constraint) : strdup("?");
	}
	/* A registry's image: the version its tag gives the box ("0" if not a version). */
	if (docker_image_is_ref(server))
		return image_allowed(strdup(image_tag_version(server)), constraint);
	/* An image's box: the version the image gives it now (its tag), if allowed. */
	char *image = server ? image_peek_version(server, base_dir) : NULL;
	if (image != NULL)
		return image_allowed(image, constraint);
	if (server == NULL || asprintf(&url, "%s/%s", server, name) < 0)
		return strdup("?");
	if (download_text(url, 16u << 20, &text, &len, &err) < 0 ||
	    catalog_parse(text, len, url, &c, &err) < 0)
		return strdup("?");
	if (catalog_select(&c, constraint, provider, NULL, &v, &p, &err) == 0)
		out = strdup(v->version);
	catalog_free(&c);
	return out ? out : strdup("none");
}

int cmd_box_outdated(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	cleanup_free char *home = NULL;
	struct box_want *w = NULL;
	struct boxlock lock = { 0 };
	size_t n = 0;
	struct table t;
	json_t *arr = ctx->json ? json_array() : NULL;
	bool global = argc > 1 && strcmp(argv[1], "--global") == 0;

	if (argc > (global ? 2 : 1))
		return den_err_usage(err, "usage: den box outdated [--global]");
	if (den_home(&home, err) < 0)
		return -1;
	struct store_entry *list = NULL;
	size_t n_list = 0;
	if (global) {
		if (store_list(home, &list, &n_list, err) < 0)
			return -1;
		w = calloc(n_list + 1, sizeof(*w));
		for (size_t i = 0; w != NULL && i < n_list; i++) {
			if (n > 0 && strcmp(w[n - 1].name, list[i].name) == 0 &&
			    strcmp(w[n - 1].provider, list[i].provider) == 0)
				continue;
			w[n++] = (struct box_want){ list[i].name, NULL, list[i].provider,
						    getenv("DEN_BOX_SERVER"), NULL };
		}
	} else {
		if (cmd_load_envfile(ctx, err) < 0 ||
		    boxlock_read(ctx->envfile_path, &lock, err) < 0)
			return -1;
		n = project_wants(ctx->ef, ctx->root, &w);
	}
	table_init(&t, 5);
	table_add(&t, (const char *const[]){ "BOX", "PROVIDER", "CURRENT", "ALLOWED", "LATEST" });
	for (size_t i = 0; w != NULL && i < n; i++) {
		struct resolve_opts o = { .home = home, .offline = true };
		struct store_entry e;
		struct den_err ignored = { 0 };
		cleanup_free char *allowed = latest(w[i].server, w[i].base_dir, w[i].name,
						    w[i].constraint, w[i].provider);
		cleanup_free char *newest =
			latest(w[i].server, w[i].base_dir, w[i].name, NULL, w[i].provider);
		const char *current = "none";
		char *cur = NULL;

		if (box_resolve(&o, &w[i], global ? NULL : &lock, &e, &ignored) == 0) {
			cur = strdup(e.version);
			current = cur;
			store_entry_free(&e);
		}
		if (arr != NULL)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name",
							     w[i].name, "provider", w[i].provider,
							     "current", current, "allowed", allowed,
							     "latest", newest));
		else
			table_add(&t, (const char *const[]){ w[i].name, w[i].provider,
							     table_addf(&t, "%s", current),
							     table_addf(&t, "%s", allowed),
							     table_addf(&t, "%s", newest) });
		free(cur);
	}
	if (arr == NULL)
		table_print(&t, stdout, ctx->color);
	table_free(&t);
	store_list_free(list, n_list);
	boxlock_free(&lock);
	free(w);
	return arr != NULL ? cmd_print_json(arr, err) : 0;
}

/*
 * Removes the warm images of a VM box kept that this den cannot use
 * (another den's, or another CPU's: docs/vmm.md, "Warm images"); counts
 * them in *removed, and the VM boxes seen in *vm_boxes. A box removed
 * takes its warm images with its folder.
 */
static int prune_warm(const struct store_entry *e, bool dry, size_t *removed, size_t *vm_boxes,
		      struct den_err *err)
{
	struct warm_info *w = NULL;
	size_t n = 0, k = 0;

	if (strcmp(e->provider, box_provider_of("kvm")) != 0)
		return 0;
	(*vm_boxes)++;
	if (!dry) {
		if (warm_remove(e->dir, true, &k, err) < 0)
			return den_err_wrap(err, "box %s %s", e->name, e->version);
		*removed += k;
		return 0;
	}
	if (warm_list(e->dir, &w, &n, err) < 0)
		return den_err_wrap(err, "box %s %s", e->name, e->version);
	for (size_t i = 0; i < n; i++)
		if (!w[i].usable) {
			printf("would remove the warm image %s of %s %s (%s, %s)\n", w[i].name,
			       e->name, e->version, e->provider, e->arch);
			(*removed)++;
		}
	warm_list_free(w, n);
	return 0;
}

int cmd_box_prune(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	cleanup_free char *home = NULL;
	struct store_entry *list = NULL;
	struct boxlock lock = { 0 };
	size_t n = 0, warm = 0, vm_boxes = 0;
	bool dry = argc > 1 && strcmp(argv[1], "--dry-run") == 0;
	int rc = 0;

	if (argc > (dry ? 2 : 1))
		return den_err_usage(err, "usage: den box prune [--dry-run]");
	if (den_home(&home, err) < 0 || store_list(home, &list, &n, err) < 0)
		return -1;
	/* Inside a project, what its Envfile.lock names stays. */
	if (cmd_load_envfile(ctx, err) < 0 || boxlock_read(ctx->envfile_path, &lock, err) < 0)
		den_err_clear(err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_entry *e = &list[i];
		bool newest = true;
		/* list is newest first per name: an earlier twin means e is older. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(list[j].name, e->name) == 0 &&
			    strcmp(list[j].provider, e->provider) == 0 &&
			    strcmp(list[j].arch, e->arch) == 0)
				newest = false;
		struct lock_entry *le = boxlock_find(&lock, e->name, e->provider, e->arch);
		if (newest || (le != NULL && strcmp(le->version, e->version) == 0)) {
			rc = prune_warm(e, dry, &warm, &vm_boxes, err);
			continue;
		}
		if (dry) {
			printf("would remove %s %s (%s, %s)\n", e->name, e->version, e->provider,
			       e->arch);
			continue;
		}
		rc = store_remove(home, e, err);
		if (rc == 0)
			den_info("removed %s %s (%s, %s)", e->name, e->version, e->provider,
				 e->arch);
	}
	if (rc == 0 && !dry && vm_boxes > 0)
		den_info("removed %zu warm image%s that this den cannot use", warm,
			 warm == 1 ? "" : "s");
	store_list_free(list, n);
	boxlock_free(&lock);
	return rc;
}

int box_add_project(struct den_ctx *ctx, struct den_err *err)
{
	return resolve_project(ctx, "box add", false, err);
}
