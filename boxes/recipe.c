/* SPDX-License-Identifier: MIT */
#include "boxes/recipe.h"
#include "core/digest.h"
#include "boxes/store.h"
#include "core/cleanup.h"
#include "core/embedded.h"
#include "core/envfile.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/suggest.h"
#include "core/version.h"

#include <stdio.h>
#include <string.h>

/*
 * Bump when build.c changes what a recipe produces: it is part of the
 * cache key, so old cached boxes are not reused for new steps.
 */
#define BUILD_STEPS_VERSION "den-build-7"

static const char *const suites[] = { "bullseye", "bookworm", "trixie", NULL };

const char *const *recipe_names(void)
{
	static const char *names[32];

	if (names[0] == NULL)
		for (size_t i = 0; den_recipes[i].name != NULL && i < 31; i++)
			names[i] = den_recipes[i].name;
	return names;
}

static const char *get_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int bad(const struct recipe *r, struct den_err *err, const char *what)
{
	return den_err_set(err, 0, "recipe %s: %s", r->id, what);
}

static int read_lists(struct recipe *r, struct den_err *err)
{
	json_t *pk = json_object_get(r->root, "packages"),
	       *users = json_object_get(r->root, "users");
	json_t *outs = json_object_get(r->root, "outputs"), *v;
	size_t i;

	if (pk != NULL && !json_is_array(pk))
		return bad(r, err, "packages must be a list of Debian package names");
	json_array_foreach(pk, i, v)
	{
		const char *p = json_string_value(v);
		if (p == NULL || p[0] == '\0' || p[0] == '-' ||
		    strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789+-.") != strlen(p) ||
		    r->n_packages == RECIPE_MAX_ITEMS)
			return bad(r, err,
				   "packages must be Debian package names (a-z, 0-9, + - .)");
		r->packages[r->n_packages++] = p;
	}
	if (users != NULL && !json_is_array(users))
		return bad(r, err, "users must be a list of { name, sudo, shell }");
	json_array_foreach(users, i, v)
	{
		struct recipe_user *u = &r->users[r->n_users];
		u->name = get_str(v, "name");
		u->shell = get_str(v, "shell") ? get_str(v, "shell") : "/bin/bash";
		u->sudo = json_is_true(json_object_get(v, "sudo"));
		if (u->name == NULL ||
		    strspn(u->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(u->name) ||
		    u->name[0] == '-' || u->shell[0] != '/' || r->n_users == 15)
			return bad(r, err,
				   "each user needs a name (a-z, 0-9, _ -) and an absolute "
				   "shell");
		r->n_users++;
	}
	if (!json_is_array(outs) || json_array_size(outs) == 0)
		return bad(r, err, "outputs must list what to make: container, kvm, qemu");
	json_array_foreach(outs, i, v)
	{
		const char *o = json_string_value(v);
		if (o != NULL && strcmp(o, "container") == 0)
			r->out_container = true;
		else if (o != NULL && strcmp(o, "kvm") == 0)
			r->out_kvm = true;
		else if (o != NULL && strcmp(o, "qemu") == 0)
			r->out_qemu = true;
		else
			return bad(r, err, "outputs can be container, kvm and qemu");
	}
	return 0;
}

static int parse(struct recipe *r, const char *text, size_t len, struct den_err *err)
{
	const char *why;
	struct den_version v;
	json_t *base;
	struct digest *d;

	if (yaml_load_json(text, len, r->id, &r->root, err) < 0)
		return -1;
	if (!json_is_object(r->root))
		return bad(r, err, "expected a map with name, version, base, outputs");
	r->name = get_str(r->root, "name");
	r->version = get_str(r->root, "version");
	json_t *jv = json_object_get(r->root, "version");
	if (json_is_integer(jv)) {
		snprintf(r->version_buf, sizeof(r->version_buf), "%lld",
			 (long long)json_integer_value(jv));
		r->version = r->version_buf;
	}
	r->description = get_str(r->root, "description");
	r->sshd = !json_is_false(json_object_get(r->root, "sshd"));
	r->init = get_str(r->root, "init") ? get_str(r->root, "init") : "den";
	if (strcmp(r->init, "den") != 0 && strcmp(r->init, "system") != 0)
		return bad(r, err,
			   "init must be den (den starts sshd) or system (the box's own "
			   "/sbin/init, e.g. systemd)");
	if (r->name == NULL || !box_name_valid(r->name))
		return bad(r, err, "name must be a box name such as den/debian-12");
	if (r->version == NULL || den_version_parse(r->version, &v, &why) < 0)
		return bad(r, err, "version must be a version such as 1.0.0");
	base = json_object_get(r->root, "base");
	r->suite = get_str(base, "suite");
	r->variant = get_str(base, "variant") ? get_str(base, "variant") : "minbase";
	r->mirror =
		get_str(base, "mirror") ? get_str(base, "mirror") : "http://deb.debian.org/debian";
	bool known = false;
	for (size_t i = 0; r->suite != NULL && suites[i] != NULL; i++)
		known |= strcmp(r->suite, suites[i]) == 0;
	if (!known)
		return bad(r, err, "base.suite must be bullseye, bookworm or trixie");
	if (strcmp(r->variant, "minbase") != 0 && strcmp(r->variant, "buildd") != 0 &&
	    strcmp(r->variant, "standard") != 0)
		return bad(r, err, "base.variant must be minbase, buildd or standard");
	if (strncmp(r->mirror, "http://", 7) != 0 && strncmp(r->mirror, "https://", 8) != 0 &&
	    strncmp(r->mirror, "file://", 7) != 0)
		return bad(r, err, "base.mirror must be an http, https or file URL");
	if (read_lists(r, err) < 0 || den_crypto_load(err) < 0)
		return -1;
	d = digest_new(DIGEST_SHA256);
	if (d == NULL)
		return den_err_set(err, ENOMEM, "recipe %s", r->id);
	digest_update(d, BUILD_STEPS_VERSION, strlen(BUILD_STEPS_VERSION));
	digest_update(d, text, len);
	/* The files den puts into its VM boxes are build steps too. */
	for (size_t i = 0; den_vm_guest[i].name != NULL; i++)
		digest_update(d, den_vm_guest[i].text, den_vm_guest[i].len);
	digest_final_hex(d, r->hash);
	digest_free(d);
	return 0;
}

int recipe_load(const char *name_or_path, struct recipe *r, struct den_err *err)
{
	memset(r, 0, sizeof(*r));
	r->id = name_or_path;
	for (size_t i = 0; den_recipes[i].name != NULL; i++)
		if (strcmp(den_recipes[i].name, name_or_path) == 0)
			return parse(r, (const char *)den_recipes[i].text, den_recipes[i].len, err);
	if (strchr(name_or_path, '/') != NULL || strstr(name_or_path, ".yml") != NULL) {
		cleanup_free char *text = NULL;
		size_t len = 0;
		if (den_read_file(name_or_path, 1 << 20, &text, &len, err) < 0)
			return -1;
		return parse(r, text, len, err);
	}
	const char *near = suggest_nearest(name_or_path, recipe_names());
	return den_err_usage(err,
			     "no recipe '%s'%s%s%s (recipes: debian-11, debian-12, "
			     "debian-12-systemd, debian-13, or a path to a .yml file)",
			     name_or_path, near ? "; did you mean '" : "", near ? near : "",
			     near ? "'?" : "");
}

void recipe_free(struct recipe *r)
{
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}
