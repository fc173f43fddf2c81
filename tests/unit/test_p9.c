/* SPDX-License-Identifier: MIT */
/*
 * The 9P2000.L server (providers/kvm/p9.h) driven with real messages over
 * a temporary folder (tests/helpers/p9client.h): round trips checked on
 * the host, the mapped-xattr ownership, xattrs, a read-only share, locks.
 * test_p9_hostile.c has the ways out and the malformed messages.
 */
#include <sys/sysmacros.h>

#include "providers/vm_shares.h"
#include "tests/helpers/p9client.h"

TestSuite(p9, .init = setup, .fini = teardown);

Test(p9, files_round_trip_and_land_on_the_host)
{
	char host[1200], buf[64], list[1024];
	uint32_t got;
	struct attr a;

	cr_assert_eq(walk(ROOT, 1, NULL), 0, "a clone");
	cr_assert_eq(lcreate(1, "hello.txt", 2 /* RDWR */, 0644, 1000), 0);
	cr_assert_eq(write_at(1, 0, "hello world", 11), 0);
	cr_assert_eq(read_at(1, 6, 100, buf, &got), 0);
	cr_expect_eq(got, 5);
	cr_expect_eq(memcmp(buf, "world", 5), 0);
	cr_assert_eq(getattr(1, &a), 0);
	cr_expect_eq(a.size, 11);
	cr_expect_eq(clunk(1), 0);
	host_path(host, sizeof(host), "hello.txt");
	FILE *f = fopen(host, "r");
	cr_assert_not_null(f);
	cr_expect_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_expect_str_eq(buf, "hello world");

	cr_assert_eq(mkdir_in(ROOT, "d", 0755, 1000), 0);
	cr_assert_eq(walk(ROOT, 2, NULL), 0);
	cr_assert_eq(lopen(2, 0200000 /* DIRECTORY */), 0);
	cr_assert_eq(readdir_all(2, list, sizeof(list)), 0);
	cr_expect(strstr(list, "hello.txt ") != NULL, "%s", list);
	cr_expect(strstr(list, "d ") != NULL, "%s", list);
	cr_expect_eq(clunk(2), 0);

	cr_assert_eq(walk(ROOT, 3, "d", NULL), 0);
	cr_expect_eq(nwqid, 1);
	cr_expect_eq(qids[0].type, 0x80, "a directory's qid");
	cr_assert_eq(renameat_(ROOT, "hello.txt", 3, "greeting.txt"), 0);
	host_path(host, sizeof(host), "d/greeting.txt");
	cr_expect(access(host, F_OK) == 0, "renamed on the host");
	cr_assert_eq(symlink_(3, "ln", "../somewhere/else"), 0);
	cr_assert_eq(walk(3, 4, "ln", NULL), 0);
	cr_expect_eq(qids[0].type, 0x02, "a symlink's qid");
	cr_assert_eq(readlink_(4, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "../somewhere/else");
	char target[64] = "";
	host_path(host, sizeof(host), "d/ln");
	cr_expect_gt(readlink(host, target, sizeof(target) - 1), 0);
	cr_expect_str_eq(target, "../somewhere/else", "a real host symlink");
	cr_assert_eq(unlinkat_(3, "greeting.txt", 0), 0);
	host_path(host, sizeof(host), "d/greeting.txt");
	cr_expect(access(host, F_OK) < 0, "unlinked on the host");
	cr_expect_eq(unlinkat_(ROOT, "d", 0x200), ENOTEMPTY);
	cr_expect_eq(unlinkat_(3, "ln", 0), 0);
	cr_expect_eq(unlinkat_(ROOT, "d", 0x200), 0, "AT_REMOVEDIR");
	cr_expect_eq(walk(ROOT, 5, "d", NULL), ENOENT);
}

/* Links keep no xattrs: they are the share's owner's, so that user can touch and remove them. */
Test(p9, a_symlink_is_the_share_owners_inside)
{
	struct attr a;

	cr_assert_eq(setattr(ROOT, 0x6, 0, 1000, 1000, 0), 0, "the share's root to 1000:1000");
	cr_assert_eq(symlink_(ROOT, "ln", "target"), 0);
	cr_assert_eq(walk(ROOT, 1, "ln", NULL), 0);
	cr_assert_eq(getattr(1, &a), 0);
	cr_expect_eq(a.mode & S_IFMT, S_IFLNK);
	cr_expect_eq(a.uid, 1000, "the share's owner, not the host's");
	cr_expect_eq(a.gid, 1000);
	cr_expect_eq(setattr(1, 0x30, 0, 0, 0, 0), 0, "times on a link: accepted, nothing changed");
}

Test(p9, a_hard_link_and_a_write_through_it)
{
	char host[1200];
	struct stat st;

	cr_assert_eq(walk(ROOT, 1, NULL), 0);
	cr_assert_eq(lcreate(1, "a", 1, 0644, 0), 0);
	cr_assert_eq(link_(ROOT, 1, "b"), 0);
	host_path(host, sizeof(host), "b");
	cr_assert(stat(host, &st) == 0);
	cr_expect_eq(st.st_nlink, 2);
	cr_expect_eq(link_(ROOT, ROOT, "c"), EPERM, "no hard link to a directory");
}

static uint32_t host_xattr_u32(const char *rel, const char *name)
{
	char host[1200];
	uint8_t b[4];

	host_path(host, sizeof(host), rel);
	cr_assert_eq(getxattr(host, name, b, 4), 4, "%s on %s", name, rel);
	return (uint32_t)(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24);
}

Test(p9, the_guest_owns_what_it_makes_in_xattrs_never_on_the_host)
{
	char host[1200];
	struct stat st;
	struct attr a;

	cr_assert_eq(walk(ROOT, 1, NULL), 0);
	cr_assert_eq(lcreate(1, "suid", 2, 04755, 1234), 0);
	host_path(host, sizeof(host), "suid");
	cr_assert(stat(host, &st) == 0);
	cr_expect_eq(st.st_uid, getuid(), "the VMM's user owns it on the host");
	cr_expect_eq(st.st_mode & 07777, 0755, "rwx kept, setuid never reaches the host");
	cr_expect_eq(host_xattr_u32("suid", "user.virtfs.uid"), GUEST_UID, "QEMU's format");
	cr_expect_eq(host_xattr_u32("suid", "user.virtfs.gid"), 1234);
	cr_expect_eq(host_xattr_u32("suid", "user.virtfs.mode"), S_IFREG | 04755);
	cr_assert_eq(getattr(1, &a), 0);
	cr_expect_eq(a.uid, GUEST_UID);
	cr_expect_eq(a.gid, 1234);
	cr_expect_eq(a.mode, S_IFREG | 04755, "the guest sees its setuid bit");

	cr_assert_eq(setattr(1, 0x2 | 0x4, 0, 2000, 3000, 0), 0, "chown");
	cr_assert(stat(host, &st) == 0);
	cr_expect_eq(st.st_uid, getuid(), "the host owner is unchanged");
	cr_expect_eq(host_xattr_u32("suid", "user.virtfs.uid"), 2000);
	cr_assert_eq(getattr(1, &a), 0);
	cr_expect_eq(a.uid, 2000);
	cr_expect_eq(a.gid, 3000);
	cr_assert_eq(setattr(1, 0x1, 06000, 0, 0, 0), 0, "chmod 6000");
	cr_assert(stat(host, &st) == 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "the owner keeps rw on the host");
	cr_assert_eq(getattr(1, &a), 0);
	cr_expect_eq(a.mode, S_IFREG | 06000);
	cr_assert_eq(setattr(1, 0x8, 0, 0, 0, 3), 0, "truncate");
	cr_assert(stat(host, &st) == 0);
	cr_expect_eq(st.st_size, 3);

	cr_assert_eq(mkdir_in(ROOT, "sticky", 01777, 5), 0);
	host_path(host, sizeof(host), "sticky");
	cr_assert(stat(host, &st) == 0);
	cr_expect_eq(st.st_mode & 07777, 0755,
		     "no sticky bit, and no write for others, on the host");
	cr_expect_eq(host_xattr_u32("sticky", "user.virtfs.mode"), S_IFDIR | 01777);

	cr_assert_eq(mknod_(ROOT, "null", S_IFCHR | 0666, 1, 3), 0);
	host_path(host, sizeof(host), "null");
	cr_assert(lstat(host, &st) == 0);
	cr_expect(S_ISREG(st.st_mode), "a device node is a plain file on the host");
	cr_expect_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(walk(ROOT, 2, "null", NULL), 0);
	cr_assert_eq(getattr(2, &a), 0);
	cr_expect_eq(a.mode, S_IFCHR | 0666);
	cr_expect_eq(a.rdev, makedev(1, 3));
	cr_expect_eq(lopen(2, 0), 0, "it opens as the plain file it is on the host");
}

Test(p9, host_files_keep_their_owner_and_show_it)
{
	char host[1200];
	struct attr a;
	struct stat st;

	write_file(share, "mine", "x");
	host_path(host, sizeof(host), "mine");
	cr_assert(chmod(host, 0640) == 0 && stat(host, &st) == 0);
	cr_assert_eq(walk(ROOT, 1, "mine", NULL), 0);
	cr_assert_eq(getattr(1, &a), 0);
	cr_expect_eq(a.uid, st.st_uid);
	cr_expect_eq(a.mode, S_IFREG | 0640);
	cr_expect_eq(a.ino, st.st_ino);
}

Test(p9, the_guest_cannot_touch_the_ownership_xattrs_or_the_hosts_namespaces)
{
	char host[1200], list[256];
	uint64_t size;
	uint32_t got;

	cr_assert_eq(walk(ROOT, 1, NULL), 0);
	cr_assert_eq(lcreate(1, "f", 2, 0644, 0), 0);
	cr_assert_eq(clunk(1), 0);
	cr_assert_eq(walk(ROOT, 1, "f", NULL), 0);
	cr_expect_eq(xattrcreate(1, "user.virtfs.uid", 4, 0), EPERM);
	cr_expect_eq(xattrcreate(1, "user.virtfs.mode", 4, 0), EPERM);
	cr_expect_eq(xattrcreate(1, "trusted.overlay.opaque", 1, 0), EOPNOTSUPP);
	cr_expect_eq(xattrcreate(1, "security.capability", 4, 0), EOPNOTSUPP);
	cr_expect_eq(xattrwalk(1, 2, "user.virtfs.mode", &size), ENODATA, "hidden");
	host_path(host, sizeof(host), "f");
	bool trusted = setxattr(host, "trusted.den", "t", 1, 0) == 0; /* root only */
	cr_expect_eq(xattrwalk(1, 2, "trusted.den", &size), ENODATA, "the host's, not the guest's");
	/* A user xattr round trip: set by write and clunk, seen on the host, listed. */
	cr_assert_eq(xattrcreate(1, "user.mine", 3, 0), 0);
	cr_assert_eq(write_at(1, 0, "abc", 3), 0);
	cr_assert_eq(clunk(1), 0);
	char v[8] = "";
	cr_expect_eq(getxattr(host, "user.mine", v, sizeof(v)), 3);
	cr_expect_str_eq(v, "abc");
	cr_assert_eq(walk(ROOT, 1, "f", NULL), 0);
	cr_assert_eq(xattrwalk(1, 2, "", &size), 0);
	cr_assert_eq(read_at(2, 0, 256, list, &got), 0);
	cr_expect_eq(got, size);
	cr_expect_eq(got, strlen("user.mine") + 1, "only user.mine, no user.virtfs.*%s",
		     trusted ? " nor trusted.den" : "");
	cr_expect_str_eq(list, "user.mine");
	cr_assert_eq(clunk(2), 0);
	cr_assert_eq(xattrwalk(1, 2, "user.mine", &size), 0);
	cr_expect_eq(size, 3);
	cr_assert_eq(read_at(2, 0, 16, v, &got), 0);
	cr_expect_eq(memcmp(v, "abc", 3), 0);
	cr_expect_eq(host_xattr_u32("f", "user.virtfs.uid"), GUEST_UID, "ownership untouched");
}

Test(p9, a_read_only_share_refuses_every_write)
{
	char buf[16];
	uint32_t got;

	write_file(share, "f", "data");
	p9_server_free(srv);
	start(true);
	cr_assert_eq(walk(ROOT, 1, "f", NULL), 0);
	cr_expect_eq(lopen(1, 1), EROFS);
	cr_expect_eq(lopen(1, 01000), EROFS, "O_TRUNC");
	cr_assert_eq(lopen(1, 0), 0);
	cr_assert_eq(read_at(1, 0, 16, buf, &got), 0);
	cr_expect_eq(got, 4);
	cr_expect_eq(lcreate(ROOT, "new", 1, 0644, 0), EROFS);
	cr_expect_eq(mkdir_in(ROOT, "new", 0755, 0), EROFS);
	cr_expect_eq(unlinkat_(ROOT, "f", 0), EROFS);
	cr_expect_eq(renameat_(ROOT, "f", ROOT, "g"), EROFS);
	cr_expect_eq(symlink_(ROOT, "l", "f"), EROFS);
	cr_expect_eq(setattr(1, 0x8, 0, 0, 0, 0), EROFS);
	cr_expect_eq(xattrcreate(1, "user.x", 1, 0), EROFS);
	char host[1200];
	host_path(host, sizeof(host), "f");
	cr_expect(access(host, F_OK) == 0);
}

Test(p9, xattr_values_are_bounded)
{
	cr_assert_eq(walk(ROOT, 1, NULL), 0);
	cr_expect_eq(xattrcreate(1, "user.big", 1u << 30, 0), E2BIG);
	cr_assert_eq(xattrcreate(1, "user.small", 4, 0), 0);
	cr_expect_eq(write_at(1, 0, "toolong", 7), ENOSPC);
	cr_expect_eq(write_at(1, 2, "ab", 2), EINVAL, "in order");
	cr_expect_eq(clunk(1), EINVAL, "clunked before the value came whole");
}

Test(p9, locks_are_granted_without_a_host_lock)
{
	cr_assert_eq(walk(ROOT, 1, NULL), 0);
	cr_assert_eq(lcreate(1, "locked", 2, 0644, 0), 0);
	p9m_begin(&m, P9M_TLOCK, 50);
	p9m_u32(&m, 1);
	p9m_u8(&m, 1); /* F_WRLCK */
	p9m_u32(&m, 1);
	p9m_u64(&m, 0);
	p9m_u64(&m, 0);
	p9m_u32(&m, 42);
	p9m_str(&m, "guest");
	cr_assert_eq(result(P9M_TLOCK), 0);
	cr_expect_eq(p9r_u8(&r), 0, "P9_LOCK_SUCCESS");
	p9m_begin(&m, P9M_TGETLOCK, 51);
	p9m_u32(&m, 1);
	p9m_u8(&m, 0);
	p9m_u64(&m, 10);
	p9m_u64(&m, 20);
	p9m_u32(&m, 42);
	p9m_str(&m, "guest");
	cr_assert_eq(result(P9M_TGETLOCK), 0);
	cr_expect_eq(p9r_u8(&r), 2, "F_UNLCK: nothing conflicts");
	cr_expect_eq(p9r_u64(&r), 10);
	cr_expect_eq(p9r_u64(&r), 20);
}

Test(p9, a_writable_folder_here_keeps_user_xattrs)
{
	struct den_err err = { 0 };

	int fd = open(share, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_expect_eq(vm_folder_keeps_xattrs(fd, share, &err), 1, "%s", err.msg);
	close(fd);
	char list[1024];
	cr_assert_eq(walk(ROOT, 1, NULL), 0);
	cr_assert_eq(lopen(1, 0), 0);
	cr_assert_eq(readdir_all(1, list, sizeof(list)), 0);
	cr_expect(strcmp(list, ". .. ") == 0 || strcmp(list, ".. . ") == 0,
		  "the probe left nothing behind: %s", list);
	cr_expect_lt(vm_folder_keeps_xattrs(-1, "/nonexistent/den", &err), 0);
}
