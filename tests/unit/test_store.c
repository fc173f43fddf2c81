/* SPDX-License-Identifier: MIT */
/*
 * The box store and the choice of box for a machine (boxes/store.c,
 * boxes/store_list.c, boxes/resolve.c), offline: boxes put in with
 * store_install as `den box add` does, then found by name, version
 * constraint, provider and architecture; Envfile.lock pins; a missing box
 * says how to get one; a damaged or lying entry is never used.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boxes/catalog.h"
#include "boxes/lock.h"
#include "boxes/resolve.h"
#include "boxes/store.h"
#include "core/cleanup.h"
#include "tests/helpers/testutil.h"

static char *home;

static void setup(void)
{
	home = make_temp_dir();
}

static void teardown(void)
{
	rm_rf(home);
	free(home);
}

TestSuite(store, .init = setup, .fini = teardown);

/* Adds a small VM box (a qemu disk: no root file system to unpack) to the store. */
static void install(const char *name, const char *version, const char *provider, const char *arch,
		    const char *checksum)
{
	char *src = make_temp_dir(), meta[256], box[4096], cmd[8400];
	struct store_entry e;
	struct den_err err = { 0 };
	const struct box_id id = { name, version, provider, arch };
	const struct box_origin origin = { "https://boxes.example/x.box", checksum,
					   checksum ? "sha256" : NULL };

	snprintf(meta, sizeof(meta), "{\"provider\": \"%s\", \"architecture\": \"%s\"}", provider,
		 arch);
	write_file(src, "box/metadata.json", meta);
	write_file(src, "box/disk.img", "disk");
	snprintf(box, sizeof(box), "%s/b.box", src);
	snprintf(cmd, sizeof(cmd), "tar -C %s/box -czf %s .", src, box);
	cr_assert_eq(system(cmd), 0);
	cr_assert(store_install(home, &id, box, &origin, false, &e, &err) >= 0, "%s %s: %s", name,
		  version, err.msg);
	store_entry_free(&e);
	rm_rf(src);
	free(src);
}

/* Offline resolution, as `den up --offline` (no network here). */
static int resolve(const char *name, const char *constraint, const char *provider,
		   struct boxlock *lock, struct store_entry *out, struct den_err *err)
{
	const struct resolve_opts o = { .home = home, .offline = true };
	const struct box_want w = { name, constraint, provider, NULL, NULL };

	return box_resolve(&o, &w, lock, out, err);
}

static const char *resolved_version(const char *name, const char *constraint, const char *provider)
{
	static char version[64];
	struct store_entry e;
	struct den_err err = { 0 };

	if (resolve(name, constraint, provider, NULL, &e, &err) < 0)
		return NULL;
	snprintf(version, sizeof(version), "%s", e.version);
	store_entry_free(&e);
	return version;
}

Test(store, boxes_are_listed_by_name_then_newest_version_first)
{
	struct store_entry *list = NULL;
	size_t n = 0;
	struct den_err err = { 0 };

	install("den/debian-12", "1.2.0", "qemu", "amd64", NULL);
	install("den/debian-12", "1.10.0", "qemu", "amd64", NULL);
	install("den/debian-12", "1.9", "qemu", "amd64", NULL);
	install("acme/app", "0.1.0", "qemu", "amd64", NULL);
	cr_assert(store_list(home, &list, &n, &err) == 0, "%s", err.msg);
	cr_assert_eq(n, 4);
	cr_expect_str_eq(list[0].name, "acme/app");
	cr_expect_str_eq(list[1].version, "1.10.0", "1.10 is newer than 1.9: numbers, not text");
	cr_expect_str_eq(list[2].version, "1.9");
	cr_expect_str_eq(list[3].version, "1.2.0");
	cr_expect_str_eq(list[1].provider, "qemu");
	cr_expect_str_eq(list[1].arch, "amd64");
	cr_expect_str_eq(list[1].url, "https://boxes.example/x.box", "where it came from");
	cr_expect_eq(access(list[1].dir, F_OK), 0);
	store_list_free(list, n);
}

Test(store, an_empty_store_lists_nothing)
{
	struct store_entry *list = NULL;
	size_t n = 7;
	struct den_err err = { 0 };

	cr_assert(store_list(home, &list, &n, &err) == 0, "%s", err.msg);
	cr_expect_eq(n, 0);
	store_list_free(list, n);
}

Test(store, the_newest_installed_version_the_constraint_allows_is_chosen)
{
	install("den/debian-12", "1.2.0", "qemu", "amd64", NULL);
	install("den/debian-12", "1.2.7", "qemu", "amd64", NULL);
	install("den/debian-12", "1.10.0", "qemu", "amd64", NULL);
	install("den/debian-12", "2.0.0", "qemu", "amd64", NULL);
	cr_expect_str_eq(resolved_version("den/debian-12", NULL, "qemu"), "2.0.0");
	cr_expect_str_eq(resolved_version("den/debian-12", "~> 1.2", "qemu"), "1.10.0");
	cr_expect_str_eq(resolved_version("den/debian-12", "~> 1.2.0", "qemu"), "1.2.7");
	cr_expect_str_eq(resolved_version("den/debian-12", ">= 1.0, < 1.10, != 1.2.7", "qemu"),
			 "1.2.0");
	cr_expect_str_eq(resolved_version("den/debian-12", "= 1.10", "qemu"), "1.10.0",
			 "1.10 is 1.10.0");
	cr_expect_null(resolved_version("den/debian-12", "> 2.0", "qemu"));
}

Test(store, only_the_asked_name_provider_and_a_runnable_architecture_match)
{
	if (strcmp(box_host_arch(), "amd64") != 0)
		cr_skip_test("the boxes here are for amd64 hosts; this host is %s",
			     box_host_arch());
	install("den/debian-12", "1.0.0", "qemu", "amd64", NULL);
	install("den/debian-12", "3.0.0", "qemu", "arm64", NULL);
	install("den/debian-12", "2.0.0", "kvm", "amd64", NULL);
	install("den/debian-11", "9.0.0", "qemu", "amd64", NULL);
	install("den/debian", "9.0.0", "qemu", "amd64", NULL);
	cr_expect_str_eq(resolved_version("den/debian-12", NULL, "qemu"), "1.0.0",
			 "not another architecture's newer box, not another provider's");
	cr_expect_str_eq(resolved_version("den/debian-12", NULL, "kvm"), "2.0.0");
	cr_expect_null(resolved_version("den/debian-12", NULL, "container"));
	cr_expect_null(resolved_version("den/debian-1", NULL, "qemu"), "no prefix match");
	install("acme/any", "1.0.0", "qemu", "unknown", NULL);
	cr_expect_str_eq(resolved_version("acme/any", NULL, "qemu"), "1.0.0",
			 "a box of unknown architecture may run anywhere");
}

Test(store, a_missing_box_says_how_to_get_one)
{
	struct store_entry e;
	struct den_err err = { 0 };

	install("den/debian-12", "1.0.0", "qemu", "amd64", NULL);
	cr_expect(resolve("den/debian-12", ">= 2", "qemu", NULL, &e, &err) < 0);
	cr_expect(strstr(err.msg, "no box den/debian-12 >= 2 for provider qemu in the store") !=
			  NULL,
		  "%s", err.msg);
	cr_expect(strstr(err.msg, "den box add den/debian-12") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "den box build") != NULL, "%s", err.msg);
}

/* A store den cannot read is an error naming it, never "not installed" (and a download). */
Test(store, a_store_that_cannot_be_read_is_an_error_not_a_missing_box)
{
	struct store_entry e;
	struct den_err err = { 0 };
	char boxes[4096];

	snprintf(boxes, sizeof(boxes), "%s/boxes", home);
	cr_assert_eq(symlink("boxes", boxes), 0); /* a loop: opendir fails with ELOOP */
	cr_expect(resolve("den/debian-12", NULL, "qemu", NULL, &e, &err) < 0);
	cr_expect(strstr(err.msg, "cannot read the box store") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "no box") == NULL, "%s", err.msg);
}

Test(store, the_resolved_box_is_recorded_in_the_lock)
{
	struct store_entry e;
	struct den_err err = { 0 };
	struct boxlock lock = { 0 };
	char envfile[4096];

	snprintf(envfile, sizeof(envfile), "%s/Envfile", home);
	cr_assert(boxlock_read(envfile, &lock, &err) == 0);
	install("den/debian-12", "1.4.0", "qemu", "amd64", "c0ffee");
	cr_assert(resolve("den/debian-12", "~> 1.0", "qemu", &lock, &e, &err) == 0, "%s", err.msg);
	store_entry_free(&e);
	cr_expect(lock.changed);
	const struct lock_entry *le = boxlock_find(&lock, "den/debian-12", "qemu", "amd64");
	cr_assert_not_null(le);
	cr_expect_str_eq(le->version, "1.4.0");
	cr_expect_str_eq(le->constraint, "~> 1.0");
	cr_expect_str_eq(le->checksum, "c0ffee", "the lock names the bytes, not only a version");
	cr_expect_str_eq(le->url, "https://boxes.example/x.box");
	boxlock_free(&lock);
}

/* A lock of one entry for den/debian-12 (qemu, amd64) at version, with checksum. */
static void lock_at(struct boxlock *lock, const char *version, const char *checksum)
{
	const struct lock_entry le = { "den/debian-12", NULL,	  (char *)version, "qemu", "amd64",
				       "https://x",	"sha256", (char *)checksum };
	struct den_err err = { 0 };
	char envfile[4096];

	snprintf(envfile, sizeof(envfile), "%s/Envfile", home);
	cr_assert(boxlock_read(envfile, lock, &err) == 0);
	cr_assert(boxlock_set(lock, &le, &err) == 0);
	lock->changed = false;
}

Test(store, the_lock_pins_its_version_over_a_newer_one)
{
	struct store_entry e;
	struct den_err err = { 0 };
	struct boxlock lock;

	install("den/debian-12", "1.2.0", "qemu", "amd64", "aaaa");
	install("den/debian-12", "1.10.0", "qemu", "amd64", "bbbb");
	lock_at(&lock, "1.2.0", "aaaa");
	cr_assert(resolve("den/debian-12", "~> 1.0", "qemu", &lock, &e, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(e.version, "1.2.0", "the team's version, not the newest");
	cr_expect(!lock.changed);
	store_entry_free(&e);
	boxlock_free(&lock);

	/* A constraint that no longer allows the locked version: resolved afresh, lock updated. */
	lock_at(&lock, "1.2.0", "aaaa");
	cr_assert(resolve("den/debian-12", ">= 1.5", "qemu", &lock, &e, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(e.version, "1.10.0");
	cr_expect(lock.changed);
	cr_expect_str_eq(lock.e[0].version, "1.10.0");
	store_entry_free(&e);
	boxlock_free(&lock);
}

Test(store, a_locked_box_that_is_missing_or_different_is_never_swapped)
{
	struct store_entry e;
	struct den_err err = { 0 };
	struct boxlock lock;

	install("den/debian-12", "1.2.0", "qemu", "amd64", "aaaa");
	install("den/debian-12", "1.10.0", "qemu", "amd64", "bbbb");

	lock_at(&lock, "1.5.0", "cccc");
	cr_expect(resolve("den/debian-12", NULL, "qemu", &lock, &e, &err) < 0,
		  "not the newest one instead");
	cr_expect(strstr(err.msg, "box den/debian-12 1.5.0 (locked) is not in the store") != NULL,
		  "%s", err.msg);
	boxlock_free(&lock);

	/* Same version, other bytes (rebuilt, or tampered with): refused, with the way out. */
	lock_at(&lock, "1.2.0", "dddd");
	cr_expect(resolve("den/debian-12", NULL, "qemu", &lock, &e, &err) < 0);
	cr_expect(strstr(err.msg, "is not the one Envfile.lock names") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "den box remove den/debian-12 --box-version 1.2.0") != NULL, "%s",
		  err.msg);
	boxlock_free(&lock);
}

/* The folder of a box in the store. */
static char *box_dir(const char *name, const char *version)
{
	const struct box_id id = { name, version, "qemu", "amd64" };
	char *dir = store_box_dir(home, &id);

	cr_assert_not_null(dir);
	return dir;
}

Test(store, a_damaged_entry_is_not_used)
{
	struct store_entry *list = NULL;
	size_t n = 0;
	struct den_err err = { 0 };

	install("den/debian-12", "1.0.0", "qemu", "amd64", NULL);
	install("den/debian-12", "2.0.0", "qemu", "amd64", NULL);
	install("den/debian-12", "3.0.0", "qemu", "amd64", NULL);
	cleanup_free char *two = box_dir("den/debian-12", "2.0.0"),
			  *three = box_dir("den/debian-12", "3.0.0");
	char record[4200];

	write_file(two, "box.json", "{\"name\": \"den/debian-12\", \"vers"); /* cut short */
	snprintf(record, sizeof(record), "%s/box.json", three);
	cr_assert(remove(record) == 0); /* a half-removed box */
	cr_expect_str_eq(resolved_version("den/debian-12", NULL, "qemu"), "1.0.0");
	cr_assert(store_list(home, &list, &n, &err) == 0, "%s", err.msg);
	cr_expect_eq(n, 1, "neither damaged box is listed");
	store_list_free(list, n);
}

Test(store, an_entry_whose_record_names_another_box_is_not_used)
{
	struct store_entry *list = NULL;
	size_t n = 0;
	struct den_err err = { 0 };

	install("den/debian-12", "1.0.0", "qemu", "amd64", NULL);
	install("den/debian-12", "1.1.0", "qemu", "amd64", NULL);
	cleanup_free char *dir = box_dir("den/debian-12", "1.1.0");
	/* Its record claims a newer version (or another box) than the folder holds. */
	write_file(dir, "box.json",
		   "{\"name\": \"den/debian-12\", \"version\": \"9.9.9\", \"provider\": \"qemu\", "
		   "\"architecture\": \"amd64\"}");
	cr_expect_str_eq(resolved_version("den/debian-12", NULL, "qemu"), "1.0.0",
			 "not 9.9.9, which is not in the store");
	write_file(dir, "box.json",
		   "{\"name\": \"../../../x\", \"version\": \"1.1.0\", \"provider\": \"qemu\", "
		   "\"architecture\": \"amd64\"}");
	cr_assert(store_list(home, &list, &n, &err) == 0, "%s", err.msg);
	cr_expect_eq(n, 1);
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(list[i].name, "den/debian-12");
	store_list_free(list, n);
}

Test(store, box_parts_that_are_not_plain_names_have_no_folder)
{
	const char *bad[] = { "..", ".hidden", "a/b", "../../etc", "", "1.0\n", "x y" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct box_id v = { "den/debian-12", bad[i], "qemu", "amd64" };
		const struct box_id p = { "den/debian-12", "1.0.0", bad[i], "amd64" };
		const struct box_id a = { "den/debian-12", "1.0.0", "qemu", bad[i] };
		cr_expect_null(store_box_dir(home, &v), "version '%s'", bad[i]);
		cr_expect_null(store_box_dir(home, &p), "provider '%s'", bad[i]);
		cr_expect_null(store_box_dir(home, &a), "architecture '%s'", bad[i]);
	}
	cr_expect(!box_name_valid("../etc"));
	cr_expect(!box_name_valid("den/../../etc"));
	cr_expect(!box_name_valid("a/b/c"));
	cr_expect(box_name_valid("den/debian-12"));
	cr_expect(box_name_valid("debian-12"));
	const struct box_id bare = { "debian-12", "1.0.0", "qemu", "amd64" };
	cleanup_free char *dir = store_box_dir(home, &bare);
	cleanup_free char *want = NULL;
	cr_assert(asprintf(&want, "%s/boxes/_/debian-12/1.0.0/qemu-amd64", home) > 0);
	cr_expect_str_eq(dir, want, "a name without an org lives under _/");
}
