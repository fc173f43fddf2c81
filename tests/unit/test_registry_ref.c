/* SPDX-License-Identifier: MIT */
/*
 * Registry references as docker, podman and skopeo read them, the
 * challenges registries answer with, and the user's auth file entries
 * (registry/ref.c, registry/auth.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry/registry.h"
#include "tests/helpers/testutil.h"

static const char sha[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Test(registry_ref, the_forms_docker_reads)
{
	static const struct {
		const char *in, *host, *repo, *tag;
		bool digest;
	} cases[] = {
		{ "debian", REGISTRY_DOCKER_HUB, "library/debian", "latest", false },
		{ "debian:12", REGISTRY_DOCKER_HUB, "library/debian", "12", false },
		{ "docker.io/library/debian:bookworm", REGISTRY_DOCKER_HUB, "library/debian",
		  "bookworm", false },
		{ "team/app", REGISTRY_DOCKER_HUB, "team/app", "latest", false },
		{ "registry.example:5000/team/debian-12:1.0.0", "registry.example:5000",
		  "team/debian-12", "1.0.0", false },
		{ "localhost/den/box", "localhost", "den/box", "latest", false },
		{ "127.0.0.1:5000/a/b__c/d-e.f_g", "127.0.0.1:5000", "a/b__c/d-e.f_g", "latest",
		  false },
		{ "[::1]:5000/x:v1", "[::1]:5000", "x", "v1", false },
		{ "ghcr.io/org/img@", NULL, NULL, NULL, false },
	};
	struct registry_ref r;
	struct den_err err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = registry_ref_parse(cases[i].in, &r, &err);
		if (cases[i].host == NULL) {
			cr_expect_eq(rc, -1, "%s is refused", cases[i].in);
			continue;
		}
		cr_assert_eq(rc, 0, "%s: %s", cases[i].in, err.msg);
		cr_expect_str_eq(r.host, cases[i].host, "%s", cases[i].in);
		cr_expect_str_eq(r.repository, cases[i].repo, "%s", cases[i].in);
		cr_expect_str_eq(r.tag, cases[i].tag, "%s", cases[i].in);
	}
	char with_digest[256];
	snprintf(with_digest, sizeof(with_digest), "registry.example/app@%s", sha);
	cr_assert_eq(registry_ref_parse(with_digest, &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.digest, sha);
	cr_expect_str_eq(r.tag, "", "a digest alone: no tag");
	snprintf(with_digest, sizeof(with_digest), "registry.example/app:1.0@%s", sha);
	cr_assert_eq(registry_ref_parse(with_digest, &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.tag, "1.0");
	cr_expect_str_eq(r.digest, sha);
}

Test(registry_ref, what_is_refused_says_why)
{
	static const struct {
		const char *in, *said;
	} cases[] = {
		{ "", "not an image reference" },
		{ "Team/App", "must be lowercase" },
		{ "registry.example/a//b", "must be lowercase" },
		{ "registry.example/-a", "must be lowercase" },
		{ "registry.example/a-", "must be lowercase" },
		{ "registry.example/a...b", "must be lowercase" },
		{ "registry.example/app:.hidden", "the tag '.hidden'" },
		{ "registry.example/app:a/b", "must be lowercase" },
		{ "registry.example/app@sha256:abc", "the digest after @" },
		{ "registry.example/app@md5:0123", "the digest after @" },
		{ "reg_istry.example:99999/app", "is not a registry host" },
	};
	struct registry_ref r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct den_err err = { 0 };
		cr_expect_eq(registry_ref_parse(cases[i].in, &r, &err), -1, "%s", cases[i].in);
		cr_expect(strstr(err.msg, cases[i].said) != NULL, "%s: '%s' in: %s", cases[i].in,
			  cases[i].said, err.msg);
	}
}

Test(registry_ref, plain_http_only_on_loopback)
{
	cr_expect(registry_host_is_loopback("localhost:5000"));
	cr_expect(registry_host_is_loopback("127.0.0.1"));
	cr_expect(registry_host_is_loopback("127.4.5.6:443"));
	cr_expect(registry_host_is_loopback("[::1]:5000"));
	cr_expect(!registry_host_is_loopback("localhost.example.com"));
	cr_expect(!registry_host_is_loopback("10.0.0.1:5000"));
	cr_expect(!registry_host_is_loopback("128.0.0.1"));
	cr_expect(!registry_host_is_loopback("[::2]:5000"));
	cr_expect(!registry_host_is_loopback(REGISTRY_DOCKER_HUB));
}

Test(registry_challenge, bearer_and_basic)
{
	struct registry_challenge c;
	struct den_err err = { 0 };

	cr_assert_eq(
		registry_challenge_parse(
			"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker."
			"io\",scope=\"repository:samalba/my-app:pull,push\"",
			&c, &err),
		0, "%s", err.msg);
	cr_expect_eq(c.scheme, REGISTRY_AUTH_BEARER);
	cr_expect_str_eq(c.realm, "https://auth.docker.io/token");
	cr_expect_str_eq(c.service, "registry.docker.io");
	cr_expect_str_eq(c.scope, "repository:samalba/my-app:pull,push", "a comma inside quotes");
	cr_assert_eq(registry_challenge_parse("basic realm=\"Registry Realm\"", &c, &err), 0);
	cr_expect_eq(c.scheme, REGISTRY_AUTH_BASIC);
	cr_expect_str_eq(c.realm, "Registry Realm");
	cr_assert_eq(
		registry_challenge_parse("Bearer realm=\"http://h/t\\\"x\", service=s", &c, &err),
		0);
	cr_expect_str_eq(c.realm, "http://h/t\"x", "an escaped quote");
	cr_expect_str_eq(c.service, "s", "a bare token after a space");

	struct den_err e1 = { 0 }, e2 = { 0 }, e3 = { 0 }, e4 = { 0 };
	cr_expect_eq(registry_challenge_parse("Negotiate abc", &c, &e1), -1);
	cr_expect(strstr(e1.msg, "den does Basic and Bearer") != NULL, "%s", e1.msg);
	cr_expect_eq(registry_challenge_parse("Bearer realm=\"https://x", &c, &e2), -1);
	cr_expect(strstr(e2.msg, "unended quote") != NULL, "%s", e2.msg);
	cr_expect_eq(registry_challenge_parse("Bearer service=\"x\"", &c, &e3), -1);
	cr_expect(strstr(e3.msg, "no http(s) realm") != NULL, "%s", e3.msg);
	cr_expect_eq(registry_challenge_parse("Bearer realm", &c, &e4), -1);
	cr_expect(strstr(e4.msg, "garbled") != NULL, "%s", e4.msg);
}

Test(registry_creds, the_auth_file_entry_for_a_host)
{
	/* base64("den:s3cr:et") and base64("hub:pw") */
	static const char file[] = "{\"auths\": {"
				   " \"registry.example:5000\": {\"auth\": \"ZGVuOnMzY3I6ZXQ=\"},"
				   " \"https://index.docker.io/v1/\": {\"auth\": \"aHViOnB3\"},"
				   " \"tok.example\": {\"identitytoken\": \"abc\"},"
				   " \"helper.example\": {},"
				   " \"bad.example\": {\"auth\": \"bm9jb2xvbg==\"}}}";
	struct registry_creds c;
	struct den_err err = { 0 };

	cr_expect_eq(registry_creds_in(file, "auth.json", "registry.example:5000", &c, &err), 1,
		     "%s", err.msg);
	cr_expect_str_eq(c.user, "den");
	cr_expect_str_eq(c.secret, "s3cr:et", "the password may hold a colon");
	cr_expect_str_eq(c.from, "auth.json");
	cr_expect_eq(registry_creds_in(file, "auth.json", REGISTRY_DOCKER_HUB, &c, &err), 1);
	cr_expect_str_eq(c.user, "hub", "Docker Hub under its index URL");
	cr_expect_eq(registry_creds_in(file, "auth.json", "tok.example", &c, &err), 1);
	cr_expect_str_eq(c.secret, "abc");
	cr_expect_eq(registry_creds_in(file, "auth.json", "registry.example", &c, &err), 0,
		     "another port is another registry");
	cr_expect_eq(registry_creds_in(file, "auth.json", "other.example", &c, &err), 0);

	struct den_err e1 = { 0 }, e2 = { 0 }, e3 = { 0 };
	cr_expect_eq(registry_creds_in(file, "auth.json", "helper.example", &c, &e1), -1);
	cr_expect(strstr(e1.msg, "credential helper") != NULL, "%s", e1.msg);
	cr_expect_eq(registry_creds_in(file, "auth.json", "bad.example", &c, &e2), -1);
	cr_expect(strstr(e2.msg, "not user:password") != NULL, "%s", e2.msg);
	cr_expect_eq(registry_creds_in("{", "auth.json", "x", &c, &e3), -1);
	cr_expect(strstr(e3.msg, "auth.json is not JSON") != NULL, "%s", e3.msg);
}

Test(registry_creds, the_files_podman_and_docker_read_in_their_order)
{
	char dir[] = "/tmp/den-creds-XXXXXX", path[256];
	struct registry_creds c;
	struct den_err err = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/.docker", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.docker/config.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"auths\": {\"r.example\": {\"auth\": \"ZG9ja2VyOnB3\"}}}", f); /* docker:pw */
	fclose(f);
	snprintf(path, sizeof(path), "%s/podman.json", dir);
	f = fopen(path, "w");
	fputs("{\"auths\": {\"r.example\": {\"auth\": \"cG9kbWFuOnB3\"}}}", f); /* podman:pw */
	fclose(f);
	setenv("HOME", dir, 1);
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("REGISTRY_AUTH_FILE");
	cr_expect_eq(registry_creds_find("r.example", &c, &err), 1, "%s", err.msg);
	cr_expect_str_eq(c.user, "docker", "~/.docker/config.json");
	setenv("REGISTRY_AUTH_FILE", path, 1);
	cr_expect_eq(registry_creds_find("r.example", &c, &err), 1, "%s", err.msg);
	cr_expect_str_eq(c.user, "podman", "REGISTRY_AUTH_FILE first");
	cr_expect_eq(registry_creds_find("s.example", &c, &err), 0, "no entry anywhere");
	unsetenv("REGISTRY_AUTH_FILE");
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}
