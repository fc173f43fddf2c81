/* SPDX-License-Identifier: MIT */
/*
 * A den container box on LXD: uploaded once as an image (tarball.c makes
 * its bytes), known by its fingerprint (the tarball's sha256), aliased
 * den/BOX/VERSION in the project. The fingerprint is kept beside the box
 * in the store (lxd-image), so later machines ask LXD for it by
 * fingerprint and upload nothing; a second host computes the same one
 * from the same box, and finds it there too.
 *
 * The upload streams: a thread writes the tarball into a socket pair,
 * libcurl reads the other end, and the bytes are hashed on the way, so
 * what LXD got is checked against what den meant to send.
 */
#include "providers/lxd/lxd-internal.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/fsutil.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CACHE_NAME "lxd-image"

static bool is_fingerprint(const char *s)
{
	return s != NULL && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int hash_write(void *arg, const void *buf, size_t len)
{
	digest_update(arg, buf, len);
	return 0;
}

/* The fingerprint the box's tarball will have: its sha256, without sending it. */
static int compute_fingerprint(const char *box_dir, const char *box, const char *version,
			       char fp[65], struct den_err *err)
{
	struct digest *d = digest_new(DIGEST_SHA256);
	char hex[DIGEST_HEX_MAX];

	if (d == NULL)
		return den_err_set(err, ENOMEM, "LXD image");
	if (lxd_tarball_write(box_dir, box, version, hash_write, d, err) < 0) {
		digest_free(d);
		return -1;
	}
	digest_final_hex(d, hex);
	digest_free(d);
	memcpy(fp, hex, 64);
	fp[64] = '\0';
	return 0;
}

struct upload {
	const char *box_dir, *box, *version;
	int fds[2];	     /* [0]: curl reads; [1]: the thread writes */
	struct den_err werr; /* the writer's failure */
	struct digest *sent; /* of what curl took */
	unsigned long long bytes;
	long long started, drawn;
	bool progress;
};

static int send_all(void *arg, const void *buf, size_t len)
{
	struct upload *u = arg;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(u->fds[1], p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return den_err_set(&u->werr, errno, "LXD stopped reading the image");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *writer(void *arg)
{
	struct upload *u = arg;

	lxd_tarball_write(u->box_dir, u->box, u->version, send_all, u, &u->werr);
	shutdown(u->fds[1], SHUT_WR);
	return NULL;
}

static void draw(struct upload *u, bool last)
{
	long long now = den_now_ms();
	double s = (double)(now - u->started) / 1000.0;

	if (!u->progress || (!last && now - u->drawn < 100))
		return;
	u->drawn = now;
	fprintf(stderr, "\r\033[K    %s %s to LXD: %.1f MiB, %.0f MiB/s%s", u->box, u->version,
		(double)u->bytes / 1048576.0, s > 0 ? (double)u->bytes / 1048576.0 / s : 0.0,
		last ? "\n" : "");
}

static long reader(void *arg, char *buf, size_t len)
{
	struct upload *u = arg;
	ssize_t n;

	do
		n = recv(u->fds[0], buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0 && den_err_is_set(&u->werr))
		return -1; /* the tarball is not whole: never let LXD take a shorter one */
	digest_update(u->sent, buf, (size_t)n);
	u->bytes += (unsigned long long)n;
	draw(u, false);
	return (long)n;
}

/* Sends the box to LXD as an image whose fingerprint must be fp. */
static int upload(struct lxd_client *c, const char *box_dir, const char *box, const char *version,
		  const char fp[65], struct den_err *err)
{
	struct upload u = { .box_dir = box_dir, .box = box, .version = version, .fds = { -1, -1 } };
	char fp_header[100], hex[DIGEST_HEX_MAX];
	const char *headers[] = { "Content-Type: application/octet-stream", fp_header,
				  "X-LXD-public: false", NULL };
	pthread_t t;
	int rc;

	snprintf(fp_header, sizeof(fp_header), "X-LXD-fingerprint: %s", fp);
	u.sent = digest_new(DIGEST_SHA256);
	u.progress = c->progress;
	u.started = u.drawn = den_now_ms();
	if (u.sent == NULL)
		return den_err_set(err, ENOMEM, "LXD image");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u.fds) < 0) {
		digest_free(u.sent);
		return den_err_set(err, errno, "cannot upload box %s", box);
	}
	if (pthread_create(&t, NULL, writer, &u) != 0) {
		close(u.fds[0]);
		close(u.fds[1]);
		digest_free(u.sent);
		return den_err_set(err, EAGAIN, "cannot upload box %s", box);
	}
	den_info("uploading box %s %s to %s as an image (once)", box, version, c->where);
	struct lxd_request r = { .method = "POST",
				 .path = "/1.0/images",
				 .read = reader,
				 .read_arg = &u,
				 .headers = headers };
	json_t *md = NULL;
	rc = lxd_run(c, &r, &md, err);
	/* Whatever curl did, the writer must end: it does once its reader is gone. */
	shutdown(u.fds[0], SHUT_RDWR);
	pthread_join(t, NULL);
	close(u.fds[0]);
	close(u.fds[1]);
	draw(&u, true);
	digest_final_hex(u.sent, hex);
	digest_free(u.sent);
	const char *got = json_string_value(json_object_get(md, "fingerprint"));
	if (den_err_is_set(&u.werr)) {
		*err = u.werr; /* the tarball, not LXD, went wrong first */
		rc = -1;
	} else if (rc == 0 && strcmp(hex, fp) != 0)
		rc = den_err_set(err, 0,
				 "box %s changed while it was uploaded to LXD; run den up again",
				 box);
	else if (rc == 0 && (got == NULL || strcmp(got, fp) != 0))
		rc = den_err_set(err, 0, "%s made image %.12s of it, not %.12s", c->where,
				 got ? got : "(none)", fp);
	json_decref(md);
	return rc < 0 ? den_err_wrap(err, "cannot upload box %s %s to LXD", box, version) : 0;
}

/* Points alias at fp: made, or moved from an older build of the box. */
static int set_alias(struct lxd_client *c, const char *alias, const char *fp, struct den_err *err)
{
	cleanup_free char *name = lxd_escape(alias), *path = NULL;
	json_t *md = NULL;

	if (name == NULL || asprintf(&path, "/1.0/images/aliases/%s", name) < 0)
		return den_err_set(err, ENOMEM, "LXD image alias");
	if (lxd_call(c, "GET", path, NULL, &md, NULL, err) == 0) {
		const char *target = json_string_value(json_object_get(md, "target"));
		bool same = target != NULL && strcmp(target, fp) == 0;
		json_decref(md);
		if (same)
			return 0;
		json_t *body = json_pack("{s:s, s:s}", "target", fp, "description", "den box");
		int rc = lxd_call(c, "PUT", path, body, NULL, "cannot move image alias", err);
		json_decref(body);
		return rc;
	}
	if (err->errno_ != ENOENT)
		return -1;
	den_err_clear(err);
	json_t *body =
		json_pack("{s:s, s:s, s:s}", "name", alias, "target", fp, "description", "den box");
	int rc = lxd_call(c, "POST", "/1.0/images/aliases", body, NULL, "cannot make image alias",
			  err);
	json_decref(body);
	return rc;
}

/* Does LXD (this project) hold the image fp? */
static int have_image(struct lxd_client *c, const char *fp, bool *out, struct den_err *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "/1.0/images/%s", fp) < 0)
		return den_err_set(err, ENOMEM, "LXD image");
	*out = lxd_call(c, "GET", path, NULL, NULL, NULL, err) == 0;
	if (!*out && err->errno_ != ENOENT)
		return -1;
	den_err_clear(err);
	return 0;
}

static int ensure_locked(struct lxd_client *c, const char *box_dir, const char *box,
			 const char *version, char fp[65], struct den_err *err)
{
	cleanup_free char *cache = NULL, *cached = NULL, *alias = NULL;
	struct den_err ignored = { 0 };
	bool have = false;

	if (asprintf(&cache, "%s/" CACHE_NAME, box_dir) < 0 ||
	    asprintf(&alias, "den/%s/%s", box, version) < 0)
		return den_err_set(err, ENOMEM, "LXD image");
	if (den_read_file(cache, 128, &cached, NULL, &ignored) == 0) {
		cached[strcspn(cached, "\n")] = '\0';
		if (is_fingerprint(cached))
			snprintf(fp, 65, "%s", cached);
		else
			fp[0] = '\0';
	} else {
		fp[0] = '\0';
	}
	if (fp[0] == '\0') {
		long long t0 = den_now_ms();
		if (compute_fingerprint(box_dir, box, version, fp, err) < 0)
			return -1;
		den_debug("box %s %s: LXD fingerprint %.12s in %lld ms", box, version, fp,
			  den_now_ms() - t0);
		/* Only a cache: without it, the next up computes it again. */
		char line[80];
		snprintf(line, sizeof(line), "%s\n", fp);
		if (den_write_file_atomic(cache, line, 0644, &ignored) < 0)
			den_debug("cannot keep %s: %s", cache, ignored.msg);
	}
	if (have_image(c, fp, &have, err) < 0)
		return -1;
	if (!have && upload(c, box_dir, box, version, fp, err) < 0) {
		/* Another host may have sent the same bytes meanwhile: then LXD has it. */
		struct den_err again = { 0 };
		if (have_image(c, fp, &have, &again) < 0 || !have)
			return -1;
		den_err_clear(err);
	}
	return set_alias(c, alias, fp, err);
}

int lxd_image_ensure(struct lxd_client *c, const char *box_dir, const char *box,
		     const char *version, char fp[65], struct den_err *err)
{
	cleanup_free char *lock = NULL;
	cleanup_close int fd = -1;

	/* Machines coming up side by side from one store: the first uploads, the others wait. */
	if (asprintf(&lock, "%s/" CACHE_NAME ".lock", box_dir) < 0)
		return den_err_set(err, ENOMEM, "LXD image");
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return den_err_set(err, errno, "cannot lock %s", lock);
	return ensure_locked(c, box_dir, box, version, fp, err);
}

int lxd_image_release(struct lxd_client *c, const char *fp, struct den_err *err)
{
	cleanup_free char *path = NULL;
	json_t *list = NULL, *image = NULL, *v;
	size_t i;

	if (!is_fingerprint(fp))
		return 0;
	if (lxd_call(c, "GET", "/1.0/instances?recursion=1", NULL, &list, NULL, err) < 0)
		return -1;
	json_array_foreach(list, i, v)
	{
		const char *base = json_string_value(
			json_object_get(json_object_get(v, "config"), "volatile.base_image"));
		if (base != NULL && strcmp(base, fp) == 0) {
			json_decref(list);
			return 0; /* another instance was made from it */
		}
	}
	json_decref(list);
	if (asprintf(&path, "/1.0/images/%s", fp) < 0)
		return den_err_set(err, ENOMEM, "LXD image");
	if (lxd_call(c, "GET", path, NULL, &image, NULL, err) < 0) {
		if (err->errno_ != ENOENT)
			return -1;
		den_err_clear(err);
		return 0;
	}
	/* Only an image den uploaded, and its den/ aliases. */
	json_t *props = json_object_get(image, "properties");
	bool ours = json_string_value(json_object_get(props, "den.box")) != NULL;
	json_array_foreach(json_object_get(image, "aliases"), i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		cleanup_free char *esc = name ? lxd_escape(name) : NULL, *apath = NULL;
		if (!ours || esc == NULL || strncmp(name, "den/", 4) != 0 ||
		    asprintf(&apath, "/1.0/images/aliases/%s", esc) < 0)
			continue;
		if (lxd_call(c, "DELETE", apath, NULL, NULL, "cannot remove image alias", err) < 0)
			break;
	}
	json_decref(image);
	if (den_err_is_set(err) || !ours)
		return den_err_is_set(err) ? -1 : 0;
	return lxd_call(c, "DELETE", path, NULL, NULL, "cannot remove the box's image", err);
}
