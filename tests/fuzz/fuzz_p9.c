/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the 9P server (providers/kvm/p9.h): an input is a
 * sequence of requests, played after a session is set up (Tversion,
 * Tattach of fid 0, fid 1 walked to "d") over a share that holds symlinks
 * out of it, a fifo and a folder. Any bytes must give replies, never a
 * crash, leak, hang or sanitizer report; and the sentinel folder beside the
 * share must stay as it was (else abort). `make fuzz FUZZ_TARGET=p9`.
 *
 * Input: byte 0 picks the reply room (11, 100 or whole); then records of a
 * u16 length and that many bytes. A record is a message without its size
 * field (type, tag, fields), which is filled in, unless the length's top
 * bit is set: then the bytes go as they are, size field and all.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "providers/kvm/p9.h"

#define RAW 0x8000u
#define OUT_ROOM (P9_MAX_MSIZE + 64)

static char base[64], share[96], sentinel[96], secret[128];
static struct stat base_st, sentinel_st, secret_st;
static uint8_t msg[P9_MAX_MSIZE + 8], out[OUT_ROOM];

/* Removes everything under the folder dirfd (closed), never following a link. */
static void wipe(int dirfd)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (d == NULL) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (sub >= 0)
				wipe(sub);
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd, e->d_name, 0);
		}
	}
	closedir(d);
}

static void put(const char *rel, const char *text)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", share, rel);
	FILE *f = fopen(p, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

/* The share as each input finds it: a folder, a file, links out, a fifo. */
static void plant(void)
{
	char p[256];

	wipe(open(share, O_RDONLY | O_DIRECTORY));
	snprintf(p, sizeof(p), "%s/d", share);
	mkdir(p, 0755);
	put("d/f", "hello");
	put("g", "world");
	snprintf(p, sizeof(p), "%s/out", share);
	symlink("../sentinel", p);
	snprintf(p, sizeof(p), "%s/d/abs", share);
	symlink(sentinel, p);
	snprintf(p, sizeof(p), "%s/sec", share);
	symlink(secret, p);
	snprintf(p, sizeof(p), "%s/fifo", share);
	mkfifo(p, 0644);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	strcpy(base, "/tmp/den-fuzz-p9-XXXXXX");
	if (mkdtemp(base) == NULL)
		abort();
	snprintf(share, sizeof(share), "%s/share", base);
	snprintf(sentinel, sizeof(sentinel), "%s/sentinel", base);
	snprintf(secret, sizeof(secret), "%s/secret", sentinel);
	if (mkdir(share, 0755) < 0 || mkdir(sentinel, 0755) < 0)
		abort();
	FILE *f = fopen(secret, "w");
	if (f == NULL)
		abort();
	fputs("secret\n", f);
	fclose(f);
	chmod(secret, 0644);
	if (stat(base, &base_st) < 0 || stat(sentinel, &sentinel_st) < 0 ||
	    stat(secret, &secret_st) < 0)
		abort();
	return 0;
}

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mode == b->st_mode && a->st_uid == b->st_uid &&
	       a->st_nlink == b->st_nlink && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Whatever the guest did, nothing beside the share changed. */
static void check_sentinel(void)
{
	struct stat b, s, x;
	char list[64];

	if (stat(base, &b) < 0 || stat(sentinel, &s) < 0 || lstat(secret, &x) < 0)
		abort();
	if (!same(&b, &base_st) || !same(&s, &sentinel_st) || !same(&x, &secret_st) ||
	    listxattr(secret, list, sizeof(list)) != 0)
		abort();
}

static size_t msg_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return n;
}

static size_t msg_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	msg_le(p, n, 2);
	memcpy(p + 2, s, n);
	return 2 + n;
}

static void send(struct p9_server *s, size_t len, size_t room)
{
	size_t n = p9_handle(s, msg, len, out, room);

	/* Every request gets a reply (Rclunk's 7 bytes the shortest) that fits. */
	if (room >= 11 && (n < 7 || n > room || out[0] != (uint8_t)n))
		abort();
}

/* Tversion, Tattach (fid 0, uid 1000), Twalk 0 -> 1 "d". */
static void session(struct p9_server *s)
{
	size_t n = 4;

	n += msg_le(msg + n, 100, 1);
	n += msg_le(msg + n, 0xffff, 2);
	n += msg_le(msg + n, 65536, 4);
	n += msg_str(msg + n, "9P2000.L");
	msg_le(msg, n, 4);
	send(s, n, sizeof(out));
	n = 4;
	n += msg_le(msg + n, 104, 1);
	n += msg_le(msg + n, 1, 2);
	n += msg_le(msg + n, 0, 4);
	n += msg_le(msg + n, 0xffffffff, 4);
	n += msg_str(msg + n, "u");
	n += msg_str(msg + n, "");
	n += msg_le(msg + n, 1000, 4);
	msg_le(msg, n, 4);
	send(s, n, sizeof(out));
	n = 4;
	n += msg_le(msg + n, 110, 1);
	n += msg_le(msg + n, 2, 2);
	n += msg_le(msg + n, 0, 4);
	n += msg_le(msg + n, 1, 4);
	n += msg_le(msg + n, 1, 2);
	n += msg_str(msg + n, "d");
	msg_le(msg, n, 4);
	send(s, n, sizeof(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t rooms[] = { 11, 100 };
	struct p9_server *s = NULL;
	struct den_err err = { 0 };

	if (size < 1)
		return 0;
	plant();
	if (p9_server_new(share, (data[0] & 0x80) != 0, &s, &err) < 0)
		abort();
	size_t room = (data[0] & 7) < 2 ? rooms[data[0] & 7] : sizeof(out);
	session(s);
	for (size_t at = 1; at + 2 <= size;) {
		unsigned len = data[at] | data[at + 1] << 8;
		at += 2;
		bool raw = len & RAW;
		len &= ~RAW;
		if (len > size - at)
			len = (unsigned)(size - at);
		if (raw) {
			memcpy(msg, data + at, len);
			send(s, len, room);
		} else {
			memcpy(msg + 4, data + at, len);
			msg_le(msg, len + 4, 4);
			send(s, len + 4, room);
		}
		at += len;
	}
	p9_server_free(s);
	check_sentinel();
	return 0;
}
