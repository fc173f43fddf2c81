/* SPDX-License-Identifier: MIT */
#ifndef DEN_TESTS_P9CLIENT_H
#define DEN_TESTS_P9CLIENT_H

/*
 * A 9P2000.L client for the server's tests (test_p9.c, test_p9_hostile.c):
 * one call a message, built with p9msg.h and handed to p9_handle(); each
 * returns 0 for the expected reply or the Rlerror's errno. The fixture
 * serves DIR/share, with DIR/sentinel beside it, which no request may
 * change (expect_sentinel_intact).
 */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "providers/kvm/p9.h"
#include "tests/helpers/p9msg.h"
#include "tests/helpers/testutil.h"

#define MSIZE 65536
#define GUEST_UID 1000
#define ROOT 0 /* the attached fid */

static struct p9_server *srv;
static char *dir;
static char share[1024], sentinel[1024];
static struct stat sentinel_before, secret_before;
static struct p9m m;
static uint8_t reply[P9M_MAX];
static struct p9r r;

struct qid {
	uint8_t type;
	uint64_t path;
};
static unsigned nwqid;
static struct qid qids[16];

static inline void host_path(char *out, size_t size, const char *rel)
{
	snprintf(out, size, "%s/%s", share, rel);
}

/* Sends m; the reply's type, with r just past its header. */
static inline uint8_t send_msg(void)
{
	size_t n = p9m_end(&m);
	size_t len = p9_handle(srv, m.b, n, reply, sizeof(reply));

	cr_assert_geq(len, 7, "every request gets a reply");
	uint32_t size = (uint32_t)(reply[0] | reply[1] << 8 | reply[2] << 16 | reply[3] << 24);
	cr_assert_eq(size, len, "the reply's size field says its length");
	cr_assert_eq(reply[5] | reply[6] << 8, m.b[5] | m.b[6] << 8, "the tag comes back");
	r = (struct p9r){ reply, len, 7 };
	return reply[4];
}

/* 0 for the expected R-message, else the Rlerror's errno. */
static inline int result(uint8_t ttype)
{
	uint8_t t = send_msg();

	if (t == P9M_RLERROR) {
		cr_assert_eq(r.n, 11, "an Rlerror is 11 bytes");
		return (int)p9r_u32(&r);
	}
	cr_assert_eq(t, ttype + 1, "reply type %u to %u", t, ttype);
	return 0;
}

static inline int version(uint32_t msize, const char *v, uint32_t *got, char *vgot)
{
	p9m_begin(&m, P9M_TVERSION, 0xffff);
	p9m_u32(&m, msize);
	p9m_str(&m, v);
	int rc = result(P9M_TVERSION);
	if (rc == 0) {
		*got = p9r_u32(&r);
		p9r_str(&r, vgot, 32);
	}
	return rc;
}

static inline int attach(uint32_t fid, uint32_t uid)
{
	p9m_begin(&m, P9M_TATTACH, 1);
	p9m_u32(&m, fid);
	p9m_u32(&m, 0xffffffff);
	p9m_str(&m, "root");
	p9m_str(&m, "");
	p9m_u32(&m, uid);
	return result(P9M_TATTACH);
}

static inline void read_qids(void)
{
	nwqid = p9r_u16(&r);
	for (unsigned i = 0; i < nwqid && i < 16; i++) {
		qids[i].type = p9r_u8(&r);
		p9r_u32(&r);
		qids[i].path = p9r_u64(&r);
	}
}

/* Twalk of the NULL-terminated names; nwqid and qids hold what came back. */
static inline int walk(uint32_t fid, uint32_t newfid, ...)
{
	const char *names[128];
	unsigned n = 0;
	va_list ap;

	va_start(ap, newfid);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL && n < 128;)
		names[n++] = s;
	va_end(ap);
	p9m_begin(&m, P9M_TWALK, 2);
	p9m_u32(&m, fid);
	p9m_u32(&m, newfid);
	p9m_u16(&m, (uint16_t)n);
	for (unsigned i = 0; i < n; i++)
		p9m_str(&m, names[i]);
	nwqid = 0;
	int rc = result(P9M_TWALK);
	if (rc == 0)
		read_qids();
	return rc;
}

static inline int lopen(uint32_t fid, uint32_t flags)
{
	p9m_begin(&m, P9M_TLOPEN, 3);
	p9m_u32(&m, fid);
	p9m_u32(&m, flags);
	return result(P9M_TLOPEN);
}

static inline int lcreate(uint32_t fid, const char *name, uint32_t flags, uint32_t mode,
			  uint32_t gid)
{
	p9m_begin(&m, P9M_TLCREATE, 4);
	p9m_u32(&m, fid);
	p9m_str(&m, name);
	p9m_u32(&m, flags);
	p9m_u32(&m, mode);
	p9m_u32(&m, gid);
	return result(P9M_TLCREATE);
}

static inline int write_at(uint32_t fid, uint64_t off, const void *data, uint32_t len)
{
	p9m_begin(&m, P9M_TWRITE, 5);
	p9m_u32(&m, fid);
	p9m_u64(&m, off);
	p9m_u32(&m, len);
	p9m_bytes(&m, data, len);
	int rc = result(P9M_TWRITE);
	if (rc == 0)
		cr_assert_eq(p9r_u32(&r), len, "all written");
	return rc;
}

/* Tread; *got bytes into buf. */
static inline int read_at(uint32_t fid, uint64_t off, uint32_t count, void *buf, uint32_t *got)
{
	p9m_begin(&m, P9M_TREAD, 6);
	p9m_u32(&m, fid);
	p9m_u64(&m, off);
	p9m_u32(&m, count);
	int rc = result(P9M_TREAD);
	if (rc == 0) {
		*got = p9r_u32(&r);
		cr_assert_leq(r.at + *got, r.n, "the data lies within the reply");
		if (buf != NULL)
			memcpy(buf, r.b + r.at, *got);
	}
	return rc;
}

static inline int clunk(uint32_t fid)
{
	p9m_begin(&m, P9M_TCLUNK, 7);
	p9m_u32(&m, fid);
	return result(P9M_TCLUNK);
}

struct attr {
	uint8_t qtype;
	uint64_t ino;
	uint32_t mode, uid, gid;
	uint64_t rdev, size;
};

static inline int getattr(uint32_t fid, struct attr *a)
{
	p9m_begin(&m, P9M_TGETATTR, 8);
	p9m_u32(&m, fid);
	p9m_u64(&m, 0x3fff);
	int rc = result(P9M_TGETATTR);
	if (rc == 0) {
		cr_assert_eq(r.n, 7 + 153, "Rgetattr's fixed size");
		p9r_u64(&r); /* valid */
		a->qtype = p9r_u8(&r);
		p9r_u32(&r);
		a->ino = p9r_u64(&r);
		a->mode = p9r_u32(&r);
		a->uid = p9r_u32(&r);
		a->gid = p9r_u32(&r);
		p9r_u64(&r); /* nlink */
		a->rdev = p9r_u64(&r);
		a->size = p9r_u64(&r);
	}
	return rc;
}

static inline int mkdir_in(uint32_t dfid, const char *name, uint32_t mode, uint32_t gid)
{
	p9m_begin(&m, P9M_TMKDIR, 9);
	p9m_u32(&m, dfid);
	p9m_str(&m, name);
	p9m_u32(&m, mode);
	p9m_u32(&m, gid);
	return result(P9M_TMKDIR);
}

static inline int renameat_(uint32_t ofid, const char *oname, uint32_t nfid, const char *nname)
{
	p9m_begin(&m, P9M_TRENAMEAT, 10);
	p9m_u32(&m, ofid);
	p9m_str(&m, oname);
	p9m_u32(&m, nfid);
	p9m_str(&m, nname);
	return result(P9M_TRENAMEAT);
}

static inline int unlinkat_(uint32_t dfid, const char *name, uint32_t flags)
{
	p9m_begin(&m, P9M_TUNLINKAT, 11);
	p9m_u32(&m, dfid);
	p9m_str(&m, name);
	p9m_u32(&m, flags);
	return result(P9M_TUNLINKAT);
}

static inline int symlink_(uint32_t dfid, const char *name, const char *target)
{
	p9m_begin(&m, P9M_TSYMLINK, 12);
	p9m_u32(&m, dfid);
	p9m_str(&m, name);
	p9m_str(&m, target);
	p9m_u32(&m, 0);
	return result(P9M_TSYMLINK);
}

static inline int readlink_(uint32_t fid, char *out, size_t size)
{
	p9m_begin(&m, P9M_TREADLINK, 13);
	p9m_u32(&m, fid);
	int rc = result(P9M_TREADLINK);
	if (rc == 0)
		p9r_str(&r, out, size);
	return rc;
}

static inline int link_(uint32_t dfid, uint32_t fid, const char *name)
{
	p9m_begin(&m, P9M_TLINK, 14);
	p9m_u32(&m, dfid);
	p9m_u32(&m, fid);
	p9m_str(&m, name);
	return result(P9M_TLINK);
}

static inline int setattr(uint32_t fid, uint32_t valid, uint32_t mode, uint32_t uid, uint32_t gid,
			  uint64_t size)
{
	p9m_begin(&m, P9M_TSETATTR, 15);
	p9m_u32(&m, fid);
	p9m_u32(&m, valid);
	p9m_u32(&m, mode);
	p9m_u32(&m, uid);
	p9m_u32(&m, gid);
	p9m_u64(&m, size);
	for (int i = 0; i < 4; i++)
		p9m_u64(&m, 0);
	return result(P9M_TSETATTR);
}

static inline int mknod_(uint32_t dfid, const char *name, uint32_t mode, uint32_t major,
			 uint32_t minor)
{
	p9m_begin(&m, P9M_TMKNOD, 16);
	p9m_u32(&m, dfid);
	p9m_str(&m, name);
	p9m_u32(&m, mode);
	p9m_u32(&m, major);
	p9m_u32(&m, minor);
	p9m_u32(&m, 100);
	return result(P9M_TMKNOD);
}

static inline int xattrcreate(uint32_t fid, const char *name, uint64_t size, uint32_t flags)
{
	p9m_begin(&m, P9M_TXATTRCREATE, 17);
	p9m_u32(&m, fid);
	p9m_str(&m, name);
	p9m_u64(&m, size);
	p9m_u32(&m, flags);
	return result(P9M_TXATTRCREATE);
}

static inline int xattrwalk(uint32_t fid, uint32_t newfid, const char *name, uint64_t *size)
{
	p9m_begin(&m, P9M_TXATTRWALK, 18);
	p9m_u32(&m, fid);
	p9m_u32(&m, newfid);
	p9m_str(&m, name);
	int rc = result(P9M_TXATTRWALK);
	if (rc == 0)
		*size = p9r_u64(&r);
	return rc;
}

/* Treaddir from offset 0 to the end; names joined by ' ' into out. */
static inline int readdir_all(uint32_t fid, char *out, size_t size)
{
	uint64_t off = 0;

	out[0] = '\0';
	for (int rounds = 0; rounds < 1000; rounds++) {
		p9m_begin(&m, P9M_TREADDIR, 19);
		p9m_u32(&m, fid);
		p9m_u64(&m, off);
		p9m_u32(&m, 200); /* a few entries a round: the offsets get used */
		int rc = result(P9M_TREADDIR);
		if (rc != 0)
			return rc;
		uint32_t count = p9r_u32(&r);
		if (count == 0)
			return 0;
		size_t end = r.at + count;
		cr_assert_leq(end, r.n);
		while (r.at < end) {
			char name[256];
			p9r_u8(&r);
			p9r_u32(&r);
			p9r_u64(&r);
			off = p9r_u64(&r);
			p9r_u8(&r);
			p9r_str(&r, name, sizeof(name));
			strncat(out, name, size - strlen(out) - 2);
			strcat(out, " ");
		}
	}
	cr_assert_fail("readdir never ended");
	return -1;
}

static inline void start(bool ro)
{
	struct den_err err = { 0 };
	uint32_t msize;
	char v[32];

	cr_assert(p9_server_new(share, ro, &srv, &err) == 0, "%s", err.msg);
	cr_assert_eq(version(MSIZE, "9P2000.L", &msize, v), 0);
	cr_assert_eq(msize, MSIZE);
	cr_assert_str_eq(v, "9P2000.L");
	cr_assert_eq(attach(ROOT, GUEST_UID), 0);
}

static inline void setup(void)
{
	dir = make_temp_dir();
	snprintf(share, sizeof(share), "%s/share", dir);
	snprintf(sentinel, sizeof(sentinel), "%s/sentinel", dir);
	cr_assert(mkdir(share, 0755) == 0 && mkdir(sentinel, 0755) == 0);
	write_file(sentinel, "secret", "secret\n");
	char p[1200];
	snprintf(p, sizeof(p), "%s/secret", sentinel);
	cr_assert(chmod(p, 0644) == 0);
	cr_assert(stat(sentinel, &sentinel_before) == 0 && stat(p, &secret_before) == 0);
	start(false);
}

static inline void teardown(void)
{
	p9_server_free(srv);
	srv = NULL;
	rm_rf(dir);
	free(dir);
}

/* The folder beside the share: its one file, its content, mode, owner and times, as before. */
static inline void expect_sentinel_intact(void)
{
	char p[1200], buf[64] = "";
	struct stat st, sd;

	snprintf(p, sizeof(p), "%s/secret", sentinel);
	cr_assert(stat(sentinel, &sd) == 0 && lstat(p, &st) == 0);
	cr_expect(S_ISREG(st.st_mode), "the secret is still a plain file");
	cr_expect_eq(st.st_mode & 07777, 0644, "its mode is unchanged");
	cr_expect_eq(st.st_uid, secret_before.st_uid);
	cr_expect_eq(st.st_nlink, 1, "no hard link to it was made");
	cr_expect_eq(st.st_mtim.tv_sec, secret_before.st_mtim.tv_sec);
	cr_expect_eq(st.st_mtim.tv_nsec, secret_before.st_mtim.tv_nsec, "it was not written");
	cr_expect_eq(sd.st_mtim.tv_nsec, sentinel_before.st_mtim.tv_nsec,
		     "nothing was made or removed beside it");
	cr_expect_eq(sd.st_mode, sentinel_before.st_mode);
	cr_expect_eq(listxattr(p, buf, sizeof(buf)), 0, "no xattr was set on it");
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f);
	cr_expect_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_expect_str_eq(buf, "secret\n");
}

/* An Rlerror of ecode for m as it is, then the server still answers. */
static inline void expect_refused(int ecode, const char *what)
{
	struct attr a;

	cr_expect_eq(result(0), ecode, "%s", what);
	cr_expect_eq(getattr(ROOT, &a), 0, "the server answers after %s", what);
}

#endif
