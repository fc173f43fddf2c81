/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "boxes/catalog.h"
#include "boxes/identity.h"

static struct catalog parse(const char *text)
{
	struct catalog c;
	struct den_err err = { 0 };

	cr_assert(catalog_parse(text, strlen(text), "test", &c, &err) == 0, "%s", err.msg);
	return c;
}

static const char *refuse(const char *text)
{
	static struct den_err err;
	struct catalog c;

	memset(&err, 0, sizeof(err));
	cr_assert(catalog_parse(text, strlen(text), "test", &c, &err) < 0, "accepted: %s", text);
	return err.msg;
}

#define P(name, arch, dflt)                                                                        \
	"{\"name\": \"" name "\", \"url\": \"http://x/" name "-" arch ".box\", "                   \
	"\"checksum_type\": \"sha256\", \"checksum\": \"ab\", \"architecture\": \"" arch "\", "    \
	"\"default_architecture\": " dflt "}"

static const char *const vagrant_cloud =
	"{\"name\": \"den/debian-12\", \"description\": \"Debian 12\", \"versions\": ["
	"{\"version\": \"1.2.0\", \"providers\": [" P("container", "amd64", "true") ", " P(
		"qemu", "arm64",
		"true") "]},"
			"{\"version\": \"1.10.0\", \"providers\": [" P(
				"container", "arm64",
				"true") ", " P("container", "unknown",
					       "false") "]},"
							"{\"version\": \"2.0.0\", \"providers\": "
							"[" P("qemu", "amd64",
							      "true") "]},"
								      "{\"version\": \"1.9.1\", "
								      "\"providers\": [{\"name\": "
								      "\"container\", \"url\": "
								      "\"c.box\"}]}"
								      "]}";

Test(catalog, versions_are_sorted_newest_first)
{
	struct catalog c = parse(vagrant_cloud);

	cr_expect_str_eq(c.name, "den/debian-12");
	cr_expect_str_eq(c.description, "Debian 12");
	cr_assert_eq(c.n_versions, 4);
	cr_expect_str_eq(c.versions[0].version, "2.0.0");
	cr_expect_str_eq(c.versions[1].version, "1.10.0", "1.10 is newer than 1.9");
	cr_expect_str_eq(c.versions[2].version, "1.9.1");
	cr_expect_str_eq(c.versions[3].version, "1.2.0");
	cr_expect_str_eq(c.versions[2].providers[0].arch, "unknown", "no architecture: unknown");
	cr_expect_null(c.versions[2].providers[0].checksum);
	catalog_free(&c);
}

Test(catalog, the_newest_version_allowed_with_the_provider_wins)
{
	struct catalog c = parse(vagrant_cloud);
	const struct catalog_version *v;
	const struct catalog_provider *p;
	struct den_err err = { 0 };

	cr_assert(catalog_select(&c, "~> 1.2", "container", "amd64", &v, &p, &err) == 0, "%s",
		  err.msg);
	cr_expect_str_eq(v->version, "1.2.0", "1.10 and 1.9.1 have no amd64 container");
	cr_assert(catalog_select(&c, NULL, "qemu", "amd64", &v, &p, &err) == 0);
	cr_expect_str_eq(v->version, "2.0.0");
	cr_assert(catalog_select(&c, "< 2", NULL, "arm64", &v, &p, &err) == 0);
	cr_expect_str_eq(v->version, "1.10.0");
	cr_expect_str_eq(p->arch, "arm64");
	catalog_free(&c);
}

Test(catalog, host_architecture_first_then_unknown_then_default)
{
	struct catalog c = parse(vagrant_cloud);
	const struct catalog_version *v;
	const struct catalog_provider *p;
	struct den_err err = { 0 };

	if (strcmp(box_host_arch(), "amd64") != 0)
		cr_skip("the fixtures assume an amd64 host");
	/* 1.10.0 has arm64 (default) and unknown: the unknown one is taken. */
	cr_assert(catalog_select(&c, "= 1.10.0", "container", NULL, &v, &p, &err) == 0);
	cr_expect_str_eq(p->arch, "unknown");
	/* 1.2.0 has the host's architecture. */
	cr_assert(catalog_select(&c, "= 1.2.0", "container", NULL, &v, &p, &err) == 0);
	cr_expect_str_eq(p->arch, "amd64");
	/* qemu in 1.2.0 is arm64 only, marked default: the last resort. */
	cr_assert(catalog_select(&c, "= 1.2.0", "qemu", NULL, &v, &p, &err) == 0);
	cr_expect_str_eq(p->arch, "arm64");
	/* Asked by name, an architecture must match exactly. */
	cr_expect(catalog_select(&c, "= 1.2.0", "qemu", "amd64", &v, &p, &err) < 0);
	cr_expect(strstr(err.msg, "on architecture amd64") != NULL, "%s", err.msg);
	catalog_free(&c);
}

Test(catalog, no_match_says_what_exists)
{
	struct catalog c = parse(vagrant_cloud);
	const struct catalog_version *v;
	const struct catalog_provider *p;
	struct den_err err = { 0 };

	cr_expect(catalog_select(&c, ">= 3", NULL, NULL, &v, &p, &err) < 0);
	cr_expect(strstr(err.msg, "no version matching '>= 3' (it has 2.0.0 and older)"), "%s",
		  err.msg);
	cr_expect(catalog_select(&c, "~> ^", NULL, NULL, &v, &p, &err) < 0);
	cr_expect_eq(err.kind, DEN_ERR_USAGE);
	catalog_free(&c);
}

Test(catalog, malformed_catalogs_are_refused_with_a_reason)
{
	cr_expect(strstr(refuse("not json"), "not valid JSON"));
	cr_expect(strstr(refuse("[]"), "no \"name\""));
	cr_expect(strstr(refuse("{\"name\": \"a/b\"}"), "no \"versions\" list"));
	cr_expect(strstr(refuse("{\"name\": \"a/b\", \"versions\": [{\"version\": \"1.x\", "
				"\"providers\": []}]}"),
			 "'1.x' is not a version"));
	cr_expect(strstr(refuse("{\"name\": \"a/b\", \"versions\": [{\"providers\": []}]}"),
			 "no \"version\""));
	cr_expect(strstr(refuse("{\"name\": \"a/b\", \"versions\": [{\"version\": \"1\"}]}"),
			 "no providers list"));
	cr_expect(strstr(refuse("{\"name\": \"a/b\", \"versions\": [{\"version\": \"1\", "
				"\"providers\": [{\"url\": \"x\"}]}]}"),
			 "provider without a name"));
	cr_expect(strstr(refuse("{\"name\": \"a/b\", \"versions\": [{\"version\": \"1\", "
				"\"providers\": [{\"name\": \"qemu\"}]}]}"),
			 "has no url"));
	cr_expect(strstr(refuse("{\"name\": \"a/b\", \"versions\": [{\"version\": \"1\", "
				"\"providers\": [{\"name\": \"qemu\", \"url\": \"x\", "
				"\"checksum\": \"ab\"}]}]}"),
			 "checksum without its checksum_type"));
	cr_expect(strstr(refuse("{\"name\": \"a/b\", \"name\": \"c/d\", \"versions\": []}"),
			 "not valid JSON"),
		  "duplicate keys are refused");
}

/* One VM box for both VM providers: what den box build --provider qemu makes. */
Test(catalog, the_vm_providers_share_the_libvirt_box)
{
	cr_expect_str_eq(box_provider_of("qemu"), "libvirt");
	cr_expect_str_eq(box_provider_of("kvm"), "libvirt");
	cr_expect_str_eq(box_provider_of("container"), "container");
}
