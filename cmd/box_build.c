/* SPDX-License-Identifier: MIT */
/* `den box build RECIPE` and `den box publish DIR`: making and sharing boxes. */
#include "boxes/box.h"
#include "boxes/build.h"
#include "boxes/identity.h"
#include "boxes/publish.h"
#include "boxes/recipe.h"
#include "cmd/cmd.h"
#include "cmd/table.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/project.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cmd_usage cmd_usage_box_build = {
	.path = "box build",
	.operands = { CMD_VALUE_RECIPE },
	.opts = {
		CMD_OPT("output", 'o', CMD_VALUE_DIR, "DIR", "write the box file into DIR"),
		CMD_OPT("no-cache", 0, CMD_VALUE_NONE, NULL,
			"build even when the cache has this recipe's box"),
		CMD_OPT("add", 0, CMD_VALUE_NONE, NULL, "add the box to the store (the default)"),
		CMD_OPT("no-add", 0, CMD_VALUE_NONE, NULL, "only write the box file"),
		CMD_OPT("provider", 0, CMD_VALUE_PROVIDER, "P",
			"build the box for provider P (container, qemu or kvm)"),
	},
};

const struct cmd_usage cmd_usage_box_publish = {
	.path = "box publish",
	.operands = { CMD_VALUE_DIR },
	.opts = { CMD_OPT("base-url", 0, CMD_VALUE_WORD, "URL",
			  "the URL the folder is served at, for the catalogs' links") },
};

/* Was the box in the store at dir built from this recipe as it is now? */
static bool same_recipe(const char *dir, const char *recipe_name)
{
	cleanup_free char *hash = box_dir_meta(dir, "recipe_hash"), *meta = NULL;
	struct den_err ignored = { 0 };
	struct recipe r;

	/* No metadata, or no recipe to compare with: cannot tell, leave the store alone. */
	if (asprintf(&meta, "%s/metadata.json", dir) < 0 || !den_exists(meta) ||
	    recipe_load(recipe_name, &r, &ignored) < 0)
		return true;
	bool same = hash != NULL && strcmp(hash, r.hash) == 0;
	recipe_free(&r);
	return same;
}

static int build_one(const char *home, const struct build_opts *o, bool add, char **out,
		     struct den_err *err);

int cmd_box_build(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "no-cache", no_argument, NULL, 'N' },
		{ "add", no_argument, NULL, 'a' }, /* the default; kept for scripts that say it */
		{ "no-add", no_argument, NULL, 'n' },
		{ "provider", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *only = NULL;
	struct build_opts o = { .output = NULL };
	cleanup_free char *home = NULL, *cache = NULL, *path = NULL;
	bool add = true;
	int c;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'N':
			o.no_cache = true;
			break;
		case 'a':
			add = true;
			break;
		case 'n':
			add = false;
			break;
		case 'p':
			only = optarg;
			break;
		default:
			return den_err_usage(err, "unknown option '%s' for `den box build`",
					     argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return den_err_usage(err, "usage: den box build RECIPE [--provider container|qemu] "
					  "[--output DIR] [--no-cache] [--no-add] (recipes: "
					  "debian-11, debian-12, debian-13)");
	o.recipe = argv[optind];
	if (den_home(&home, err) < 0)
		return -1;
	const char *env = getenv("DEN_BUILD_CACHE");
	if (env != NULL && env[0] != '\0')
		cache = strdup(env);
	else if (asprintf(&cache, "%s/build-cache", home) < 0)
		cache = NULL;
	if (cache == NULL)
		return den_err_set(err, ENOMEM, "den box build");
	o.cache = cache;
	/* libvirt is the box's provider name for the qemu output, which kvm boots too. */
	if (only != NULL && (strcmp(only, "libvirt") == 0 || strcmp(only, "kvm") == 0))
		only = "qemu";
	if (only != NULL && strcmp(only, "container") != 0 && strcmp(only, "qemu") != 0)
		return den_err_usage(err, "--provider must be container, qemu or kvm, not '%s'",
				     only);
	/* Not added and no folder given: the file goes here, as before. */
	if (!add && o.output == NULL)
		o.output = ".";
	struct recipe r;
	if (recipe_load(o.recipe, &r, err) < 0)
		return -1;
	const char *kinds[2];
	size_t n_kinds = 0;
	if (only != NULL)
		kinds[n_kinds++] = only;
	else {
		if (r.out_container)
			kinds[n_kinds++] = "container";
		if (r.out_qemu)
			kinds[n_kinds++] = "qemu";
	}
	recipe_free(&r);
	json_t *paths = json_array();
	for (size_t i = 0; i < n_kinds; i++) {
		free(path);
		path = NULL;
		o.output_kind = kinds[i];
		if (build_one(home, &o, add, &path, err) < 0) {
			json_decref(paths);
			return -1;
		}
		json_array_append_new(paths, json_string(path));
		if (!ctx->json)
			printf("%s\n", path);
	}
	if (ctx->json)
		return cmd_print_json(
			n_kinds == 1 ? json_pack("{s:s, s:o}", "path", path, "paths", paths)
				     : json_pack("{s:o}", "paths", paths),
			err);
	json_decref(paths);
	return 0;
}

/* One output of the recipe built (or taken from the cache), and added unless --no-add. */
static int build_one(const char *home, const struct build_opts *o, bool add, char **out,
		     struct den_err *err)
{
	cleanup_free char *path = NULL;

	if (box_build(home, o, &path, err) < 0)
		return -1;
	if (add) {
		struct box_add_opts a = { .source = path };
		struct store_entry e;
		int r = box_add(home, &a, &e, err);
		if (r < 0)
			return -1;
		/* The same name and version from another recipe (or den's build steps): this one wins. */
		if (r == 1 && !same_recipe(e.dir, o->recipe)) {
			den_info("%s %s in the store was built from another recipe; replacing it",
				 e.name, e.version);
			store_entry_free(&e);
			a.force = true;
			if ((r = box_add(home, &a, &e, err)) < 0)
				return -1;
		}
		den_info("%s %s (%s, %s) %s", e.name, e.version, e.provider, e.arch,
			 r == 0 ? "added" : "is already added");
		store_entry_free(&e);
	} else {
		den_info("not added (--no-add); `den up` uses it after `den box add %s`", path);
	}
	*out = steal_pointer(&path);
	return 0;
}

int cmd_box_publish(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "base-url", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = NULL;
	struct published *p = NULL;
	size_t n = 0;
	struct table t;
	int c;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'b')
			return den_err_usage(err, "unknown option '%s' for `den box publish`",
					     argv[optind - 1]);
		base = optarg;
	}
	if (optind + 1 != argc)
		return den_err_usage(err, "usage: den box publish DIR [--base-url URL]");
	if (box_publish(argv[optind], base, &p, &n, err) < 0) {
		published_free(p, n);
		return -1;
	}
	if (ctx->json) {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < n; i++)
			json_array_append_new(
				arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", p[i].name,
					       "version", p[i].version, "provider", p[i].provider,
					       "architecture", p[i].arch, "file", p[i].file));
		published_free(p, n);
		return cmd_print_json(arr, err);
	}
	table_init(&t, 5);
	table_add(&t, (const char *const[]){ "BOX", "VERSION", "PROVIDER", "ARCH", "FILE" });
	for (size_t i = 0; i < n; i++)
		table_add(&t, (const char *const[]){ p[i].name, p[i].version, p[i].provider,
						     p[i].arch, p[i].file });
	table_print(&t, stdout, ctx->color);
	table_free(&t);
	if (n > 0 && den_log_level() >= DEN_LOG_INFO)
		printf("\nServe %s with any web server and point DEN_BOX_SERVER at it.\n",
		       argv[optind]);
	published_free(p, n);
	return 0;
}
