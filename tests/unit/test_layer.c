/* SPDX-License-Identifier: MIT */
/* Image layers over lower layers: whiteouts, opaque folders, folders replaced (boxes/layer.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxes/layer.h"
#include "tests/helpers/testutil.h"

static char *root;

/* A root with lower layers' files in it, as the working folder (as unpack_layer has it). */
static void lower(void)
{
	root = make_temp_dir();
	write_file(root, "a/f", "lower\n");
	write_file(root, "a/d/x", "lower\n");
	write_file(root, "o/old", "lower\n");
	write_file(root, "o/sub/old", "lower\n");
	write_file(root, "p/inside", "lower\n");
	cr_assert(chdir(root) == 0);
}

static void cleanup(void)
{
	cr_assert(chdir("/") == 0);
	rm_rf(root);
	free(root);
}

static bool there(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* What unpack does with a member layer_entry said to unpack: write it. */
static void unpacked(struct layer *l, const char *path)
{
	struct den_err err = { 0 };

	cr_assert_eq(layer_entry(l, path, false, &err), 1, "%s: %s", path, err.msg);
	write_file(".", path, "upper\n");
}

TestSuite(layer, .init = lower, .fini = cleanup);

Test(layer, a_whiteout_removes_a_lower_file_and_a_lower_tree)
{
	struct layer *l = layer_new();
	struct den_err err = { 0 };

	cr_assert_eq(layer_entry(l, "a/.wh.f", false, &err), 0, "%s", err.msg);
	cr_assert_eq(layer_entry(l, "./a/.wh.d", false, &err), 0, "%s", err.msg);
	cr_assert(!there("a/f") && !there("a/d"));
	cr_assert(there("a"));
	/* A whiteout of what is not there is no error (a lower layer never had it). */
	cr_assert_eq(layer_entry(l, "nowhere/.wh.x", false, &err), 0, "%s", err.msg);
	layer_free(l);
}

Test(layer, an_opaque_folder_keeps_only_this_layers_entries_wherever_the_marker_comes)
{
	struct layer *l = layer_new();
	struct den_err err = { 0 };

	unpacked(l, "o/before");
	unpacked(l, "o/deep/er/file");
	cr_assert_eq(layer_entry(l, "o/.wh..wh..opq", false, &err), 0, "%s", err.msg);
	unpacked(l, "o/after");
	cr_assert(!there("o/old") && !there("o/sub"), "the lower layer's entries are gone");
	cr_assert(there("o/before") && there("o/deep/er/file") && there("o/after"));
	cr_assert(there("a/f"), "other folders are untouched");
	layer_free(l);
}

Test(layer, an_opaque_marker_at_the_top_empties_the_root_of_lower_entries)
{
	struct layer *l = layer_new();
	struct den_err err = { 0 };

	unpacked(l, "kept");
	cr_assert_eq(layer_entry(l, ".wh..wh..opq", false, &err), 0, "%s", err.msg);
	cr_assert(there("kept") && !there("a") && !there("o") && !there("p"));
	layer_free(l);
}

Test(layer, a_file_replaces_a_lower_folder)
{
	struct layer *l = layer_new();
	struct den_err err = { 0 };
	struct stat st;

	cr_assert_eq(layer_entry(l, "p", false, &err), 1, "%s", err.msg);
	cr_assert(!there("p"), "the folder is gone, for the file to take its place");
	cr_assert_eq(layer_entry(l, "a", true, &err), 1, "%s", err.msg);
	cr_assert(lstat("a/f", &st) == 0, "a folder over a folder merges");
	layer_free(l);
}

Test(layer, whiteouts_never_follow_a_lower_layers_symlink)
{
	char *outside = make_temp_dir();
	struct layer *l = layer_new();
	struct den_err err = { 0 };
	char rel[4200];

	write_file(outside, "victim", "host\n");
	cr_assert(symlink(outside, "abs") == 0);
	snprintf(rel, sizeof(rel), "../../../../../../../../..%s", outside);
	cr_assert(symlink(rel, "rel") == 0);
	cr_assert_eq(layer_entry(l, "abs/.wh.victim", false, &err), -1);
	cr_assert(strstr(err.msg, "symbolic link") != NULL, "%s", err.msg);
	den_err_clear(&err);
	cr_assert_eq(layer_entry(l, "rel/.wh.victim", false, &err), -1);
	cr_assert_eq(layer_entry(l, "abs/.wh..wh..opq", false, &err), -1);
	char victim[4200];
	snprintf(victim, sizeof(victim), "%s/victim", outside);
	cr_assert(there(victim), "nothing outside the root was removed");
	/* The link itself can be whited out: it is the lower layer's entry. */
	den_err_clear(&err);
	cr_assert_eq(layer_entry(l, ".wh.abs", false, &err), 0, "%s", err.msg);
	cr_assert(!there("abs") && there(victim));
	layer_free(l);
	rm_rf(outside);
	free(outside);
}

Test(layer, a_whiteout_that_names_nothing_is_refused)
{
	struct layer *l = layer_new();
	struct den_err err = { 0 };

	cr_assert_eq(layer_entry(l, "a/.wh.", false, &err), -1);
	cr_assert_eq(layer_entry(l, "a/.wh..", false, &err), -1);
	cr_assert(there("a/f"));
	/* aufs's own bookkeeping names are skipped, not applied. */
	den_err_clear(&err);
	cr_assert_eq(layer_entry(l, ".wh..wh.plnk", true, &err), 0, "%s", err.msg);
	cr_assert(there("a/f"));
	layer_free(l);
}
