/* SPDX-License-Identifier: MIT */
/*
 * `den box SUBCOMMAND`: the box store. Sub-commands have their own table,
 * as `den` has for commands.
 */
#include "boxes/box.h"
#include "boxes/users.h"
#include "boxes/identity.h"
#include "cmd/cmd.h"
#include "cmd/table.h"
#include "core/cleanup.h"
#include "core/project.h"
#include "core/suggest.h"
#include "providers/kvm/warm.h"
#include "registry/box.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cmd_usage cmd_usage_box = {
	.path = "box",
	.subcommands = "add list remove outdated update prune build publish package push warm",
};

const struct cmd_usage cmd_usage_box_add = {
	.path = "box add",
	.operands = { CMD_VALUE_FILE },
	.opts = {
		CMD_OPT("box-version", 0, CMD_VALUE_WORD, "C",
			"the newest version matching constraint C (\"~> 1.2\", \">= 1, < 2\")"),
		CMD_OPT("provider", 0, CMD_VALUE_PROVIDER, "P", "the box made for provider P"),
		CMD_OPT("architecture", 0, CMD_VALUE_WORD, "A",
			"the box for architecture A (default amd64)"),
		CMD_OPT("checksum", 0, CMD_VALUE_WORD, "X", "the box file's expected checksum"),
		CMD_OPT("checksum-type", 0, CMD_VALUE_WORD, "T",
			"what --checksum is: sha256, sha512 or sha1"),
		CMD_OPT("name", 0, CMD_VALUE_WORD, "NAME",
			"the box's name (for a box file den did not build)"),
		CMD_OPT("force", 'f', CMD_VALUE_NONE, NULL,
			"replace the version in the store if it is there"),
	},
};

const struct cmd_usage cmd_usage_box_list = {
	.path = "box list",
};

const struct cmd_usage cmd_usage_box_remove = {
	.path = "box remove",
	.operands = { CMD_VALUE_BOX },
	.opts = {
		CMD_OPT("box-version", 0, CMD_VALUE_WORD, "V", "only version V"),
		CMD_OPT("provider", 0, CMD_VALUE_PROVIDER, "P", "only the box for provider P"),
		CMD_OPT("architecture", 0, CMD_VALUE_WORD, "A", "only the box for architecture A"),
		CMD_OPT("all", 0, CMD_VALUE_NONE, NULL,
			"every version, provider and architecture that matches"),
		CMD_OPT("force", 'f', CMD_VALUE_NONE, NULL,
			"remove it even when a machine still uses it"),
	},
};

static int box_add_cmd(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "box-version", required_argument, NULL, 'V' },
		{ "provider", required_argument, NULL, 'p' },
		{ "architecture", required_argument, NULL, 'a' },
		{ "checksum", required_argument, NULL, 'c' },
		{ "checksum-type", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct box_add_opts o = { .server = getenv("DEN_BOX_SERVER"), .progress = cmd_progress() };
	cleanup_free char *home = NULL;
	struct store_entry e;
	int c, r;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			o.version = optarg;
			break;
		case 'p':
			o.provider = box_provider_of(optarg);
			break;
		case 'a':
			o.arch = optarg;
			break;
		case 'c':
			o.checksum = optarg;
			break;
		case 't':
			o.checksum_type = optarg;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'f':
			o.force = true;
			break;
		default:
			return den_err_usage(err,
					     "unknown option '%s' for `den box add`; see `den "
					     "help box`",
					     argv[optind - 1]);
		}
	}
	if (optind == argc)
		return box_add_project(ctx, err);
	if (optind + 1 != argc)
		return den_err_usage(err, "usage: den box add NAME|URL|FILE [--box-version C] "
					  "[--provider P] [--name NAME] ...");
	o.source = argv[optind];
	if (den_home(&home, err) < 0)
		return -1;
	/* Inside a project, a machine's box_url for this box is its server. */
	if (cmd_load_envfile(ctx, err) == 0) {
		for (size_t i = 0; i < ctx->ef->n_machines; i++)
			if (strcmp(ctx->ef->machines[i].box, o.source) == 0 &&
			    ctx->ef->machines[i].box_url != NULL) {
				o.server = ctx->ef->machines[i].box_url;
				o.base_dir = ctx->root;
			}
	}
	den_err_clear(err);
	r = box_add(home, &o, &e, err);
	if (r < 0)
		return -1;
	if (box_record_in_project(ctx, &e, err) < 0) {
		store_entry_free(&e);
		return -1;
	}
	if (ctx->json) {
		r = cmd_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name", e.name,
					     "version", e.version, "provider", e.provider,
					     "architecture", e.arch, "path", e.dir, "added",
					     r == 0),
				   err);
	} else {
		den_info("%s %s (%s, %s) %s", e.name, e.version, e.provider, e.arch,
			 r == 0 ? "added" : "is already added (use --force to replace it)");
		r = 0;
	}
	store_entry_free(&e);
	return r;
}

/* The warm images of a VM box (docs/vmm.md, "Warm images"); other boxes have none. */
static int box_warm_images(const struct store_entry *e, struct warm_info **w, size_t *n,
			   struct den_err *err)
{
	*w = NULL;
	*n = 0;
	if (strcmp(e->provider, box_provider_of("kvm")) != 0)
		return 0;
	return warm_list(e->dir, w, n, err);
}

static json_t *warm_json(const struct warm_info *w, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:i, s:I, s:I, s:I, s:b, s:I}", "name",
						     w[i].name, "cpus", (int)w[i].cpus, "memory",
						     (json_int_t)w[i].memory, "disk_size",
						     (json_int_t)w[i].disk_size, "folders",
						     (json_int_t)w[i].shares, "usable", w[i].usable,
						     "bytes", (json_int_t)w[i].bytes));
	return arr;
}

/* WARM in the table: "2 (1 usable)", or "-" for none. */
static const char *warm_cell(struct table *t, const struct warm_info *w, size_t n)
{
	size_t usable = 0;

	for (size_t i = 0; i < n; i++)
		usable += w[i].usable;
	return n == 0 ? "-" : table_addf(t, "%zu (%zu usable)", n, usable);
}

/*
 * FROM in the table: where the box came from, short: a server's host, a
 * file's name, an image's transport and file ("docker-archive app.tar"), a
 * registry's reference with the start of its digest.
 */
static const char *from_cell(struct table *t, const char *url)
{
	const char *colon, *host, *base;

	if (url == NULL)
		return "-";
	/* A registry's box or image: its reference, and enough of its digest to tell. */
	if (oci_box_is_ref(url) || docker_image_is_ref(url)) {
		const char *at = strstr(url, "@sha256:");
		return at ? table_addf(t, "%.*s@%.19s", (int)(at - url), url, at + 1) : url;
	}
	host = strstr(url, "://");
	if (host != NULL && strncmp(url, "file://", 7) != 0)
		return table_addf(t, "%.*s", (int)strcspn(host + 3, "/"), host + 3);
	colon = host ? NULL : strchr(url, ':');
	base = strrchr(url, '/');
	base = base ? base + 1 : url;
	if (colon != NULL && colon < base)
		return table_addf(t, "%.*s %s", (int)(colon - url), url, base);
	return base;
}

static int box_list_cmd(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	cleanup_free char *home = NULL;
	struct store_entry *list = NULL;
	size_t n = 0;
	struct table t;
	json_t *arr = NULL;
	int rc = 0;

	if (argc > 1)
		return den_err_usage(err, "`den box list` takes no arguments, got '%s'", argv[1]);
	if (den_home(&home, err) < 0 || store_list(home, &list, &n, err) < 0)
		return -1;
	if (!ctx->json && n == 0) {
		store_list_free(list, n);
		if (den_log_level() >= DEN_LOG_INFO)
			puts("No boxes yet. Add one with `den box add NAME|URL|FILE`, or build one "
			     "with `den box build debian-12`.");
		return 0;
	}
	if (ctx->json)
		arr = json_array();
	table_init(&t, 6);
	table_add(&t,
		  (const char *const[]){ "BOX", "VERSION", "PROVIDER", "ARCH", "WARM", "FROM" });
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct warm_info *w = NULL;
		size_t nw = 0;

		rc = box_warm_images(&list[i], &w, &nw, err);
		if (rc == 0 && ctx->json)
			json_array_append_new(
				arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s?, s:s?}", "name",
					       list[i].name, "version", list[i].version, "provider",
					       list[i].provider, "architecture", list[i].arch,
					       "path", list[i].dir, "warm", warm_json(w, nw), "url",
					       list[i].url, "checksum", list[i].checksum));
		else if (rc == 0)
			table_add(&t, (const char *const[]){ list[i].name, list[i].version,
							     list[i].provider, list[i].arch,
							     warm_cell(&t, w, nw),
							     from_cell(&t, list[i].url) });
		warm_list_free(w, nw);
	}
	if (rc == 0 && ctx->json)
		rc = cmd_print_json(arr, err);
	else if (rc == 0)
		table_print(&t, stdout, ctx->color);
	else
		json_decref(arr);
	table_free(&t);
	store_list_free(list, n);
	return rc;
}

struct remove_filter {
	const char *name, *version, *provider, *arch;
};

static bool matches(const struct store_entry *e, const struct remove_filter *f)
{
	return strcmp(e->name, f->name) == 0 && (!f->version || !strcmp(e->version, f->version)) &&
	       (!f->provider || !strcmp(e->provider, f->provider)) &&
	       (!f->arch || !strcmp(e->arch, f->arch));
}

/* Refuses when a machine of a known project uses one of the boxes to go. */
static int check_users(struct den_ctx *ctx, const char *home, struct store_entry *list, size_t n,
		       const struct remove_filter *f, struct den_err *err)
{
	const char *root = NULL;

	if (cmd_load_envfile(ctx, err) == 0)
		root = ctx->root;
	den_err_clear(err);
	for (size_t i = 0; i < n; i++) {
		char **users = NULL;
		size_t nu = 0;

		if (!matches(&list[i], f))
			continue;
		if (box_users(home, root, &list[i], &users, &nu, err) < 0)
			return -1;
		if (nu > 0) {
			den_err_set(err, 0,
				    "box %s %s is used by %s%s; destroy %s first, or remove it "
				    "anyway with --force",
				    list[i].name, list[i].version, users[0],
				    nu > 1 ? " and others" : "", nu > 1 ? "them" : "it");
			box_users_free(users, nu);
			return -1;
		}
		box_users_free(users, nu);
	}
	return 0;
}

static int box_remove_cmd(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "box-version", required_argument, NULL, 'V' },
		{ "provider", required_argument, NULL, 'p' },
		{ "architecture", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct remove_filter f = { 0 };
	bool all = false, force = false;
	cleanup_free char *home = NULL;
	struct store_entry *list = NULL;
	size_t n = 0, matched = 0;
	int c, rc = 0;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			f.version = optarg;
			break;
		case 'p':
			f.provider = optarg;
			break;
		case 'a':
			f.arch = optarg;
			break;
		case 'A':
			all = true;
			break;
		case 'f':
			force = true;
			break;
		default:
			return den_err_usage(err, "unknown option '%s' for `den box remove`",
					     argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return den_err_usage(err, "usage: den box remove NAME [--box-version V] "
					  "[--provider P] [--all] [--force]");
	f.name = argv[optind];
	if (den_home(&home, err) < 0 || store_list(home, &list, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		matched += matches(&list[i], &f);
	if (matched == 0)
		rc = den_err_set(err, 0, "no box %s%s%s in the store (see `den box list`)", f.name,
				 f.version ? " " : "", f.version ? f.version : "");
	else if (matched > 1 && !all)
		rc = den_err_usage(err,
				   "%zu boxes match %s; pick one with --box-version and "
				   "--provider, or remove them all with --all",
				   matched, f.name);
	else if (!force)
		rc = check_users(ctx, home, list, n, &f, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!matches(&list[i], &f))
			continue;
		rc = store_remove(home, &list[i], err);
		if (rc == 0)
			den_info("removed %s %s (%s, %s)", list[i].name, list[i].version,
				 list[i].provider, list[i].arch);
	}
	store_list_free(list, n);
	return rc;
}

static const struct den_cmd box_commands[] = {
	{ "add", box_add_cmd, REPORTS, "add a box from a catalog, URL or file" },
	{ "list", box_list_cmd, REPORTS, "list the boxes in the store" },
	{ "remove", box_remove_cmd, 0, "remove a box from the store" },
	{ "outdated", cmd_box_outdated, REPORTS, "show boxes with newer versions" },
	{ "update", cmd_box_update, 0, "fetch newer versions and update Envfile.lock" },
	{ "prune", cmd_box_prune, 0, "remove old versions of boxes" },
	{ "build", cmd_box_build, REPORTS, "build a box from a recipe" },
	{ "publish", cmd_box_publish, REPORTS, "write a catalog for a folder of box files" },
	{ "package", cmd_box_package, 0, "make a box file from a halted machine" },
	{ "push", cmd_box_push, REPORTS, "push a box to a container registry" },
	{ "warm", cmd_box_warm, REPORTS, "make a VM box's warm image ahead of time" },
	{ NULL, NULL, 0, NULL },
};

int cmd_box(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	const char *names[16];
	size_t n = 0;

	if (argc < 2)
		return den_err_usage(err, "usage: den box add|list|remove|outdated|update|prune|"
					  "build|publish|package|push|warm ...");
	for (const struct den_cmd *c = box_commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) == 0) {
			if (ctx->json && !(c->flags & REPORTS))
				return den_err_usage(err, "`den box %s` has no --json output",
						     c->name);
			return c->fn(argc - 1, argv + 1, ctx, err);
		}
		names[n++] = c->name;
	}
	names[n] = NULL;
	const char *near = suggest_nearest(argv[1], names);
	return den_err_usage(err, "'%s' is not a `den box` command%s%s%s", argv[1],
			     near ? "; did you mean '" : "; see `den help box`", near ? near : "",
			     near ? "'?" : "");
}
