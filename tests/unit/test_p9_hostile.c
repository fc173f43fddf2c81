/* SPDX-License-Identifier: MIT */
/*
 * The 9P2000.L server as a hostile guest drives it: every way out of the
 * shared folder we know of (.., names with '/', symlinks planted on the
 * host, folders renamed under held fids), with the sentinel folder beside
 * the share checked untouched; and malformed, oversized and endless
 * requests, each answered with an Rlerror while the server goes on.
 */
#include <sys/resource.h>

#include "tests/helpers/p9client.h"

TestSuite(p9_hostile, .init = setup, .fini = teardown);

Test(p9_hostile, dot_dot_never_leaves_the_root)
{
	struct attr root, a;

	cr_assert_eq(getattr(ROOT, &root), 0);
	cr_assert_eq(walk(ROOT, 1, "..", NULL), 0);
	cr_assert_eq(getattr(1, &a), 0);
	cr_expect_eq(a.ino, root.ino, ".. of the root is the root");
	cr_assert_eq(walk(ROOT, 2, "..", "..", "..", NULL), 0);
	cr_assert_eq(getattr(2, &a), 0);
	cr_expect_eq(a.ino, root.ino);
	cr_expect_eq(walk(ROOT, 3, "..", "sentinel", NULL), 0, "a partial walk");
	cr_expect_eq(nwqid, 1, "the sentinel is not there to walk to");
	cr_expect_eq(getattr(3, &a), EBADF, "and no fid was made");
	cr_expect_eq(walk(ROOT, 3, "..", "..", "sentinel", "secret", NULL), 0);
	cr_expect_eq(nwqid, 2);
	expect_sentinel_intact();
}

Test(p9_hostile, names_are_one_component)
{
	const char *bad[] = { "../sentinel", "a/b", "/etc", "/", "", "x/..", "sentinel/" };

	cr_assert_eq(mkdir_in(ROOT, "a", 0755, 0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(walk(ROOT, 1, bad[i], NULL), EINVAL, "walk '%s'", bad[i]);
		cr_expect_eq(lcreate(ROOT, bad[i], 1, 0644, 0), EINVAL, "lcreate '%s'", bad[i]);
		cr_expect_eq(mkdir_in(ROOT, bad[i], 0755, 0), EINVAL, "mkdir '%s'", bad[i]);
		cr_expect_eq(symlink_(ROOT, bad[i], "x"), EINVAL, "symlink '%s'", bad[i]);
		cr_expect_eq(renameat_(ROOT, "a", ROOT, bad[i]), EINVAL, "renameat to '%s'",
			     bad[i]);
		cr_expect_eq(unlinkat_(ROOT, bad[i], 0), EINVAL, "unlinkat '%s'", bad[i]);
	}
	cr_expect_eq(lcreate(ROOT, "..", 1, 0644, 0), EINVAL);
	cr_expect_eq(unlinkat_(ROOT, "..", 0x200), EINVAL);
	cr_expect_eq(renameat_(ROOT, "..", ROOT, "b"), EINVAL);
	/* A name with a NUL in it would be cut short by the host's calls. */
	p9m_begin(&m, P9M_TWALK, 2);
	p9m_u32(&m, ROOT);
	p9m_u32(&m, 1);
	p9m_u16(&m, 1);
	p9m_u16(&m, 4);
	p9m_bytes(&m, "a\0xy", 4);
	cr_expect_eq(result(P9M_TWALK), EINVAL);
	expect_sentinel_intact();
}

Test(p9_hostile, a_planted_symlink_is_never_followed)
{
	char host[1200], target[1200];
	uint32_t got;
	char buf[64];

	snprintf(target, sizeof(target), "%s/secret", sentinel);
	host_path(host, sizeof(host), "to_secret");
	cr_assert(symlink(target, host) == 0);
	host_path(host, sizeof(host), "to_dir");
	cr_assert(symlink(sentinel, host) == 0);
	host_path(host, sizeof(host), "rel_dir");
	cr_assert(symlink("../sentinel", host) == 0);

	cr_assert_eq(walk(ROOT, 1, "to_secret", NULL), 0, "the link itself");
	cr_expect_eq(qids[0].type, 0x02);
	cr_expect_eq(lopen(1, 0), ELOOP, "opened through: never");
	cr_expect_eq(lopen(1, 2 | 01000 /* RDWR|TRUNC */), ELOOP);
	cr_expect_eq(read_at(1, 0, 10, buf, &got), EBADF);
	cr_expect_eq(setattr(1, 0x8, 0, 0, 0, 0), EINVAL, "no truncate through it");
	cr_expect_eq(setattr(1, 0x1, 0777, 0, 0, 0), 0, "chmod on a link changes nothing");
	cr_expect_eq(setattr(1, 0x2, 0, 0, 0, 0), 0, "nor does chown");
	cr_expect_eq(xattrcreate(1, "user.x", 1, 0), EPERM);
	cr_expect_eq(walk(1, 2, "x", NULL), ENOTDIR);

	cr_assert_eq(walk(ROOT, 2, "to_dir", NULL), 0);
	cr_expect_eq(walk(2, 3, "secret", NULL), ENOTDIR, "no walk through a link to a folder");
	cr_expect_eq(walk(ROOT, 3, "rel_dir", "secret", NULL), 0);
	cr_expect_eq(nwqid, 1);
	cr_expect_eq(lcreate(2, "pwned", 1, 0644, 0), ENOTDIR, "no file made through it");
	cr_expect_eq(mkdir_in(2, "pwned", 0755, 0), ENOTDIR);
	cr_expect_eq(symlink_(2, "pwned", "x"), ENOTDIR);
	cr_expect_eq(mknod_(2, "pwned", S_IFIFO | 0644, 0, 0), ENOTDIR);
	cr_expect_eq(renameat_(ROOT, "to_secret", 2, "pwned"), ENOTDIR);
	cr_expect_eq(unlinkat_(2, "secret", 0), ENOTDIR);
	cr_expect_eq(link_(2, 1, "pwned"), ENOTDIR);
	/* A hard link to the link is a link to the link, inside. */
	cr_expect_eq(link_(ROOT, 1, "hard"), 0);
	host_path(host, sizeof(host), "hard");
	struct stat st;
	cr_assert(lstat(host, &st) == 0);
	cr_expect(S_ISLNK(st.st_mode));
	/* Renaming the link renames the link. */
	cr_expect_eq(renameat_(ROOT, "to_secret", ROOT, "moved"), 0);
	expect_sentinel_intact();
}

Test(p9_hostile, an_absolute_symlink_made_by_the_guest_is_just_text)
{
	char buf[64];

	cr_assert_eq(symlink_(ROOT, "abs", "/etc/passwd"), 0);
	cr_assert_eq(walk(ROOT, 1, "abs", NULL), 0);
	cr_expect_eq(lopen(1, 0), ELOOP);
	cr_assert_eq(readlink_(1, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "/etc/passwd");
	cr_expect_eq(walk(ROOT, 2, "abs", "x", NULL), 0);
	cr_expect_eq(nwqid, 1);
}

Test(p9_hostile, dot_dot_follows_a_renamed_folder_and_stops_at_the_root)
{
	char host[1200];
	struct attr root, a;
	struct stat st;

	cr_assert_eq(getattr(ROOT, &root), 0);
	cr_assert_eq(mkdir_in(ROOT, "a", 0755, 0), 0);
	cr_assert_eq(walk(ROOT, 1, "a", NULL), 0);
	cr_assert_eq(mkdir_in(1, "b", 0755, 0), 0);
	cr_assert_eq(walk(1, 2, "b", NULL), 0);
	cr_assert_eq(mkdir_in(2, "c", 0755, 0), 0);
	cr_assert_eq(walk(2, 3, "c", NULL), 0);
	cr_assert_eq(renameat_(ROOT, "a", ROOT, "z"), 0, "a moves while c is held");
	cr_assert_eq(walk(3, 4, "..", NULL), 0);
	host_path(host, sizeof(host), "z/b");
	cr_assert(stat(host, &st) == 0);
	cr_assert_eq(getattr(4, &a), 0);
	cr_expect_eq(a.ino, st.st_ino, "c's parent is z/b now");
	cr_assert_eq(walk(3, 5, "..", "..", NULL), 0);
	host_path(host, sizeof(host), "z");
	cr_assert(stat(host, &st) == 0);
	cr_assert_eq(getattr(5, &a), 0);
	cr_expect_eq(a.ino, st.st_ino);
	for (int up = 3; up <= 8; up++) {
		p9m_begin(&m, P9M_TWALK, 2);
		p9m_u32(&m, 3);
		p9m_u32(&m, 6);
		p9m_u16(&m, (uint16_t)up);
		for (int i = 0; i < up; i++)
			p9m_str(&m, "..");
		cr_assert_eq(result(P9M_TWALK), 0);
		cr_assert_eq(getattr(6, &a), 0);
		cr_expect_eq(a.ino, root.ino, "%d times up is the root", up);
		cr_assert_eq(clunk(6), 0);
	}
	/* Rename a held folder by its own fid (Trename) and walk on from it. */
	cr_assert_eq(walk(ROOT, 7, "z", NULL), 0);
	p9m_begin(&m, P9M_TRENAME, 20);
	p9m_u32(&m, 7);
	p9m_u32(&m, 2); /* into z/b: into itself, refused */
	p9m_str(&m, "loop");
	cr_expect_eq(result(P9M_TRENAME), EINVAL);
	p9m_begin(&m, P9M_TRENAME, 20);
	p9m_u32(&m, 7);
	p9m_u32(&m, ROOT);
	p9m_str(&m, "y");
	cr_assert_eq(result(P9M_TRENAME), 0);
	cr_assert_eq(walk(3, 8, "..", "..", "..", "y", "b", "c", NULL), 0);
	cr_expect_eq(nwqid, 6);
	expect_sentinel_intact();
}

Test(p9_hostile, a_folder_moved_by_the_host_goes_stale_not_outside)
{
	char from[1200], to[1200];
	struct attr root, a;

	cr_assert_eq(getattr(ROOT, &root), 0);
	cr_assert_eq(mkdir_in(ROOT, "a", 0755, 0), 0);
	cr_assert_eq(walk(ROOT, 1, "a", NULL), 0);
	cr_assert_eq(mkdir_in(1, "b", 0755, 0), 0);
	cr_assert_eq(walk(1, 2, "b", NULL), 0);
	host_path(from, sizeof(from), "a");
	host_path(to, sizeof(to), "q");
	cr_assert(rename(from, to) == 0, "the host moves a (den is not told)");
	cr_expect_eq(walk(2, 3, "..", NULL), ENOENT, "a/ is gone: .. cannot be found by path");
	cr_assert_eq(walk(2, 3, "..", "..", NULL), ENOENT);
	p9m_begin(&m, P9M_TREMOVE, 21);
	p9m_u32(&m, 2);
	cr_expect_eq(result(P9M_TREMOVE), ESTALE, "remove checks the object, not the path");
	cr_expect_eq(getattr(2, &a), EBADF, "and clunks the fid anyway");
	host_path(from, sizeof(from), "q/b");
	cr_expect(access(from, F_OK) == 0, "nothing was removed");
}

Test(p9_hostile, fifos_and_devices_on_the_host_are_never_opened)
{
	char host[1200];

	host_path(host, sizeof(host), "fifo");
	cr_assert(mkfifo(host, 0666) == 0);
	cr_assert_eq(walk(ROOT, 1, "fifo", NULL), 0);
	cr_expect_eq(lopen(1, 0), ENXIO, "the VMM would block opening it");
	cr_expect_eq(lopen(1, 1), ENXIO);
}

Test(p9_hostile, malformed_messages_get_an_rlerror_and_the_server_goes_on)
{
	uint8_t out[64];

	/* Truncated: shorter than a header. */
	size_t n = p9_handle(srv, (const uint8_t *)"\x05\x00\x00", 3, out, sizeof(out));
	cr_expect_eq(n, 11);
	cr_expect_eq(out[4], P9M_RLERROR);
	cr_expect_eq(out[5] | out[6] << 8, 0xffff, "no tag to answer with");
	cr_expect_eq(p9_handle(srv, (const uint8_t *)"", 0, out, sizeof(out)), 11);
	cr_expect_eq(p9_handle(srv, m.b, 7, out, 10), 0, "no room even for an Rlerror");

	/* The size field lies, either way. */
	p9m_begin(&m, P9M_TGETATTR, 30);
	p9m_u32(&m, ROOT);
	p9m_u64(&m, 0);
	p9m_end(&m);
	m.b[0] = 200;
	n = p9_handle(srv, m.b, m.n, reply, sizeof(reply));
	cr_expect_eq(reply[4], P9M_RLERROR);
	cr_expect_eq(reply[7], EPROTO);
	m.b[0] = 10;
	n = p9_handle(srv, m.b, m.n, reply, sizeof(reply));
	cr_expect_eq(reply[4], P9M_RLERROR);

	/* Fields missing, and a string running past the end. */
	p9m_begin(&m, P9M_TGETATTR, 31);
	p9m_u32(&m, ROOT);
	expect_refused(EPROTO, "getattr without its mask");
	p9m_begin(&m, P9M_TWALK, 32);
	p9m_u32(&m, ROOT);
	p9m_u32(&m, 1);
	p9m_u16(&m, 1);
	p9m_u16(&m, 500);
	p9m_bytes(&m, "abc", 3);
	expect_refused(EPROTO, "a name past the end");
	p9m_begin(&m, P9M_TLCREATE, 33);
	p9m_u32(&m, ROOT);
	p9m_str(&m, "half");
	p9m_u32(&m, 1);
	expect_refused(EPROTO, "lcreate cut short");
	char host[1200];
	host_path(host, sizeof(host), "half");
	cr_expect(access(host, F_OK) < 0, "nothing made from half a message");

	/* Unknown types, replies, 9P2000 and .u messages, Tauth. */
	const uint8_t types[] = { 0, 1, 6, 7, 101, 102, 112, 114, 124, 126, 200, 255 };
	for (size_t i = 0; i < sizeof(types); i++) {
		p9m_begin(&m, types[i], 34);
		p9m_u32(&m, ROOT);
		expect_refused(EOPNOTSUPP, "an unknown type");
	}

	/* Fid reuse, unknown fids, NOFID. */
	cr_expect_eq(attach(ROOT, 0), EEXIST);
	cr_assert_eq(walk(ROOT, 1, NULL), 0);
	cr_expect_eq(walk(ROOT, 1, NULL), EEXIST);
	cr_expect_eq(walk(99, 100, NULL), EBADF);
	cr_expect_eq(walk(ROOT, 0xffffffff, NULL), EINVAL);
	cr_expect_eq(clunk(12345), EBADF);
	cr_expect_eq(lopen(1, 3), EINVAL, "NOACCESS");
	cr_assert_eq(lopen(1, 0), 0);
	cr_expect_eq(lopen(1, 0), EINVAL, "opened twice");
	cr_expect_eq(walk(1, 1, "x", NULL), EINVAL, "an open fid walked onto itself");

	/* A walk of 100 names (MAXWELEM is 16). */
	p9m_begin(&m, P9M_TWALK, 35);
	p9m_u32(&m, ROOT);
	p9m_u32(&m, 2);
	p9m_u16(&m, 100);
	for (int i = 0; i < 100; i++)
		p9m_str(&m, ".");
	expect_refused(EINVAL, "a walk of 100 names");
	p9m_begin(&m, P9M_TWALK, 35);
	p9m_u32(&m, ROOT);
	p9m_u32(&m, 2);
	p9m_u16(&m, 65535);
	expect_refused(EINVAL, "a walk of 65535 names and none there");
}

Test(p9_hostile, counts_are_bounded_by_msize_not_by_what_the_guest_asks)
{
	static uint8_t big[MSIZE];
	uint32_t got;

	cr_assert_eq(walk(ROOT, 1, NULL), 0);
	cr_assert_eq(lcreate(1, "big", 2, 0644, 0), 0);
	memset(big, 'x', sizeof(big));
	cr_assert_eq(write_at(1, 0, big, MSIZE - 23), 0, "the largest write msize allows");
	cr_assert_eq(write_at(1, MSIZE - 23, big, MSIZE - 23), 0);
	cr_assert_eq(read_at(1, 0, 0xffffffff, NULL, &got), 0);
	cr_expect_eq(got, MSIZE - 11, "what fits in msize");
	cr_expect_eq(r.n, MSIZE);

	/* Twrite whose count runs past its data. */
	p9m_begin(&m, P9M_TWRITE, 40);
	p9m_u32(&m, 1);
	p9m_u64(&m, 0);
	p9m_u32(&m, 1000);
	p9m_bytes(&m, "short", 5);
	expect_refused(EPROTO, "a write of 1000 bytes carrying 5");
	char host[1200];
	struct stat st;
	host_path(host, sizeof(host), "big");
	cr_assert(stat(host, &st) == 0);
	cr_expect_eq(st.st_size, 2 * (MSIZE - 23), "the file is as it was");
	FILE *f = fopen(host, "r");
	cr_expect_eq(fgetc(f), 'x');
	fclose(f);

	/* A message longer than msize. */
	p9m_begin(&m, P9M_TWRITE, 41);
	p9m_u32(&m, 1);
	p9m_u64(&m, 0);
	p9m_u32(&m, MSIZE);
	p9m_bytes(&m, big, MSIZE);
	expect_refused(EMSGSIZE, "a message past msize");

	/* Treaddir with a huge count. */
	for (int i = 0; i < 300; i++) {
		char name[32];
		snprintf(name, sizeof(name), "file-with-a-longish-name-%03d", i);
		write_file(share, name, "");
	}
	cr_assert_eq(walk(ROOT, 2, NULL), 0);
	cr_assert_eq(lopen(2, 0), 0);
	p9m_begin(&m, P9M_TREADDIR, 42);
	p9m_u32(&m, 2);
	p9m_u64(&m, 0);
	p9m_u32(&m, 0xffffffff);
	cr_assert_eq(result(P9M_TREADDIR), 0);
	uint32_t count = p9r_u32(&r);
	cr_expect_gt(count, 0);
	cr_expect_leq(count + 11, MSIZE);
	cr_expect_eq(r.n, count + 11);
	/* A reply buffer smaller than msize bounds it too. */
	size_t small = p9_handle(srv, m.b, m.n, reply, 200);
	cr_expect_leq(small, 200);
	cr_expect_eq(reply[4], 41, "Rreaddir");
}

Test(p9_hostile, msize_is_negotiated_within_bounds)
{
	uint32_t msize;
	char v[32];

	cr_expect_eq(version(100, "9P2000.L", &msize, v), EMSGSIZE, "tiny");
	cr_expect_eq(version(4095, "9P2000.L", &msize, v), EMSGSIZE);
	cr_assert_eq(version(0xffffffff, "9P2000.L", &msize, v), 0, "huge");
	cr_expect_eq(msize, P9_MAX_MSIZE);
	cr_expect_eq(attach(ROOT, 0), 0, "Tversion ended the session: fid 0 is free again");
	cr_assert_eq(version(8192, "9P2000.u", &msize, v), 0);
	cr_expect_str_eq(v, "unknown");
	struct attr a;
	cr_expect_eq(getattr(ROOT, &a), EPROTO, "no session after an unknown version");
	cr_assert_eq(version(4096, "9P2000.L", &msize, v), 0);
	cr_expect_eq(msize, 4096);
	cr_expect_eq(attach(ROOT, 0), 0);
	cr_expect_eq(getattr(ROOT, &a), 0, "an Rgetattr fits in the smallest msize");
}

Test(p9_hostile, nothing_is_served_before_tversion)
{
	struct den_err err = { 0 };
	struct attr a;

	p9_server_free(srv);
	cr_assert(p9_server_new(share, false, &srv, &err) == 0, "%s", err.msg);
	cr_expect_eq(attach(ROOT, 0), EPROTO);
	cr_expect_eq(getattr(ROOT, &a), EPROTO);
}

Test(p9_hostile, fids_are_capped_and_the_server_goes_on)
{
	struct rlimit rl = { P9_MAX_FIDS + 1024, P9_MAX_FIDS + 1024 };
	struct attr a;
	unsigned made = 1, refused = 0;
	int first_refusal = 0;

	/* Root may raise the hard limit; elsewhere the descriptors run out first. */
	bool all = setrlimit(RLIMIT_NOFILE, &rl) == 0;
	for (uint32_t fid = 1; fid < P9_MAX_FIDS + 100; fid++) {
		int rc = walk(ROOT, fid, NULL);
		if (rc == 0) {
			made++;
			continue;
		}
		if (refused++ == 0)
			first_refusal = rc;
	}
	cr_expect_gt(refused, 0, "the guest cannot make fids without end");
	cr_expect_leq(made, P9_MAX_FIDS);
	if (all) {
		cr_expect_eq(made, P9_MAX_FIDS, "exactly the cap");
		cr_expect_eq(first_refusal, EMFILE);
	}
	cr_expect_eq(getattr(ROOT, &a), 0, "the server still answers");
	cr_expect_eq(clunk(5), 0);
	cr_expect_eq(walk(ROOT, 5, NULL), 0, "a clunked fid makes room");
}
