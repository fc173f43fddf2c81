/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "tests/helpers/testutil.h"

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.' || (e->d_name[1] && e->d_name[1] != '.');
	closedir(d);
	return n;
}

Test(fsutil, atomic_write_replaces_the_file_and_leaves_no_temporary)
{
	char *dir = make_temp_dir(), path[4096], *text = NULL;
	struct den_err err = { 0 };
	struct stat st;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	cr_assert(den_write_file_atomic(path, "{\"a\":1}", 0600, &err) == 0, "%s", err.msg);
	cr_assert(den_write_file_atomic(path, "{\"a\":2}", 0600, &err) == 0, "%s", err.msg);
	cr_assert(den_read_file(path, 1024, &text, NULL, &err) == 0);
	cr_expect_str_eq(text, "{\"a\":2}");
	cr_assert(stat(path, &st) == 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_expect_eq(count_entries(dir), 1, "no temporary file is left behind");
	free(text);
	rm_rf(dir);
	free(dir);
}

Test(fsutil, a_failed_write_keeps_the_old_file)
{
	char *dir = make_temp_dir(), path[8192], sub[4096], *text = NULL;
	struct den_err err = { 0 };

	snprintf(sub, sizeof(sub), "%s/ro", dir);
	cr_assert(mkdir(sub, 0755) == 0);
	snprintf(path, sizeof(path), "%s/f", sub);
	cr_assert(den_write_file_atomic(path, "old", 0644, &err) == 0);
	cr_assert(chmod(sub, 0555) == 0);
	if (geteuid() == 0) {
		/* root ignores folder permissions: make the rename target a folder instead. */
		cr_assert(chmod(sub, 0755) == 0);
		snprintf(path, sizeof(path), "%s/d", sub);
		cr_assert(mkdir(path, 0755) == 0);
		write_file(path, "inside", "x");
	}
	cr_expect(den_write_file_atomic(path, "new", 0644, &err) < 0);
	cr_expect(strstr(err.msg, "cannot write") != NULL, "%s", err.msg);
	chmod(sub, 0755);
	snprintf(path, sizeof(path), "%s/f", sub);
	cr_assert(den_read_file(path, 1024, &text, NULL, &err) == 0);
	cr_expect_str_eq(text, "old");
	cr_expect_eq(count_entries(sub), geteuid() == 0 ? 2 : 1, "no temporary file left");
	free(text);
	rm_rf(dir);
	free(dir);
}

Test(fsutil, read_file_refuses_files_over_the_limit)
{
	char *dir = make_temp_dir(), path[4096], *text = NULL;
	struct den_err err = { 0 };

	write_file(dir, "big", "0123456789");
	snprintf(path, sizeof(path), "%s/big", dir);
	cr_expect(den_read_file(path, 9, &text, NULL, &err) < 0);
	cr_expect(den_read_file(path, 10, &text, NULL, &err) == 0);
	free(text);
	rm_rf(dir);
	free(dir);
}

Test(fsutil, mkdir_p_makes_every_level_and_accepts_existing_ones)
{
	char *dir = make_temp_dir(), path[4096];
	struct den_err err = { 0 };
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	cr_assert(den_mkdir_p(path, 0755, &err) == 0, "%s", err.msg);
	cr_assert(den_mkdir_p(path, 0755, &err) == 0, "%s", err.msg);
	cr_expect(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	write_file(dir, "file", "x");
	snprintf(path, sizeof(path), "%s/file/sub", dir);
	cr_expect(den_mkdir_p(path, 0755, &err) < 0);
	rm_rf(dir);
	free(dir);
}

/* A log a machine wrote, as raw bytes. */
static void write_bytes(const char *dir, const char *name, const char *data, size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert(fwrite(data, 1, len, f) == len);
	fclose(f);
}

static bool has_raw_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return true;
	return false;
}

Test(fsutil, read_tail_gives_the_last_lines)
{
	char *dir = make_temp_dir(), path[4096], buf[1024];

	write_file(dir, "console.log", "one\ntwo\nthree\nfour\n");
	snprintf(path, sizeof(path), "%s/console.log", dir);
	den_read_tail(path, 2, buf, sizeof(buf));
	cr_expect_str_eq(buf, "three\nfour\n");
	den_read_tail(path, 10, buf, sizeof(buf));
	cr_expect_str_eq(buf, "one\ntwo\nthree\nfour\n");
	write_file(dir, "partial.log", "one\ntwo\nthree");
	snprintf(path, sizeof(path), "%s/partial.log", dir);
	den_read_tail(path, 2, buf, sizeof(buf));
	cr_expect_str_eq(buf, "two\nthree");
	snprintf(path, sizeof(path), "%s/missing.log", dir);
	den_read_tail(path, 2, buf, sizeof(buf));
	cr_expect_str_eq(buf, "");
	rm_rf(dir);
	free(dir);
}

Test(fsutil, read_tail_shows_control_characters_as_escapes)
{
	char *dir = make_temp_dir(), path[4096], buf[1024];
	/* A title change, a colour, a cursor move, CR, BEL, DEL, C1 CSI in UTF-8, a stray byte. */
	static const char log[] = "boot\n"
				  "\x1b]0;pwned\x07\x1b[31mred\x1b[0m\r\n"
				  "tab\there caf\xc3\xa9 \x7f \xc2\x9b"
				  "2J \xff end\n";

	write_bytes(dir, "console.log", log, sizeof(log) - 1);
	snprintf(path, sizeof(path), "%s/console.log", dir);
	den_read_tail(path, 2, buf, sizeof(buf));
	cr_expect_str_eq(buf, "\\x1b]0;pwned\\x07\\x1b[31mred\\x1b[0m\\x0d\n"
			      "tab\there caf\xc3\xa9 \\x7f \\xc2\\x9b2J \\xff end\n");
	cr_expect(!has_raw_control(buf));
	rm_rf(dir);
	free(dir);
}

Test(fsutil, read_tail_stays_within_the_buffer_and_keeps_the_end)
{
	char *dir = make_temp_dir(), path[4096], buf[64];
	char *big = malloc(200 << 10);
	size_t len = 0;

	cr_assert_not_null(big);
	/* 200 KiB of escape sequences (each shown 4 times as long), then the last line. */
	for (; len < (200 << 10) - 100; len++)
		big[len] = (len % 50 == 49) ? '\n' : '\x1b';
	len += (size_t)sprintf(big + len, "the last line\n");
	write_bytes(dir, "console.log", big, len);
	snprintf(path, sizeof(path), "%s/console.log", dir);
	memset(buf, 'X', sizeof(buf));
	den_read_tail(path, 6, buf, sizeof(buf));
	cr_expect(memchr(buf, '\0', sizeof(buf)) != NULL, "NUL-terminated within the buffer");
	cr_expect(strstr(buf, "the last line\n") != NULL, "the end is kept: %s", buf);
	cr_expect(!has_raw_control(buf), "%s", buf);
	char tiny[4];
	den_read_tail(path, 1, tiny, sizeof(tiny));
	cr_expect_str_eq(tiny, "ne\n", "what fits, from the end");
	free(big);
	rm_rf(dir);
	free(dir);
}

Test(fsutil, read_tail_does_not_follow_a_link)
{
	char *dir = make_temp_dir(), path[4096], target[4096], buf[256];

	write_file(dir, "secret", "host secret\n");
	snprintf(target, sizeof(target), "%s/secret", dir);
	snprintf(path, sizeof(path), "%s/console.log", dir);
	cr_assert(symlink(target, path) == 0);
	den_read_tail(path, 2, buf, sizeof(buf));
	cr_expect_str_eq(buf, "");
	rm_rf(dir);
	free(dir);
}

/* What decides whether a pid is still one of den's supervisors. */
Test(fsutil, proc_cmdline_gives_the_arguments_or_nothing)
{
	char buf[64];
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "5", (char *)NULL);
		_exit(127);
	}
	size_t n = 0;
	for (int i = 0; i < 200 && (n == 0 || strcmp(buf, "sleep") != 0); i++) {
		usleep(5000);
		n = den_proc_cmdline(pid, buf, sizeof(buf));
	}
	cr_expect_eq(n, strlen("sleep") + 1 + strlen("5") + 1);
	cr_expect_str_eq(buf, "sleep");
	cr_expect_str_eq(buf + 6, "5");
	cr_expect_eq(den_proc_cmdline(pid, buf, 4), 3, "cut to the buffer");
	cr_expect_eq(buf[3], '\0');
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_expect_eq(den_proc_cmdline(pid, buf, sizeof(buf)), 0, "a process that is gone");
	cr_expect_eq(den_proc_cmdline(0, buf, sizeof(buf)), 0);
}

Test(fsutil, rm_rf_removes_a_tree_without_following_its_links)
{
	char *dir = make_temp_dir(), *outside = make_temp_dir(), tree[4096], path[8192];
	struct den_err err = { 0 };

	write_file(outside, "keep/me", "host file\n");
	snprintf(tree, sizeof(tree), "%s/machine", dir);
	snprintf(path, sizeof(path), "%s/a/b/c", tree);
	cr_assert(den_mkdir_p(path, 0700, &err) == 0, "%s", err.msg);
	write_file(tree, "a/b/c/deep.txt", "x");
	write_file(tree, "top.txt", "y");
	snprintf(path, sizeof(path), "%s/a/b/to-outside", tree);
	cr_assert(symlink(outside, path) == 0);
	snprintf(path, sizeof(path), "%s/a/dangling", tree);
	cr_assert(symlink("/nonexistent/x", path) == 0);
	cr_assert(den_rm_rf(tree, &err) == 0, "%s", err.msg);
	cr_expect(access(tree, F_OK) < 0, "the tree is gone");
	snprintf(path, sizeof(path), "%s/keep/me", outside);
	cr_expect(access(path, F_OK) == 0, "what a link pointed to is kept");
	cr_expect(den_rm_rf(tree, &err) == 0, "a tree already gone is no error");
	rm_rf(dir);
	rm_rf(outside);
	free(dir);
	free(outside);
}

/* Writes text to a /proc file, in a child where Criterion's asserts cannot report. */
static bool put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* A mount inside the tree is not the tree's: refused, naming it, the mount's files kept. */
Test(fsutil, rm_rf_refuses_to_enter_a_mount)
{
	char *dir = make_temp_dir(), mnt[4096], path[8192];
	int st = 0;

	snprintf(mnt, sizeof(mnt), "%s/tree/mnt", dir);
	write_file(dir, "tree/mnt/.keep", "");
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct den_err err = { 0 };
		char map[64];
		int uid = (int)getuid(), gid = (int)getgid(), fd;
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			_exit(DEN_TEST_SKIP);
		snprintf(map, sizeof(map), "0 %d 1", uid);
		if (!put("/proc/self/uid_map", map) || !put("/proc/self/setgroups", "deny"))
			_exit(4);
		snprintf(map, sizeof(map), "0 %d 1", gid);
		if (!put("/proc/self/gid_map", map) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", mnt, "tmpfs", 0, NULL) < 0)
			_exit(5);
		snprintf(path, sizeof(path), "%s/inside.txt", mnt);
		if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) < 0)
			_exit(6);
		close(fd);
		snprintf(path, sizeof(path), "%s/tree", dir);
		if (den_rm_rf(path, &err) == 0)
			_exit(1);
		if (strstr(err.msg, "/tree/mnt is a mount point; unmount it") == NULL)
			_exit(2);
		snprintf(path, sizeof(path), "%s/inside.txt", mnt);
		_exit(access(path, F_OK) == 0 ? 0 : 3);
	}
	cr_assert(waitpid(pid, &st, 0) == pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == DEN_TEST_SKIP)
		cr_skip_test("no user and mount namespaces here");
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child ended with %d", st);
	rm_rf(dir);
	free(dir);
}
