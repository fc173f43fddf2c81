/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/machine_index.h"
#include "tests/helpers/testutil.h"

#define WRITERS 20

static char *slurp(const char *dir, const char *name)
{
	char path[4096];
	char *text = NULL;
	struct den_err err = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (den_read_file(path, 64 << 20, &text, NULL, &err) < 0)
		return NULL;
	return text;
}

static bool has_root(const struct machine_index *idx, const char *root)
{
	for (size_t i = 0; i < idx->n; i++)
		if (strcmp(idx->v[i].root, root) == 0)
			return true;
	return false;
}

/*
 * Keeps all but /gone/ projects, taking about as long as a look at a real
 * project; arg, when not NULL, is a pipe to close at the first call, which
 * starts the writers while a prune is under way.
 */
static bool keep_live(const struct machine_index_entry *e, void *arg)
{
	int *go = arg;

	if (go != NULL && *go >= 0) {
		close(*go);
		*go = -1;
	}
	usleep(500);
	return strncmp(e->root, "/gone/", 6) != 0;
}

Test(machine_index, a_prune_racing_twenty_writers_loses_no_entry)
{
	char *home = make_temp_dir();
	struct den_err err = { 0 };
	struct machine_index idx;
	pid_t pids[WRITERS];
	int go[2], running = WRITERS, prunes = 0;

	/* Projects already there, which the prunes keep: each prune takes a while. */
	for (int i = 0; i < WRITERS; i++) {
		char root[64];
		snprintf(root, sizeof(root), "/kept/%d", i);
		cr_assert(machine_index_add(home, root, NULL, &err) == 0, "%s", err.msg);
	}
	cr_assert(pipe(go) == 0);
	for (int i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		cr_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			char root[64], envfile[80], c;
			struct den_err e = { 0 };

			close(go[1]);
			if (read(go[0], &c, 1) < 0) /* EOF: the first prune is under way */
				_exit(2);
			usleep((useconds_t)i * 1000); /* spread over the prunes */
			snprintf(root, sizeof(root), "/project/%d", i);
			snprintf(envfile, sizeof(envfile), "%s/Envfile", root);
			_exit(machine_index_add(home, root, envfile, &e) == 0 ? 0 : 1);
		}
	}
	close(go[0]);
	/* Prune without pause while the writers run, each prune with a project to drop. */
	while (running > 0) {
		char gone[64];
		size_t dropped = 0;

		snprintf(gone, sizeof(gone), "/gone/%d", prunes);
		cr_assert(machine_index_add(home, gone, NULL, &err) == 0, "%s", err.msg);
		cr_assert(machine_index_prune(home, keep_live, &go[1], &dropped, &err) == 0, "%s",
			  err.msg);
		cr_expect_eq(dropped, 1, "prune %d dropped %zu projects, not /gone/%d", prunes,
			     dropped, prunes);
		prunes++;
		for (int i = 0; i < WRITERS; i++) {
			int status;

			if (pids[i] <= 0 || waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
				  "writer %d failed (status %d)", i, status);
			pids[i] = 0;
			running--;
		}
	}
	cr_assert(machine_index_list(home, &idx, &err) == 0, "%s", err.msg);
	for (int i = 0; i < WRITERS; i++) {
		char root[2][64];
		snprintf(root[0], sizeof(root[0]), "/project/%d", i);
		snprintf(root[1], sizeof(root[1]), "/kept/%d", i);
		for (int k = 0; k < 2; k++)
			cr_expect(has_root(&idx, root[k]), "%s was lost (%d prunes ran)", root[k],
				  prunes);
	}
	cr_expect_eq(idx.n, 2 * WRITERS, "%zu entries, not %d", idx.n, 2 * WRITERS);
	cr_expect_eq(idx.skipped, 0);
	machine_index_free(&idx);
	rm_rf(home);
	free(home);
}

Test(machine_index, add_records_a_project_once_and_list_reads_it_back)
{
	char *home = make_temp_dir();
	struct den_err err = { 0 };
	struct machine_index idx;

	cr_assert(machine_index_list(home, &idx, &err) == 0, "no index is an empty one: %s",
		  err.msg);
	cr_expect_eq(idx.n, 0);
	cr_assert(machine_index_add(home, "/p/a", "/p/a/Envfile.example", &err) == 0, "%s",
		  err.msg);
	cr_assert(machine_index_add(home, "/p/a", "/p/a/Envfile.example", &err) == 0);
	cr_assert(machine_index_add(home, "/p/b", NULL, &err) == 0);
	cr_assert(machine_index_list(home, &idx, &err) == 0, "%s", err.msg);
	cr_assert_eq(idx.n, 2);
	cr_expect_str_eq(idx.v[0].root, "/p/a");
	cr_expect_str_eq(idx.v[0].envfile, "/p/a/Envfile.example");
	cr_expect_str_eq(idx.v[1].root, "/p/b");
	cr_expect_null(idx.v[1].envfile);
	machine_index_free(&idx);
	rm_rf(home);
	free(home);
}

/* Files that are not an index: an error that says so, never a crash or an empty index. */
Test(machine_index, a_damaged_index_is_an_error)
{
	static const char *const bad[] = {
		"",
		"{ broken",
		"null",
		"[]",
		"{\"projects\": 5}",
		"{\"projects\": {\"root\": \"/p\"}}",
		"{\"projects\": [\x1b]0;owned\x07]}",
		"{\"projects\": [{\"root\": \"/p\"}]} trailing",
		"{\"projects\": [{\"root\": \"/nul\\u0000/x\"}]}",
	};
	char *home = make_temp_dir();
	struct den_err err = { 0 };
	struct machine_index idx;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		write_file(home, "index.json", bad[k]);
		den_err_clear(&err);
		cr_expect(machine_index_list(home, &idx, &err) < 0, "case %zu was read", k);
		cr_expect(strstr(err.msg, "is damaged") != NULL, "case %zu: %s", k, err.msg);
		for (const char *c = err.msg; *c != '\0'; c++)
			cr_expect((unsigned char)*c >= 0x20,
				  "case %zu: the file's bytes reach "
				  "the terminal: %s",
				  k, err.msg);
		den_err_clear(&err);
		cr_expect(machine_index_prune(home, keep_live, NULL, NULL, &err) < 0);
		char *after = slurp(home, "index.json");
		cr_expect_str_eq(after, bad[k], "prune left case %zu as it was", k);
		free(after);
	}
	rm_rf(home);
	free(home);
}

Test(machine_index, deep_nesting_and_a_huge_file_are_refused)
{
	char *home = make_temp_dir(), path[4096];
	struct den_err err = { 0 };
	struct machine_index idx;
	size_t n = 1 << 20;
	char *deep = malloc(n + 32);
	FILE *f;

	cr_assert(deep != NULL);
	strcpy(deep, "{\"projects\": ");
	memset(deep + strlen(deep), '[', n);
	deep[13 + n] = '\0';
	write_file(home, "index.json", deep);
	cr_expect(machine_index_list(home, &idx, &err) < 0);
	free(deep);

	snprintf(path, sizeof(path), "%s/index.json", home);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs("{\"projects\": [", f);
	for (int i = 0; i < 400000; i++)
		fprintf(f, "%s{\"root\": \"/p/%d\"}", i ? "," : "", i);
	fputs("]}", f);
	fclose(f);
	den_err_clear(&err);
	cr_expect(machine_index_list(home, &idx, &err) < 0);
	cr_expect(strstr(err.msg, "larger than") != NULL, "%s", err.msg);
	rm_rf(home);
	free(home);
}

Test(machine_index, damaged_entries_are_skipped_and_pruned)
{
	char *home = make_temp_dir();
	struct den_err err = { 0 };
	struct machine_index idx;
	size_t dropped = 0;

	write_file(home, "index.json",
		   "{\"projects\": [1, \"/x\", null, [], {}, {\"root\": 5},"
		   " {\"root\": \"relative\"}, {\"root\": \"/esc\\u001b[2J\"},"
		   " {\"root\": \"/p/a\", \"envfile\": 7},"
		   " {\"root\": \"/p/b\", \"envfile\": \"Envfile\"},"
		   " {\"root\": \"/ok/1\", \"envfile\": \"/ok/1/Envfile\"},"
		   " {\"root\": \"/ok/2\", \"envfile\": null, \"from\": \"a later den\"},"
		   " {\"root\": \"/ok/3\"}]}");
	cr_assert(machine_index_list(home, &idx, &err) == 0, "%s", err.msg);
	cr_assert_eq(idx.n, 3);
	cr_expect_str_eq(idx.v[0].root, "/ok/1");
	cr_expect_str_eq(idx.v[0].envfile, "/ok/1/Envfile");
	cr_expect_str_eq(idx.v[1].root, "/ok/2");
	cr_expect_null(idx.v[1].envfile);
	cr_expect_str_eq(idx.v[2].root, "/ok/3");
	cr_expect_eq(idx.skipped, 10);
	machine_index_free(&idx);

	cr_assert(machine_index_prune(home, keep_live, NULL, &dropped, &err) == 0, "%s", err.msg);
	cr_expect_eq(dropped, 10);
	cr_assert(machine_index_list(home, &idx, &err) == 0, "%s", err.msg);
	cr_expect_eq(idx.n, 3);
	cr_expect_eq(idx.skipped, 0);
	machine_index_free(&idx);
	char *text = slurp(home, "index.json");
	cr_expect(strstr(text, "a later den") != NULL, "a kept entry keeps its other fields");
	free(text);
	rm_rf(home);
	free(home);
}

Test(machine_index, add_moves_a_damaged_index_aside_and_never_follows_a_link)
{
	char *home = make_temp_dir(), link[4096], target[4096];
	struct den_err err = { 0 };
	struct machine_index idx;

	write_file(home, "index.json", "{ broken");
	cr_assert(machine_index_add(home, "/p/a", NULL, &err) == 0, "%s", err.msg);
	char *aside = slurp(home, "index.json.damaged");
	cr_expect_str_eq(aside, "{ broken", "what was there can still be read");
	free(aside);
	cr_assert(machine_index_list(home, &idx, &err) == 0, "%s", err.msg);
	cr_expect_eq(idx.n, 1);
	machine_index_free(&idx);

	write_file(home, "elsewhere", "{\"projects\": []}");
	snprintf(link, sizeof(link), "%s/index.json", home);
	snprintf(target, sizeof(target), "%s/elsewhere", home);
	unlink(link);
	cr_assert(symlink(target, link) == 0);
	cr_expect(machine_index_list(home, &idx, &err) < 0);
	cr_expect(strstr(err.msg, "a link") != NULL, "%s", err.msg);
	den_err_clear(&err);
	cr_assert(machine_index_add(home, "/p/b", NULL, &err) == 0, "%s", err.msg);
	char *t = slurp(home, "elsewhere");
	cr_expect_str_eq(t, "{\"projects\": []}", "the link's target is not written");
	free(t);
	cr_assert(machine_index_list(home, &idx, &err) == 0, "%s", err.msg);
	cr_expect(idx.n == 1 && strcmp(idx.v[0].root, "/p/b") == 0);
	machine_index_free(&idx);
	rm_rf(home);
	free(home);
}

Test(machine_index, a_path_list_would_skip_is_not_recorded)
{
	char *home = make_temp_dir();
	struct den_err err = { 0 };
	struct machine_index idx;

	cr_expect(machine_index_add(home, "/p/\x1b[2J", NULL, &err) == 0, "%s", err.msg);
	cr_expect(machine_index_add(home, "/p/\xff", NULL, &err) == 0, "%s", err.msg);
	cr_expect(machine_index_add(home, "relative", NULL, &err) == 0, "%s", err.msg);
	cr_assert(machine_index_list(home, &idx, &err) == 0, "%s", err.msg);
	cr_expect_eq(idx.n, 0);
	cr_expect_eq(idx.skipped, 0);
	machine_index_free(&idx);
	rm_rf(home);
	free(home);
}
