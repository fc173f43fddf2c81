/* SPDX-License-Identifier: MIT */
/*
 * Every Envfile key a provider does not do is refused by `den up`, with
 * the key's place in the file; and docs/envfile.md's "Keys by provider"
 * table says the same as providers/key_support.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envfile.h"
#include "providers/key_support.h"
#include "tests/helpers/testutil.h"

static const char *const all_providers[] = { "qemu", "container", "kvm", "lxd" };

/* The machine line that asks for what a row is about (key and value). */
static const char *asking_line(enum envfile_key k)
{
	switch (k) {
	case ENVFILE_KEY_DISK_SIZE:
		return "disk_size: 10G";
	case ENVFILE_KEY_NETWORK:
		return "network: host";
	case ENVFILE_KEY_NO_NEW_PRIVS:
		return "no_new_privs: true";
	case ENVFILE_KEY_ACCEL:
		return "accel: tcg";
	case ENVFILE_KEY_SSH_KEY:
		return "ssh: { private_key_path: /etc/hostname }";
	case ENVFILE_KEY_SSH_INSERT_KEY:
		return "ssh: { insert_key: false }";
	case ENVFILE_KEY_FOLDERS:
		return "synced_folders: [{ host: /tmp, guest: /work }]";
	case ENVFILE_KEY_NETWORKS:
		return "private_networks: [{ ip: 192.168.56.10 }]";
	case ENVFILE_KEY_HOST_LOOPBACK:
		return "host_loopback: true";
	case ENVFILE_KEY_LXD:
		return "lxd: { project: default }";
	default:
		return NULL;
	}
}

static struct envfile *load_with(const char *line)
{
	char text[512];
	struct envfile *ef = NULL;
	struct den_err err = { 0 };

	snprintf(text, sizeof(text), "den: 1\nmachines:\n  web:\n    box: den/debian-12\n    %s\n",
		 line);
	cr_assert_eq(envfile_load_buffer(text, strlen(text), "Envfile", "/tmp", &ef, &err), 0,
		     "%s: %s", line, err.msg);
	return ef;
}

Test(key_support, every_row_is_refused_where_lacking_and_passed_where_done)
{
	size_t rows = 0;

	for (const struct key_support *row = key_supports; row->asks != NULL; row++, rows++) {
		const char *line = asking_line(row->key);
		cr_assert_not_null(line, "no Envfile line asks for %s: add one to asking_line",
				   envfile_key_name(row->key));
		struct envfile *ef = load_with(line);
		const struct machine *cfg = &ef->machines[0];
		cr_assert(row->asks(cfg), "%s does not ask for %s", line,
			  envfile_key_name(row->key));
		for (size_t i = 0; i < sizeof(all_providers) / sizeof(all_providers[0]); i++) {
			const char *p = all_providers[i];
			struct den_err err = { 0 };
			int rc = provider_check_keys(p, cfg, "Envfile", &err);
			if (key_support_has(row, p)) {
				cr_expect_eq(rc, 0, "%s with %s: %s", line, p, err.msg);
				continue;
			}
			char want[128];
			snprintf(want, sizeof(want), "Envfile:5:"); /* the key's own line */
			cr_expect_lt(rc, 0, "%s is not refused for provider %s", line, p);
			cr_expect_eq(err.kind, DEN_ERR_ENVFILE);
			cr_expect(strncmp(err.msg, want, strlen(want)) == 0, "no line: %s",
				  err.msg);
			cr_expect(strstr(err.msg, envfile_key_name(row->key)) != NULL, "%s",
				  err.msg);
			cr_expect(strstr(err.msg, p) != NULL, "provider not named: %s", err.msg);
		}
		envfile_free(ef);
	}
	cr_assert_gt(rows, 0);
}

Test(key_support, a_key_from_defaults_is_refused_at_its_line_in_defaults)
{
	const char *text = "den: 1\ndefaults:\n  disk_size: 10G\nmachines:\n  web:\n"
			   "    box: den/debian-12\n";
	struct envfile *ef = NULL;
	struct den_err err = { 0 };

	cr_assert_eq(envfile_load_buffer(text, strlen(text), "Envfile", "/tmp", &ef, &err), 0);
	cr_assert_lt(provider_check_keys("container", &ef->machines[0], "Envfile", &err), 0);
	cr_expect(strncmp(err.msg, "Envfile:3:14: disk_size", 23) == 0, "%s", err.msg);
	envfile_free(ef);
}

Test(key_support, defaults_ask_for_nothing)
{
	struct envfile *ef = load_with("cpus: 1");
	struct den_err err = { 0 };

	for (size_t i = 0; i < sizeof(all_providers) / sizeof(all_providers[0]); i++)
		cr_expect_eq(
			provider_check_keys(all_providers[i], &ef->machines[0], "Envfile", &err), 0,
			"%s", err.msg);
	envfile_free(ef);
}

/* The cell of docs/envfile.md's row for key (its text up to '|'), column col. */
static char *doc_cell(const char *doc, const char *key, int col)
{
	char needle[96];
	const char *row;

	snprintf(needle, sizeof(needle), "\n| `%s` |", key);
	row = strstr(doc, needle);
	if (row == NULL)
		return NULL;
	row += strlen(needle);
	for (int c = 0; c < col; c++) {
		row = strchr(row, '|');
		if (row == NULL)
			return NULL;
		row++;
	}
	const char *end = strchr(row, '|');
	return end ? strndup(row, (size_t)(end - row)) : NULL;
}

Test(key_support, docs_table_says_the_same)
{
	char *path = source_path("docs/envfile.md");
	FILE *f = fopen(path, "r");
	static char doc[1 << 18];

	cr_assert_not_null(f, "%s", path);
	size_t n = fread(doc, 1, sizeof(doc) - 1, f);
	doc[n] = '\0';
	fclose(f);
	const char *table = strstr(doc, "## Keys by provider");
	cr_assert_not_null(table, "docs/envfile.md has no \"Keys by provider\" section");
	/* Columns after the key: qemu, container, kvm, lxd. */
	for (const struct key_support *row = key_supports; row->asks != NULL; row++) {
		for (int c = 0; c < 4; c++) {
			char *cell = doc_cell(table, envfile_key_name(row->key), c);
			cr_assert_not_null(cell, "docs/envfile.md: no row for `%s`",
					   envfile_key_name(row->key));
			bool says_yes = strstr(cell, "yes") != NULL;
			cr_expect_eq(says_yes, key_support_has(row, all_providers[c]),
				     "docs/envfile.md says '%s' for `%s` with %s", cell,
				     envfile_key_name(row->key), all_providers[c]);
			free(cell);
		}
	}
	free(path);
}
