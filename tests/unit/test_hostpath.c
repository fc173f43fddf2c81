/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hostpath.h"
#include "tests/helpers/testutil.h"

/*
 * A project as a machine could leave it: conf/app.conf is real, link is a
 * symlink to a folder outside holding a secret, secret.txt a symlink to
 * that secret file, alias a symlink to conf inside the project.
 */
static char *dir, proj[4096], outside[4096];

static void make_project(void)
{
	char p[8192], t[8192];

	dir = make_temp_dir();
	snprintf(proj, sizeof(proj), "%s/proj", dir);
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	cr_assert(mkdir(proj, 0755) == 0 && mkdir(outside, 0755) == 0);
	write_file(proj, "conf/app.conf", "port=80\n");
	write_file(outside, "secret", "s3cret\n");
	snprintf(p, sizeof(p), "%s/link", proj);
	cr_assert(symlink(outside, p) == 0);
	snprintf(p, sizeof(p), "%s/secret.txt", proj);
	snprintf(t, sizeof(t), "%s/secret", outside);
	cr_assert(symlink(t, p) == 0);
	snprintf(p, sizeof(p), "%s/alias", proj);
	cr_assert(symlink("conf", p) == 0);
}

static void remove_project(void)
{
	rm_rf(dir);
	free(dir);
}

static mode_t type_of(const struct hostpath *hp)
{
	struct stat st;

	cr_assert(fstatat(hp->dir_fd, hp->name, &st, AT_SYMLINK_NOFOLLOW) == 0, "%s", hp->name);
	return st.st_mode & S_IFMT;
}

TestSuite(hostpath, .init = make_project, .fini = remove_project);

Test(hostpath, a_project_file_resolves_to_its_folder_and_name)
{
	struct hostpath hp;
	struct den_err err = { 0 };

	cr_assert(hostpath_resolve(proj, "conf/app.conf", 0, &hp, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(hp.name, "app.conf");
	cr_expect_eq(type_of(&hp), S_IFREG);
	hostpath_release(&hp);
	cr_expect_eq(hp.dir_fd, -1);
}

Test(hostpath, a_symlink_on_the_way_is_refused_and_named)
{
	struct hostpath hp;
	struct den_err err = { 0 };

	cr_expect(hostpath_resolve(proj, "link/secret", 0, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "link/secret: link is a symlink") != NULL, "%s", err.msg);
	cr_expect_eq(hp.dir_fd, -1);
	err = (struct den_err){ 0 };
	cr_expect(hostpath_resolve(proj, "alias/app.conf", 0, &hp, &err) < 0,
		  "a link that stays in the project is refused too");
	cr_expect(strstr(err.msg, "alias is a symlink") != NULL, "%s", err.msg);
}

Test(hostpath, a_symlink_deeper_down_is_named_as_written)
{
	char p[8192], abs[8192];
	struct hostpath hp;
	struct den_err err = { 0 };

	write_file(proj, "a/b/c/f", "x");
	snprintf(p, sizeof(p), "%s/a/b/c", proj);
	rm_rf(p);
	cr_assert(symlink("/proc/self", p) == 0);
	cr_expect(hostpath_resolve(proj, "./a/b/c/environ", 0, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "./a/b/c is a symlink") != NULL, "%s", err.msg);
	snprintf(abs, sizeof(abs), "%s/a/b/c/environ", proj);
	err = (struct den_err){ 0 };
	cr_expect(hostpath_resolve(proj, abs, 0, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "/a/b/c is a symlink") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, proj) != NULL, "the absolute path is shown: %s", err.msg);
}

Test(hostpath, the_last_component_is_left_unfollowed)
{
	struct hostpath hp;
	struct den_err err = { 0 };

	cr_assert(hostpath_resolve(proj, "secret.txt", 0, &hp, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(hp.name, "secret.txt");
	cr_expect_eq(type_of(&hp), S_IFLNK, "the caller sees the symlink, not the secret");
	hostpath_release(&hp);
	cr_assert(hostpath_resolve(proj, "link", 0, &hp, &err) == 0, "%s", err.msg);
	cr_expect_eq(type_of(&hp), S_IFLNK);
	hostpath_release(&hp);
}

Test(hostpath, dot_dot_cannot_climb_out_of_the_project)
{
	struct hostpath hp;
	struct den_err err = { 0 };
	char abs[8192];

	cr_expect(hostpath_resolve(proj, "../outside/secret", 0, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "outside the project") != NULL, "%s", err.msg);
	snprintf(abs, sizeof(abs), "%s/../outside/secret", proj);
	err = (struct den_err){ 0 };
	cr_expect(hostpath_resolve(proj, abs, 0, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "outside the project") != NULL, "%s", err.msg);
	err = (struct den_err){ 0 };
	cr_expect(hostpath_resolve(proj, "..", 0, &hp, &err) < 0);
	cr_assert(hostpath_resolve(proj, "conf/../conf/app.conf", 0, &hp, &err) == 0, "%s",
		  err.msg);
	cr_expect_eq(type_of(&hp), S_IFREG, "inside, .. is fine");
	hostpath_release(&hp);
}

Test(hostpath, a_folder_named_with_dots_or_slashes_is_the_folder_itself)
{
	struct hostpath hp;
	struct den_err err = { 0 };
	struct stat a, b;
	char p[8192];

	const char *forms[] = { "conf/", "conf/.", "conf//", "conf/x/..", "." };
	write_file(proj, "conf/x/y", "y");
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		cr_assert(hostpath_resolve(proj, forms[i], 0, &hp, &err) == 0, "%s: %s", forms[i],
			  err.msg);
		cr_expect_eq(type_of(&hp), S_IFDIR, "%s", forms[i]);
		cr_assert(fstatat(hp.dir_fd, hp.name, &a, 0) == 0);
		snprintf(p, sizeof(p), "%s/%s", proj, i == 4 ? "" : "conf");
		cr_assert(stat(p, &b) == 0);
		cr_expect(a.st_ino == b.st_ino, "%s is the folder", forms[i]);
		hostpath_release(&hp);
	}
}

Test(hostpath, an_absolute_path_in_the_project_may_have_links_above_the_project)
{
	char alias[4096], p[8192];
	struct hostpath hp;
	struct den_err err = { 0 };

	/* The user's own layout: the project reached through a symlink (/home -> /var/home). */
	snprintf(alias, sizeof(alias), "%s/alias-home", dir);
	cr_assert(symlink(proj, alias) == 0);
	snprintf(p, sizeof(p), "%s/conf/app.conf", alias);
	cr_assert(hostpath_resolve(alias, p, 0, &hp, &err) == 0, "%s", err.msg);
	cr_expect_eq(type_of(&hp), S_IFREG);
	hostpath_release(&hp);
	/* Outside the project, every component counts. */
	err = (struct den_err){ 0 };
	cr_expect(hostpath_resolve(outside, p, 0, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "alias-home is a symlink") != NULL, "%s", err.msg);
}

Test(hostpath, from_the_current_folder_the_same_rules_hold)
{
	struct hostpath hp;
	struct den_err err = { 0 };

	cr_assert(chdir(proj) == 0);
	cr_assert(hostpath_resolve(proj, "conf/app.conf", HOSTPATH_FROM_CWD, &hp, &err) == 0, "%s",
		  err.msg);
	hostpath_release(&hp);
	cr_expect(hostpath_resolve(proj, "link/secret", HOSTPATH_FROM_CWD, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "link is a symlink") != NULL, "%s", err.msg);
	/* The user may name a file outside the project, by a path without links. */
	cr_assert(chdir("conf") == 0);
	err = (struct den_err){ 0 };
	cr_assert(hostpath_resolve(proj, "../../outside/secret", HOSTPATH_FROM_CWD, &hp, &err) == 0,
		  "%s", err.msg);
	cr_expect_eq(type_of(&hp), S_IFREG);
	hostpath_release(&hp);
	cr_expect(hostpath_resolve(NULL, "../link/secret", HOSTPATH_FROM_CWD, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "../link is a symlink") != NULL, "%s", err.msg);
}

Test(hostpath, a_missing_path_says_so)
{
	struct hostpath hp;
	struct den_err err = { 0 };

	cr_expect(hostpath_resolve(proj, "nope/app.conf", 0, &hp, &err) < 0);
	cr_expect(strstr(err.msg, "cannot read nope/app.conf") != NULL, "%s", err.msg);
	cr_expect_eq(err.errno_, ENOENT);
}
