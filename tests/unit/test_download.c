/* SPDX-License-Identifier: MIT */
/*
 * Resuming box downloads (boxes/download.c, boxes/download_resume.c): a
 * partial file is continued with a Range from its size; a server that
 * ignores the Range, or a partial file longer than the source, starts
 * over; and the digest den checks the box against covers the whole file,
 * the bytes that were already there included. The decision alone, then
 * real libcurl against file:// URLs and a small HTTP server in a thread.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxes/download.h"
#include "boxes/download_resume.h"
#include "core/cleanup.h"
#include "core/digest.h"
#include "core/fsutil.h"
#include "tests/helpers/testutil.h"

static enum resume_action act(uint64_t offset, long http, bool body, bool refused)
{
	const struct resume_answer a = { offset, http, body, refused };

	return download_resume_action(&a);
}

Test(download_resume, a_partial_file_is_continued_only_by_an_answer_that_continues_it)
{
	cr_expect_eq(act(0, 200, true, false), RESUME_APPEND, "a fresh download");
	cr_expect_eq(act(0, 0, true, false), RESUME_APPEND, "file://");
	cr_expect_eq(act(4096, 206, true, false), RESUME_APPEND, "the rest, as asked");
	cr_expect_eq(act(4096, 0, true, false), RESUME_APPEND, "file:// from the offset");
	cr_expect_eq(act(4096, 200, true, false), RESUME_RESTART,
		     "the server ignored Range: the whole file again, never appended");
	cr_expect_eq(act(4096, 200, false, false), RESUME_APPEND,
		     "a 200 of exactly the partial size: the file is whole already");
	cr_expect_eq(act(4096, 416, false, false), RESUME_RESTART,
		     "416: the partial file is longer than the source");
	cr_expect_eq(act(4096, 416, true, false), RESUME_RESTART, "416 with an error page");
	cr_expect_eq(act(4096, 0, false, true), RESUME_RESTART,
		     "libcurl refused the range (a shorter file:// source, no Content-Range)");
	cr_expect_eq(act(4096, 206, false, true), RESUME_RESTART);
}

Test(download_resume, error_answers_fail_and_keep_nothing_of_theirs)
{
	cr_expect_eq(act(0, 404, true, false), RESUME_FAIL);
	cr_expect_eq(act(0, 500, true, false), RESUME_FAIL);
	cr_expect_eq(act(4096, 404, true, false), RESUME_FAIL,
		     "the partial file is kept for a later try, not restarted");
	cr_expect_eq(act(4096, 503, false, false), RESUME_FAIL);
	cr_expect_eq(act(4096, 404, false, true), RESUME_FAIL,
		     "libcurl refuses the range of an error page too: still an error, kept");
	cr_expect_eq(act(0, 416, false, false), RESUME_FAIL, "416 without a Range is an error");
}

/* --- with libcurl ------------------------------------------------------------ */

#define PAYLOAD_SIZE (300 * 1024 + 7)

static char *payload;

static void make_payload(void)
{
	payload = malloc(PAYLOAD_SIZE);
	cr_assert_not_null(payload);
	for (size_t i = 0; i < PAYLOAD_SIZE; i++)
		payload[i] = (char)((i * 7919) >> 3);
}

static void free_payload(void)
{
	free(payload);
}

static void sha256(const void *data, size_t len, char hex[DIGEST_HEX_MAX])
{
	struct digest *d = digest_new(DIGEST_SHA256);

	cr_assert_not_null(d);
	digest_update(d, data, len);
	digest_final_hex(d, hex);
	digest_free(d);
}

static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* The file at path is exactly the payload. */
static void expect_whole(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	struct den_err err = { 0 };

	cr_assert(den_read_file(path, 2 * PAYLOAD_SIZE, &text, &len, &err) == 0, "%s", err.msg);
	cr_expect_eq(len, PAYLOAD_SIZE, "the file has %zu bytes, want %d", len, PAYLOAD_SIZE);
	cr_expect(len == PAYLOAD_SIZE && memcmp(text, payload, len) == 0,
		  "the file is not the payload");
	free(text);
}

struct files {
	char *dir;
	char src[4096], dst[4096], url[4200];
};

static void files_init(struct files *f)
{
	f->dir = make_temp_dir();
	snprintf(f->src, sizeof(f->src), "%s/src.box", f->dir);
	snprintf(f->dst, sizeof(f->dst), "%s/dst.box", f->dir);
	snprintf(f->url, sizeof(f->url), "file://%s", f->src);
	put(f->src, payload, PAYLOAD_SIZE);
}

static void files_free(struct files *f)
{
	rm_rf(f->dir);
	free(f->dir);
}

static int fetch(const char *url, const char *path, struct download *d, struct den_err *err)
{
	*d = (struct download){ .url = url, .path = path, .kind = DIGEST_SHA256, .label = "t" };
	return download_file(d, err);
}

TestSuite(download, .init = make_payload, .fini = free_payload);

Test(download, a_fresh_file_download_has_the_digest_of_its_bytes)
{
	struct files f;
	struct download d;
	struct den_err err = { 0 };
	char want[DIGEST_HEX_MAX];

	files_init(&f);
	sha256(payload, PAYLOAD_SIZE, want);
	cr_assert(fetch(f.url, f.dst, &d, &err) == 0, "%s", err.msg);
	cr_expect_eq(d.resumed_from, 0);
	cr_expect_eq(d.size, PAYLOAD_SIZE);
	cr_expect_str_eq(d.hex, want);
	expect_whole(f.dst);
	files_free(&f);
}

Test(download, a_partial_file_is_resumed_and_the_digest_covers_the_whole_file)
{
	struct files f;
	struct download d;
	struct den_err err = { 0 };
	char want[DIGEST_HEX_MAX];

	files_init(&f);
	sha256(payload, PAYLOAD_SIZE, want);
	put(f.dst, payload, 100000); /* a den killed after 100000 bytes */
	cr_assert(fetch(f.url, f.dst, &d, &err) == 0, "%s", err.msg);
	cr_expect_eq(d.resumed_from, 100000, "resumed from the partial file's size");
	cr_expect_eq(d.size, PAYLOAD_SIZE);
	cr_expect_str_eq(d.hex, want, "the digest of the whole file, not of the new bytes");
	expect_whole(f.dst);
	files_free(&f);
}

Test(download, a_partial_file_with_wrong_bytes_does_not_pass_the_checksum)
{
	struct files f;
	struct download d;
	struct den_err err = { 0 };
	char good[DIGEST_HEX_MAX], got_bytes[DIGEST_HEX_MAX];
	char *bad = malloc(PAYLOAD_SIZE);

	files_init(&f);
	cr_assert_not_null(bad);
	memcpy(bad, payload, PAYLOAD_SIZE);
	bad[1234] ^= 0x55; /* the partial file was damaged before the resume */
	put(f.dst, bad, 50000);
	sha256(payload, PAYLOAD_SIZE, good);
	sha256(bad, PAYLOAD_SIZE, got_bytes);
	cr_assert(fetch(f.url, f.dst, &d, &err) == 0, "%s", err.msg);
	cr_expect_eq(d.resumed_from, 50000);
	cr_expect_str_neq(d.hex, good, "a damaged partial file must not pass as the box");
	cr_expect_str_eq(d.hex, got_bytes, "the digest is of the bytes on disk");
	free(bad);
	files_free(&f);
}

Test(download, a_partial_file_longer_than_the_source_starts_over)
{
	struct files f;
	struct download d;
	struct den_err err = { 0 };
	char want[DIGEST_HEX_MAX];
	char *longer = calloc(1, PAYLOAD_SIZE + 5000);

	files_init(&f);
	cr_assert_not_null(longer);
	put(f.dst, longer, PAYLOAD_SIZE + 5000); /* left from another file of that name */
	free(longer);
	sha256(payload, PAYLOAD_SIZE, want);
	cr_assert(fetch(f.url, f.dst, &d, &err) == 0, "stuck on a file it can never resume: %s",
		  err.msg);
	cr_expect_eq(d.resumed_from, 0, "started over from byte 0");
	cr_expect_str_eq(d.hex, want);
	expect_whole(f.dst);
	files_free(&f);
}

/* --- over HTTP ---------------------------------------------------------------- */

enum server_mode {
	HONOUR_RANGE, /* 206 with Content-Range; 416 past the end */
	IGNORE_RANGE, /* always 200 and the whole file */
	NOT_FOUND,    /* 404 with an error page */
};

struct server {
	int fd, port;
	enum server_mode mode;
	bool stop;
	pthread_t thread;
	char ranges[8][64]; /* the Range header of each request ("" when none) */
	int requests;
};

static void send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

static void serve_one(struct server *s, int fd)
{
	char req[4096] = "", head[512], *range;
	size_t got = 0;
	unsigned long long start = 0;

	while (got < sizeof(req) - 1 && strstr(req, "\r\n\r\n") == NULL) {
		ssize_t n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
		req[got] = '\0';
	}
	range = strcasestr(req, "\r\nRange: bytes=");
	if (s->requests < 8)
		snprintf(s->ranges[s->requests], sizeof(s->ranges[0]), "%.*s",
			 range ? (int)strcspn(range + 2, "\r") : 0, range ? range + 2 : "");
	s->requests++;
	if (range != NULL)
		start = strtoull(range + 15, NULL, 10);
	if (s->mode == NOT_FOUND) {
		snprintf(head, sizeof(head),
			 "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
			 "not found");
		send_all(fd, head, strlen(head));
	} else if (s->mode == HONOUR_RANGE && range != NULL && start >= PAYLOAD_SIZE) {
		snprintf(head, sizeof(head),
			 "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%d\r\n"
			 "Content-Length: 0\r\nConnection: close\r\n\r\n",
			 PAYLOAD_SIZE);
		send_all(fd, head, strlen(head));
	} else if (s->mode == HONOUR_RANGE && range != NULL) {
		snprintf(head, sizeof(head),
			 "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %llu-%d/%d\r\n"
			 "Content-Length: %llu\r\nConnection: close\r\n\r\n",
			 start, PAYLOAD_SIZE - 1, PAYLOAD_SIZE, PAYLOAD_SIZE - start);
		send_all(fd, head, strlen(head));
		send_all(fd, payload + start, PAYLOAD_SIZE - start);
	} else {
		snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			 PAYLOAD_SIZE);
		send_all(fd, head, strlen(head));
		send_all(fd, payload, PAYLOAD_SIZE);
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(s, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

static void server_start(struct server *s, enum server_mode mode)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(s->fd >= 0);
	cr_assert(bind(s->fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	cr_assert(listen(s->fd, 8) == 0);
	cr_assert(getsockname(s->fd, (struct sockaddr *)&a, &len) == 0);
	s->port = ntohs(a.sin_port);
	cr_assert(pthread_create(&s->thread, NULL, server_main, s) == 0);
}

static void server_stop(struct server *s)
{
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

/* Downloads from the server into f->dst, which holds partial bytes of the payload first. */
static int fetch_http(struct server *s, struct files *f, size_t partial, struct download *d,
		      struct den_err *err)
{
	char url[128];

	if (partial > 0)
		put(f->dst, payload, partial);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/den/debian-12.box", s->port);
	return fetch(url, f->dst, d, err);
}

Test(download, over_http_the_range_starts_at_the_partial_files_size)
{
	struct files f;
	struct server s;
	struct download d;
	struct den_err err = { 0 };
	char want[DIGEST_HEX_MAX];

	files_init(&f);
	sha256(payload, PAYLOAD_SIZE, want);
	server_start(&s, HONOUR_RANGE);
	int rc = fetch_http(&s, &f, 123456, &d, &err);
	server_stop(&s);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_expect_eq(s.requests, 1, "one request, no restart");
	cr_expect_str_eq(s.ranges[0], "Range: bytes=123456-");
	cr_expect_eq(d.resumed_from, 123456);
	cr_expect_str_eq(d.hex, want);
	expect_whole(f.dst);
	files_free(&f);
}

Test(download, over_http_a_fresh_download_asks_for_no_range)
{
	struct files f;
	struct server s;
	struct download d;
	struct den_err err = { 0 };

	files_init(&f);
	server_start(&s, HONOUR_RANGE);
	int rc = fetch_http(&s, &f, 0, &d, &err);
	server_stop(&s);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_expect_str_eq(s.ranges[0], "");
	expect_whole(f.dst);
	files_free(&f);
}

Test(download, a_server_that_ignores_range_gives_the_whole_file_once)
{
	struct files f;
	struct server s;
	struct download d;
	struct den_err err = { 0 };
	char want[DIGEST_HEX_MAX];

	files_init(&f);
	sha256(payload, PAYLOAD_SIZE, want);
	server_start(&s, IGNORE_RANGE);
	int rc = fetch_http(&s, &f, 100000, &d, &err);
	server_stop(&s);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_expect_str_eq(s.ranges[0], "Range: bytes=100000-");
	cr_expect_eq(s.requests, 2, "asked for the rest, then for the whole file");
	cr_expect_str_eq(s.ranges[1], "", "the second request asks for no range");
	cr_expect_eq(d.resumed_from, 0);
	cr_expect_str_eq(d.hex, want);
	expect_whole(f.dst); /* not 100000 bytes, then the whole file after them */
	files_free(&f);
}

Test(download, a_partial_file_longer_than_the_servers_starts_over)
{
	struct files f;
	struct server s;
	struct download d;
	struct den_err err = { 0 };
	char *longer = calloc(1, PAYLOAD_SIZE + 10);

	files_init(&f);
	cr_assert_not_null(longer);
	put(f.dst, longer, PAYLOAD_SIZE + 10);
	free(longer);
	server_start(&s, HONOUR_RANGE);
	int rc = fetch_http(&s, &f, 0, &d, &err);
	server_stop(&s);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_expect_eq(s.requests, 2, "416, then the whole file");
	cr_expect_eq(d.resumed_from, 0);
	expect_whole(f.dst);
	files_free(&f);
}

Test(download, an_error_while_resuming_keeps_the_partial_file_a_fresh_one_leaves_nothing)
{
	struct files f;
	struct server s;
	struct download d;
	struct den_err err = { 0 };

	files_init(&f);
	server_start(&s, NOT_FOUND);
	cr_expect(fetch_http(&s, &f, 1000, &d, &err) < 0);
	cr_expect(strstr(err.msg, "the server answered HTTP 404") != NULL, "%s", err.msg);
	struct stat st;
	cr_expect(stat(f.dst, &st) == 0 && st.st_size == 1000,
		  "the 1000 bytes stay as they were, to resume later");
	unlink(f.dst);
	cr_expect(fetch_http(&s, &f, 0, &d, &err) < 0);
	cr_expect_neq(access(f.dst, F_OK), 0, "an error page is not kept as a partial box");
	server_stop(&s);
	files_free(&f);
}
