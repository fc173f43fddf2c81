/* SPDX-License-Identifier: MIT */
#include "providers/qemu/qmp.h"
#include "core/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* QEMU's replies are small; a line past this is not QMP. */
#define LINE_MAX_BYTES (1 << 20)

struct qmp {
	int fd;
	int timeout_ms;
	char *buf; /* bytes read and not yet taken as lines */
	size_t len, cap;
	unsigned long next_id;
};

/* The next JSON object QEMU sends (a new reference), within the deadline. */
static json_t *read_message(struct qmp *q, long long deadline, struct den_err *err)
{
	for (;;) {
		char *nl = q->len > 0 ? memchr(q->buf, '\n', q->len) : NULL;
		if (nl != NULL) {
			size_t n = (size_t)(nl - q->buf) + 1;
			json_error_t jerr;
			json_t *j = json_loadb(q->buf, n, 0, &jerr);
			memmove(q->buf, q->buf + n, q->len - n);
			q->len -= n;
			if (j == NULL || !json_is_object(j)) {
				json_decref(j);
				den_err_set(err, EPROTO, "QEMU sent something that is not QMP");
				return NULL;
			}
			return j;
		}
		if (q->len >= LINE_MAX_BYTES) {
			den_err_set(err, EPROTO, "QEMU sent a line longer than QMP's");
			return NULL;
		}
		long long left = deadline - den_now_ms();
		struct pollfd p = { q->fd, POLLIN, 0 };
		int r = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			den_err_set(err, ETIMEDOUT,
				    "QEMU did not answer on its QMP socket in %d ms",
				    q->timeout_ms);
			return NULL;
		}
		if (q->cap - q->len < 4096) {
			size_t cap = q->cap ? q->cap * 2 : 8192;
			char *b = realloc(q->buf, cap);
			if (b == NULL) {
				den_err_set(err, ENOMEM, "QMP");
				return NULL;
			}
			q->buf = b;
			q->cap = cap;
		}
		ssize_t got = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			den_err_set(err, got < 0 ? errno : ECONNRESET,
				    "QEMU closed its QMP socket (it has stopped)");
			return NULL;
		}
		q->len += (size_t)got;
	}
}

static int send_all(struct qmp *q, const char *text, struct den_err *err)
{
	size_t len = strlen(text);

	while (len > 0) {
		ssize_t n = send(q->fd, text, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return den_err_set(err, errno, "cannot write to QEMU's QMP socket");
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

int qmp_execute(struct qmp *q, const char *command, json_t *args, json_t **ret, struct den_err *err)
{
	unsigned long id = ++q->next_id;
	json_t *req = json_pack("{s:s, s:I}", "execute", command, "id", (json_int_t)id);

	if (ret != NULL)
		*ret = NULL;
	if (req == NULL) {
		json_decref(args);
		return den_err_set(err, ENOMEM, "QMP");
	}
	if (args != NULL)
		json_object_set_new(req, "arguments", args);
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return den_err_set(err, ENOMEM, "QMP");
	int rc = send_all(q, text, err);
	free(text);
	if (rc < 0 || send_all(q, "\n", err) < 0)
		return -1;
	long long deadline = den_now_ms() + q->timeout_ms;
	for (;;) {
		json_t *m = read_message(q, deadline, err);
		if (m == NULL)
			return den_err_wrap(err, "%s", command);
		json_t *mid = json_object_get(m, "id");
		if (json_object_get(m, "event") != NULL || mid == NULL ||
		    json_integer_value(mid) != (json_int_t)id) {
			json_decref(m); /* an event, or an answer to nothing den asked */
			continue;
		}
		json_t *e = json_object_get(m, "error");
		if (e != NULL) {
			const char *desc = json_string_value(json_object_get(e, "desc"));
			den_err_set(err, 0, "qemu refused %s: %s", command,
				    desc ? desc : "no reason given");
			json_decref(m);
			return -1;
		}
		json_t *r = json_object_get(m, "return");
		if (r == NULL) {
			json_decref(m);
			return den_err_set(err, EPROTO,
					   "QEMU answered %s with neither return nor error",
					   command);
		}
		if (ret != NULL)
			*ret = json_incref(r);
		json_decref(m);
		return 0;
	}
}

int qmp_connect(const char *path, int timeout_ms, struct qmp **out, struct den_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct qmp *q = calloc(1, sizeof(*q));

	*out = NULL;
	if (q == NULL)
		return den_err_set(err, ENOMEM, "QMP");
	q->timeout_ms = timeout_ms;
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strlen(path) >= sizeof(a.sun_path)) {
		qmp_close(q);
		return den_err_set(err, ENAMETOOLONG, "QMP socket path %s is too long", path);
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		den_err_set(err, errno, "cannot reach QEMU's QMP socket %s", path);
		qmp_close(q);
		return -1;
	}
	json_t *hello = read_message(q, den_now_ms() + timeout_ms, err);
	if (hello == NULL || json_object_get(hello, "QMP") == NULL) {
		if (hello != NULL)
			den_err_set(err, EPROTO, "%s does not greet as QMP does", path);
		json_decref(hello);
		qmp_close(q);
		return -1;
	}
	json_decref(hello);
	if (qmp_execute(q, "qmp_capabilities", NULL, NULL, err) < 0) {
		qmp_close(q);
		return -1;
	}
	*out = q;
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q);
}
