/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_CONTROL_H
#define DEN_CORE_CONTROL_H

/*
 * The control socket of a machine's supervisor (DESIGN.md §3):
 * .den/machines/NAME/control.sock, one JSON object per line. A client
 * connects, sends {"cmd": "status"|"halt"|"kill"}, reads one reply line
 * ({"ok": true, ...} or {"ok": false, "error": "..."}), and hangs up.
 */

#include <jansson.h>

#include "core/err.h"

/* Sends cmd and returns the reply (a new reference). A missing or dead socket fails with ECONNREFUSED or ENOENT in err->errno_. */
int control_request(const char *path, const char *cmd, json_t **reply, struct den_err *err);

/*
 * The same for a request with arguments ({"cmd": "snapshot", "dir": ...};
 * req is not consumed), waiting up to timeout_ms for the reply: for
 * commands that take longer than control_request's few seconds.
 */
int control_call(const char *path, const json_t *req, int timeout_ms, json_t **reply,
		 struct den_err *err);

/* The same, passing the descriptor pass (SCM_RIGHTS) with the request. */
int control_call_passing(const char *path, const json_t *req, int pass, int timeout_ms,
			 json_t **reply, struct den_err *err);

/* Server side: a listening socket at path (replacing a stale one), nonblocking. */
int control_listen(const char *path, struct den_err *err);

/*
 * Reads one request from a connected client (with a short timeout) and
 * returns its "cmd" (malloc'd), or NULL for a bad request.
 */
char *control_read_cmd(int fd);

/* The same, the whole request (a new reference, "cmd" a string), for commands with arguments. */
json_t *control_read_request(int fd);

/*
 * The same, with the descriptor the client passed with it in *passed
 * (close-on-exec; -1 when none, and when the request is NULL the caller
 * still closes one that came).
 */
json_t *control_read_request_passed(int fd, int *passed);

/* Writes one reply line: j is consumed. */
void control_reply(int fd, json_t *j);

#endif
