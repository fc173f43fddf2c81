/* SPDX-License-Identifier: MIT */
/* Machines of one command side by side, each in a child process (parallel.h). */
#include "cmd/parallel.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One machine's child: its stdout and stderr, and its error at the end. */
struct child {
	pid_t pid;
	int out, err, result; /* den's ends, -1 once closed */
	char line[2][1024];   /* a line being gathered, per stream */
	size_t have[2];
	char why[DEN_ERR_MSG_MAX + 32]; /* "KIND ERRNO MESSAGE" */
	size_t why_len;
	bool done;
};

static bool in_child;

bool parallel_in_child(void)
{
	return in_child;
}

#define PARALLEL_MAX 64 /* machines side by side; more: one after another */

static const char *const colours[] = { "36", "33", "35", "32", "34", "31" };

/* A whole line from machine i, prefixed with its name, to den's stdout or stderr. */
static void put_line(const struct parallel_opts *o, const char *name, size_t i, int stream,
		     const char *text, size_t len)
{
	FILE *f = stream == 0 ? stdout : stderr;

	if (o->color)
		fprintf(f, "\033[%sm%s |\033[0m %.*s\n", colours[i % 6], name, (int)len, text);
	else
		fprintf(f, "%s | %.*s\n", name, (int)len, text);
	fflush(f);
}

/* Reads what the child wrote on stream (0: stdout, 1: stderr): 1 some, 0 none now, -1 its end. */
static int pump(const struct parallel_opts *o, const char *name, size_t i, struct child *c,
		int stream)
{
	int *fd = stream == 0 ? &c->out : &c->err;
	char buf[4096];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		if (c->have[stream] > 0)
			put_line(o, name, i, stream, c->line[stream], c->have[stream]);
		c->have[stream] = 0;
		close(*fd);
		*fd = -1;
		return -1;
	}
	for (ssize_t k = 0; k < n; k++) {
		char ch = buf[k];
		/* A progress bar's \r ends its line too: each state of it, one line. */
		if (ch == '\n' || ch == '\r' || c->have[stream] == sizeof(c->line[0])) {
			if (c->have[stream] > 0)
				put_line(o, name, i, stream, c->line[stream], c->have[stream]);
			c->have[stream] = 0;
			if (ch == '\n' || ch == '\r')
				continue;
		}
		c->line[stream][c->have[stream]++] = ch;
	}
	return 1;
}

/* The child's side: job for machine i with its output into the pipes; never returns. */
static __attribute__((noreturn)) void run_child(parallel_job_fn *job, void *arg, size_t i, int out,
						int errfd, int result)
{
	struct den_err err = { 0 };

	in_child = true;
	signal(SIGPIPE, SIG_DFL);
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(errfd, STDERR_FILENO) < 0)
		_exit(125);
	int rc = job(arg, i, &err);
	fflush(stdout);
	fflush(stderr);
	if (rc < 0) {
		char line[sizeof(err.msg) + 32];
		int len = snprintf(line, sizeof(line), "%d %d %s", (int)err.kind, err.errno_,
				   err.msg[0] ? err.msg : "failed");
		(void)!write(result, line, (size_t)len);
	}
	_exit(rc < 0 ? 1 : 0);
}

static int start_child(parallel_job_fn *job, void *arg, size_t i, struct child *c,
		       struct den_err *err)
{
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };

	for (int k = 0; k < 3; k++)
		if (pipe2(p[k], O_CLOEXEC) < 0) {
			int saved = errno;
			for (int j = 0; j < k; j++)
				close(p[j][0]), close(p[j][1]);
			return den_err_set(err, saved, "cannot start a machine's part");
		}
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid == 0)
		run_child(job, arg, i, p[0][1], p[1][1], p[2][1]);
	for (int k = 0; k < 3; k++)
		close(p[k][1]);
	if (c->pid < 0) {
		int saved = errno;
		for (int k = 0; k < 3; k++)
			close(p[k][0]);
		return den_err_set(err, saved, "cannot start a machine's part");
	}
	/* Read without waiting: a process the child left running may hold them open. */
	for (int k = 0; k < 3; k++)
		fcntl(p[k][0], F_SETFL, fcntl(p[k][0], F_GETFL) | O_NONBLOCK);
	c->out = p[0][0];
	c->err = p[1][0];
	c->result = p[2][0];
	return 0;
}

/*
 * The child has ended with status st: what is left of its output out, its
 * error (from the result pipe, or how it died) into *e. False if it failed.
 */
static bool finish(const struct parallel_opts *o, const char *name, size_t i, struct child *c,
		   int st, struct den_err *e)
{
	ssize_t n;

	/* What it wrote before it ended is all there: read to the end, or to what is left. */
	while (c->out >= 0 && pump(o, name, i, c, 0) > 0)
		;
	while (c->err >= 0 && pump(o, name, i, c, 1) > 0)
		;
	for (int s = 0; s < 2; s++) {
		int *fd = s == 0 ? &c->out : &c->err;
		if (c->have[s] > 0)
			put_line(o, name, i, s, c->line[s], c->have[s]);
		c->have[s] = 0;
		if (*fd >= 0)
			close(*fd), *fd = -1;
	}
	while ((n = read(c->result, c->why + c->why_len, sizeof(c->why) - 1 - c->why_len)) > 0)
		c->why_len += (size_t)n;
	close(c->result);
	c->result = -1;
	c->done = true;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return true;
	c->why[c->why_len] = '\0';
	int kind = 0, errno_ = 0, at = 0;
	if (sscanf(c->why, "%d %d %n", &kind, &errno_, &at) == 2 && at > 0) {
		e->kind = (enum den_err_kind)kind;
		e->errno_ = errno_;
		snprintf(e->msg, sizeof(e->msg), "%s", c->why + at);
	} else if (WIFSIGNALED(st)) {
		den_err_set(e, 0, "its den was killed by signal %d", WTERMSIG(st));
	} else {
		den_err_set(e, 0, "its den ended with exit %d and no word why",
			    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return false;
}

/* Runs every machine's part in children, at most o->jobs at once; errs[i] gets each one's error. */
static void run_children(const struct parallel_opts *o, const char *const *names, size_t n,
			 parallel_job_fn *job, void *arg, struct child *cs, struct den_err *errs,
			 bool *good)
{
	size_t next = 0, running = 0, finished = 0;
	unsigned cap = o->jobs ? o->jobs : (unsigned)n;

	while (finished < n) {
		while (next < n && running < cap) {
			struct child *c = &cs[next];
			if (start_child(job, arg, next, c, &errs[next]) < 0) {
				c->done = true, finished++, next++;
				continue;
			}
			running++, next++;
		}
		struct pollfd p[2 * PARALLEL_MAX];
		size_t who[2 * PARALLEL_MAX], nfds = 0;
		for (size_t i = 0; i < next; i++) {
			if (cs[i].done)
				continue;
			for (int s = 0; s < 2; s++) {
				int fd = s == 0 ? cs[i].out : cs[i].err;
				if (fd >= 0) {
					who[nfds] = i * 2 + (size_t)s;
					p[nfds++] = (struct pollfd){ fd, POLLIN, 0 };
				}
			}
		}
		/* A short wait: a child is done when it exits, whoever still holds its pipes. */
		if (poll(p, nfds, 100) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < nfds; k++)
			if (p[k].revents)
				pump(o, names[who[k] / 2], who[k] / 2, &cs[who[k] / 2],
				     (int)(who[k] % 2));
		for (size_t i = 0; i < next; i++) {
			int st;
			if (cs[i].done || cs[i].pid <= 0 ||
			    waitpid(cs[i].pid, &st, WNOHANG) != cs[i].pid)
				continue;
			good[i] = finish(o, names[i], i, &cs[i], st, &errs[i]);
			running--, finished++;
		}
	}
}

int parallel_run(const struct parallel_opts *o, const char *const *names, size_t n,
		 parallel_job_fn *job, void *arg, bool *ok, struct den_err *err)
{
	struct den_err *errs = calloc(n + 1, sizeof(*errs));
	struct child *cs = calloc(n + 1, sizeof(*cs));
	bool *good = calloc(n + 1, sizeof(*good));
	size_t failed = 0, last = 0;

	if (errs == NULL || cs == NULL || good == NULL) {
		free(errs), free(cs), free(good);
		return den_err_set(err, ENOMEM, "out of memory");
	}
	if (n == 1 || o->serial || n > PARALLEL_MAX) {
		for (size_t i = 0; i < n; i++)
			good[i] = job(arg, i, &errs[i]) == 0;
	} else {
		for (size_t i = 0; i < n; i++)
			cs[i].out = cs[i].err = cs[i].result = -1;
		run_children(o, names, n, job, arg, cs, errs, good);
	}
	for (size_t i = 0; i < n; i++) {
		if (!good[i] && !den_err_is_set(&errs[i]))
			den_err_set(&errs[i], 0, "failed");
		if (ok != NULL)
			ok[i] = good[i];
		if (!good[i])
			failed++, last = i;
	}
	/* The end: a line for each machine, when there are several. */
	for (size_t i = 0; n > 1 && i < n; i++) {
		if (good[i])
			den_info("%s: ok", names[i]);
		else
			den_warn("%s: %s", names[i], errs[i].msg);
	}
	int rc = 0;
	if (failed == 1) {
		*err = errs[last];
		rc = -1;
	} else if (failed > 1) {
		char list[512] = "";
		size_t at = 0;
		for (size_t i = 0; i < n && at < sizeof(list); i++)
			if (den_err_is_set(&errs[i]))
				at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s",
						       at ? ", " : "", names[i]);
		rc = den_err_set(err, 0,
				 "%zu of %zu machines failed: %s (each one's error is above)",
				 failed, n, list);
	}
	free(errs);
	free(cs);
	free(good);
	return rc;
}
