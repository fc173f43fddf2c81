/* SPDX-License-Identifier: MIT */
/*
 * den's record for a machine made from a warm image (providers/kvm/
 * warm_record.c), as the hook in boxes/vm-guest/den-seed reads it: entries
 * of a "NAME LINES" line and exactly that many lines, the login user
 * first, the keys den made for the machine, its 9p mounts, then "end";
 * nothing the shell's read could take for the next entry.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/machine.h"
#include "providers/kvm/warm.h"
#include "tests/helpers/testutil.h"

static struct synced_folder share = { .host = "./share", .guest = "/share", .type = SYNC_NATIVE };

struct entry {
	char name[64];
	char *text;
};

/* The record at path parsed as the hook does; returns how many entries (end last). */
static size_t parse(const char *path, struct entry *out, size_t max)
{
	cleanup_free char *rec = NULL;
	size_t len = 0, n = 0;
	struct den_err err = { 0 };

	cr_assert(den_read_file(path, 1 << 20, &rec, &len, &err) == 0, "%s", err.msg);
	cr_assert(len > 0 && rec[len - 1] == '\n', "whole lines only");
	char *p = rec;
	while (*p != '\0' && n < max) {
		char *nl = strchr(p, '\n');
		unsigned long lines = 0;
		cr_assert_not_null(nl);
		*nl = '\0';
		cr_assert(sscanf(p, "%63s %lu", out[n].name, &lines) == 2, "a header: '%s'", p);
		char *body = nl + 1, *q = body;
		for (unsigned long i = 0; i < lines; i++) {
			q = strchr(q, '\n');
			cr_assert_not_null(q, "%s has its %lu lines", out[n].name, lines);
			q++;
		}
		out[n].text = strndup(body, (size_t)(q - body));
		p = q;
		n++;
	}
	cr_expect_eq(*p, '\0', "nothing after end");
	return n;
}

Test(warm_record, the_user_first_every_entry_its_lines_then_end)
{
	cleanup_free char *dir = make_temp_dir(), *path = NULL, *key = NULL, *host = NULL;
	struct machine cfg = {
		.name = "web", .hostname = "web-1", .folders = &share, .n_folders = 1
	};
	struct den_machine dm = { .cfg = &cfg };
	struct den_err err = { 0 };
	struct entry e[16];

	dm.dir = dir;
	dm.rec.ssh_user = "den";
	cr_assert(keys_ensure(dir, &err) == 0, "%s", err.msg);
	cr_assert(asprintf(&path, "%s/channel.in", dir) > 0);
	cr_assert(warm_record_write(&dm, path, &err) == 0, "%s", err.msg);
	size_t n = parse(path, e, 16);

	const char *order[] = { "user",
				"hostname",
				"machine_id",
				"entropy",
				"authorized_keys",
				"ssh_host_ed25519_key",
				"ssh_host_ed25519_key.pub",
				"mounts",
				"end" };
	cr_assert_eq(n, sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(e[i].name, order[i], "entry %zu", i);
	cr_expect_str_eq(e[0].text, "den\n");
	cr_expect_str_eq(e[1].text, "web-1\n");
	cr_expect_eq(strlen(e[2].text), 33, "32 hex digits: %s", e[2].text);
	cr_expect_eq(strspn(e[2].text, "0123456789abcdef"), 32);
	cr_expect_eq(strlen(e[3].text), 129, "64 bytes in hex: %s", e[3].text);
	cr_assert(keys_public(dir, KEYS_CLIENT, &key, &err) == 0, "%s", err.msg);
	cr_expect_not_null(strstr(e[4].text, key), "den's key: %s", e[4].text);
	cr_expect_not_null(strstr(e[5].text, "BEGIN OPENSSH PRIVATE KEY"), "%s", e[5].text);
	cr_assert(keys_public(dir, KEYS_HOST, &host, &err) == 0, "%s", err.msg);
	cr_expect_not_null(strstr(e[6].text, host), "the host key den made: %s", e[6].text);
	cr_expect_not_null(strstr(e[7].text, "den0 '/share'"), "%s", e[7].text);
	cr_expect_str_eq(e[8].text, "", "end has no lines");
	for (size_t i = 0; i < n; i++)
		free(e[i].text);

	/* Two records: their own machine-id and entropy. */
	cleanup_free char *again = NULL;
	struct entry f[16];
	cr_assert(asprintf(&again, "%s/again.in", dir) > 0);
	cr_assert(warm_record_write(&dm, again, &err) == 0, "%s", err.msg);
	cr_assert_eq(parse(again, f, 16), n);
	n = parse(path, e, 16);
	cr_expect_str_neq(e[2].text, f[2].text, "a new machine-id each time");
	cr_expect_str_neq(e[3].text, f[3].text, "fresh entropy each time");
	for (size_t i = 0; i < n; i++)
		free(e[i].text), free(f[i].text);
	rm_rf(dir);
}

Test(warm_record, a_name_of_two_lines_is_refused)
{
	cleanup_free char *dir = make_temp_dir(), *path = NULL;
	struct machine cfg = { .name = "web", .hostname = "web\nuser 1" };
	struct den_machine dm = { .cfg = &cfg };
	struct den_err err = { 0 };

	dm.dir = dir;
	dm.rec.ssh_user = "den";
	cr_assert(keys_ensure(dir, &err) == 0, "%s", err.msg);
	cr_assert(asprintf(&path, "%s/channel.in", dir) > 0);
	cr_expect_neq(warm_record_write(&dm, path, &err), 0);
	cr_expect_not_null(strstr(err.msg, "not one line"), "%s", err.msg);
	cr_expect(!den_exists(path), "no record written");
	rm_rf(dir);
}
