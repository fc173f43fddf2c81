/* SPDX-License-Identifier: MIT */
#include "core/control.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096
#define TIMEOUT_MS 3000

static int fill_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -1;
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Reads up to a newline (or EOF) within timeout_ms. */
static ssize_t read_line_within(int fd, char *buf, size_t n, int timeout_ms)
{
	size_t got = 0;

	while (got + 1 < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		ssize_t r = read(fd, buf + got, n - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static ssize_t read_line(int fd, char *buf, size_t n)
{
	return read_line_within(fd, buf, n, TIMEOUT_MS);
}

/* line on fd in one message, with pass (when >= 0) alongside it (SCM_RIGHTS). */
static int send_line(int fd, const char *line, int pass)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { (void *)line, strlen(line) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass >= 0) {
		memset(control.buf, 0, sizeof(control.buf));
		m.msg_control = control.buf;
		m.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	return sendmsg(fd, &m, MSG_NOSIGNAL) == (ssize_t)strlen(line) ? 0 : -1;
}

int control_call(const char *path, const json_t *req, int timeout_ms, json_t **reply,
		 struct den_err *err)
{
	return control_call_passing(path, req, -1, timeout_ms, reply, err);
}

int control_call_passing(const char *path, const json_t *req, int pass, int timeout_ms,
			 json_t **reply, struct den_err *err)
{
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cleanup_free char *text = json_dumps(req, JSON_COMPACT);
	cleanup_free char *line = NULL;
	char answer[LINE_MAX_BYTES];
	struct sockaddr_un a;

	if (fd < 0 || fill_addr(&a, path) < 0)
		return den_err_set(err, fd < 0 ? errno : ENAMETOOLONG, "cannot reach %s", path);
	/* Only a supervisor of den's user answers for a machine: no link, no stranger's socket. */
	if (den_check_own_socket(path, err) < 0)
		return -1;
	if (text == NULL || asprintf(&line, "%s\n", text) < 0 || strlen(line) >= LINE_MAX_BYTES)
		return den_err_set(err, EINVAL, "cannot send that request to %s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return den_err_set(err, errno, "cannot reach the supervisor at %s", path);
	if (send_line(fd, line, pass) < 0)
		return den_err_set(err, errno, "cannot talk to the supervisor at %s", path);
	if (read_line_within(fd, answer, sizeof(answer), timeout_ms) <= 0)
		return den_err_set(err, ETIMEDOUT, "the supervisor at %s did not answer", path);
	*reply = json_loads(answer, 0, NULL);
	if (*reply == NULL)
		return den_err_set(err, 0, "the supervisor at %s answered nonsense", path);
	return 0;
}

int control_request(const char *path, const char *cmd, json_t **reply, struct den_err *err)
{
	json_t *req = json_pack("{s:s}", "cmd", cmd);

	if (req == NULL)
		return den_err_set(err, ENOMEM, "cannot reach %s", path);
	int rc = control_call(path, req, TIMEOUT_MS, reply, err);
	json_decref(req);
	return rc;
}

int control_listen(const char *path, struct den_err *err)
{
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un a;

	if (fd < 0 || fill_addr(&a, path) < 0)
		return den_err_set(err, fd < 0 ? errno : ENAMETOOLONG, "cannot listen at %s", path);
	unlink(path); /* a socket left by a killed supervisor */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
		return den_err_set(err, errno, "cannot listen at %s", path);
	return steal_fd(&fd);
}

/* A request line as JSON whose "cmd" is a string, or NULL. */
static json_t *parse_request(const char *line)
{
	json_t *j = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);

	if (json_string_value(json_object_get(j, "cmd")) == NULL) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *control_read_request(int fd)
{
	char line[LINE_MAX_BYTES];

	if (read_line(fd, line, sizeof(line)) <= 0)
		return NULL;
	return parse_request(line);
}

json_t *control_read_request_passed(int fd, int *passed)
{
	char line[LINE_MAX_BYTES];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { line, sizeof(line) - 1 };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf) };
	struct pollfd p = { fd, POLLIN, 0 };

	*passed = -1;
	if (poll(&p, 1, TIMEOUT_MS) <= 0)
		return NULL;
	/* The client sends the line and the descriptor in one message (send_line). */
	ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n > 0 && c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(passed, CMSG_DATA(c), sizeof(int));
	if (n <= 0 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return NULL;
	line[n] = '\0';
	return parse_request(line);
}

char *control_read_cmd(int fd)
{
	json_t *j = control_read_request(fd);
	char *cmd = j ? strdup(json_string_value(json_object_get(j, "cmd"))) : NULL;

	json_decref(j);
	return cmd;
}

void control_reply(int fd, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL, *line = NULL;

	/* One send, and no SIGPIPE: a client that has gone must not end the supervisor. */
	if (text != NULL && asprintf(&line, "%s\n", text) >= 0)
		(void)!send(fd, line, strlen(line), MSG_NOSIGNAL);
	free(line);
	free(text);
	json_decref(j);
}
