/* SPDX-License-Identifier: MIT */
#include "boxes/catalog.h"
#include "boxes/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define CATALOG_MAX_VERSIONS 10000
#define CATALOG_MAX_PROVIDERS 64

const char *box_host_arch(void)
{
	static char arch[sizeof(((struct utsname *)0)->machine)];
	struct utsname u;

	if (arch[0] != '\0')
		return arch;
	if (uname(&u) < 0)
		return "unknown";
	if (strcmp(u.machine, "x86_64") == 0)
		snprintf(arch, sizeof(arch), "amd64");
	else if (strcmp(u.machine, "aarch64") == 0)
		snprintf(arch, sizeof(arch), "arm64");
	else if (u.machine[0] == 'i' && strcmp(u.machine + 2, "86") == 0)
		snprintf(arch, sizeof(arch), "i386");
	else
		snprintf(arch, sizeof(arch), "%s", u.machine);
	return arch;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int parse_provider(json_t *j, const char *where, const char *version,
			  struct catalog_provider *p, struct den_err *err)
{
	if (!json_is_object(j) || str(j, "name") == NULL)
		return den_err_set(err, 0, "catalog %s: version %s has a provider without a name",
				   where, version);
	p->name = str(j, "name");
	p->url = str(j, "url");
	p->checksum_type = str(j, "checksum_type");
	p->checksum = str(j, "checksum");
	p->arch = str(j, "architecture") ? str(j, "architecture") : "unknown";
	/* Both become folder names in the store: a hostile catalog must not steer them. */
	if (!box_part_valid(p->name) || !box_part_valid(p->arch))
		return den_err_set(err, 0,
				   "catalog %s: version %s has a provider or architecture that is "
				   "not a plain name",
				   where, version);
	p->default_arch = json_is_true(json_object_get(j, "default_architecture"));
	if (p->url == NULL)
		return den_err_set(err, 0, "catalog %s: provider %s of version %s has no url",
				   where, p->name, version);
	if ((p->checksum == NULL) != (p->checksum_type == NULL || !p->checksum_type[0]))
		return den_err_set(err, 0,
				   "catalog %s: provider %s of version %s gives a checksum without "
				   "its checksum_type, or the other way round",
				   where, p->name, version);
	return 0;
}

static int cmp_versions(const void *a, const void *b)
{
	return -den_version_cmp(&((const struct catalog_version *)a)->v,
				&((const struct catalog_version *)b)->v);
}

int catalog_parse(const char *text, size_t len, const char *where, struct catalog *out,
		  struct den_err *err)
{
	json_error_t jerr;
	json_t *versions;
	const char *why;

	memset(out, 0, sizeof(*out));
	out->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (out->root == NULL)
		return den_err_set(err, 0, "catalog %s is not valid JSON (line %d: %s)", where,
				   jerr.line, jerr.text);
	if (!json_is_object(out->root) || str(out->root, "name") == NULL) {
		catalog_free(out);
		return den_err_set(err, 0, "catalog %s has no \"name\"; is it a box catalog?",
				   where);
	}
	out->name = str(out->root, "name");
	out->description = str(out->root, "description");
	versions = json_object_get(out->root, "versions");
	if (!json_is_array(versions)) {
		catalog_free(out);
		return den_err_set(err, 0, "catalog %s has no \"versions\" list", where);
	}
	if (json_array_size(versions) > CATALOG_MAX_VERSIONS) {
		catalog_free(out);
		return den_err_set(err, 0, "catalog %s has more than %d versions", where,
				   CATALOG_MAX_VERSIONS);
	}
	out->versions = calloc(json_array_size(versions) + 1, sizeof(*out->versions));
	if (out->versions == NULL) {
		catalog_free(out);
		return den_err_set(err, ENOMEM, "catalog %s", where);
	}
	for (size_t i = 0; i < json_array_size(versions); i++) {
		json_t *jv = json_array_get(versions, i), *provs;
		struct catalog_version *v = &out->versions[out->n_versions++];

		v->version = str(jv, "version");
		provs = json_object_get(jv, "providers");
		if (v->version == NULL || den_version_parse(v->version, &v->v, &why) < 0) {
			den_err_set(err, 0, "catalog %s: version '%s' is not a version: %s", where,
				    v->version ? v->version : "(missing)",
				    v->version ? why : "no \"version\"");
			catalog_free(out);
			return -1;
		}
		if (!json_is_array(provs)) {
			den_err_set(err, 0, "catalog %s: version %s has no providers list", where,
				    v->version);
			catalog_free(out); /* after the message: v->version lives in the JSON */
			return -1;
		}
		if (json_array_size(provs) > CATALOG_MAX_PROVIDERS) {
			den_err_set(err, 0, "catalog %s: version %s has more than %d providers",
				    where, v->version, CATALOG_MAX_PROVIDERS);
			catalog_free(out);
			return -1;
		}
		v->providers = calloc(json_array_size(provs) + 1, sizeof(*v->providers));
		if (v->providers == NULL) {
			catalog_free(out);
			return den_err_set(err, ENOMEM, "catalog %s", where);
		}
		for (size_t k = 0; k < json_array_size(provs); k++) {
			if (parse_provider(json_array_get(provs, k), where, v->version,
					   &v->providers[v->n_providers++], err) < 0) {
				catalog_free(out);
				return -1;
			}
		}
	}
	qsort(out->versions, out->n_versions, sizeof(*out->versions), cmp_versions);
	return 0;
}

void catalog_free(struct catalog *c)
{
	for (size_t i = 0; i < c->n_versions; i++)
		free(c->versions[i].providers);
	free(c->versions);
	json_decref(c->root);
	memset(c, 0, sizeof(*c));
}

/* The provider entry for name and arch in v, with Vagrant's fallbacks. */
static const struct catalog_provider *pick(const struct catalog_version *v, const char *name,
					   const char *arch)
{
	const char *want = arch ? arch : box_host_arch();
	const struct catalog_provider *unknown = NULL, *dflt = NULL;

	for (size_t i = 0; i < v->n_providers; i++) {
		const struct catalog_provider *p = &v->providers[i];

		if (name != NULL && strcmp(p->name, name) != 0)
			continue;
		if (strcmp(p->arch, want) == 0)
			return p;
		if (strcmp(p->arch, "unknown") == 0 && unknown == NULL)
			unknown = p;
		if (p->default_arch && dflt == NULL)
			dflt = p;
	}
	if (arch != NULL)
		return NULL; /* an architecture asked for by name must match */
	return unknown ? unknown : dflt;
}

/* What a libvirt box may be made from (boxes/vm_import.h), in the order den takes them. */
static const char *const importable[] = { "virtualbox", "vmware_desktop", "hyperv" };

int catalog_select(const struct catalog *c, const char *constraint, const char *provider,
		   const char *arch, const struct catalog_version **vout,
		   const struct catalog_provider **pout, struct den_err *err)
{
	struct den_constraints cons = { 0 };
	const char *why = NULL;
	bool any_version = false;

	if (constraint != NULL && den_constraints_parse(constraint, &cons, &why) < 0)
		return den_err_usage(err, "box version '%s' is not a constraint: %s", constraint,
				     why);
	for (size_t i = 0; i < c->n_versions; i++) {
		const struct catalog_version *v = &c->versions[i];
		const struct catalog_provider *p;

		if (!den_constraints_match(&cons, &v->v))
			continue;
		any_version = true;
		p = pick(v, provider, arch);
		/* No libvirt box of this version: a VirtualBox, VMware or Hyper-V one, converted. */
		for (size_t k = 0;
		     p == NULL && provider != NULL && strcmp(provider, "libvirt") == 0 &&
		     k < sizeof(importable) / sizeof(*importable);
		     k++)
			p = pick(v, importable[k], arch);
		if (p != NULL) {
			*vout = v;
			*pout = p;
			return 0;
		}
	}
	if (!any_version)
		return den_err_set(err, 0, "box %s has no version matching '%s' (it has %s%s)",
				   c->name, constraint ? constraint : "any",
				   c->n_versions ? c->versions[0].version : "none",
				   c->n_versions > 1 ? " and older" : "");
	return den_err_set(err, 0,
			   "box %s has no version matching '%s' for provider %s on architecture "
			   "%s; see the catalog's providers, or pass --provider/--architecture",
			   c->name, constraint ? constraint : "any", provider ? provider : "(any)",
			   arch ? arch : box_host_arch());
}
