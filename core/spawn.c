/* SPDX-License-Identifier: MIT */
/*
 * The one fork and exec of den (spawn.h). All the child needs (the
 * program's path, its environment) is made before fork: den may have
 * threads, so the child calls only async-signal-safe functions. A
 * close-on-exec pipe carries the errno of a failed step back; EOF on it
 * means the exec happened (as git's run-command.c).
 */
#include "core/spawn.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define TAIL_BYTES 2048 /* what den_spawn_run keeps of stderr: at most this... */
#define TAIL_LINES 10	/* ...and these many last lines */
#define INHERIT (-1)	/* a plan's std[i]: den's own */
#define DEV_NULL (-2)	/* a plan's std[i]: /dev/null, opened in the child */

/* Which step failed in the child, and its errno: sent on the report pipe. */
enum stage { STAGE_FDS = 1, STAGE_CWD, STAGE_EXEC };
struct report {
	int stage;
	int errno_;
};

/* What the child does, made before fork. */
struct plan {
	const struct den_spawn *sp;
	const char *file;  /* to execve */
	char *const *envp; /* its environment */
	int std[3];	   /* what becomes its 0, 1, 2: a descriptor, INHERIT or DEV_NULL */
	pid_t parent;	   /* den, to see whether it died before PR_SET_PDEATHSIG */
};

static const char *shown(const struct den_spawn *sp)
{
	return sp->name != NULL ? sp->name : sp->argv[0];
}

/* $PATH as the child sees it: from sp->env when that sets it. */
static const char *search_path(const char *const *env)
{
	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			return env[i] + 5;
	const char *p = getenv("PATH");
	return p != NULL ? p : "/usr/local/bin:/usr/bin:/bin";
}

/* Looks name up in path as execvp would; 0, or ENOENT or EACCES. */
static int find_program(const char *name, const char *path, char *out, size_t n)
{
	int e = ENOENT;

	for (const char *p = path;;) {
		const char *end = strchrnul(p, ':');
		int len = (int)(end - p);
		struct stat st;
		int w = snprintf(out, n, "%.*s/%s", len ? len : 1, len ? p : ".", name);

		if (w > 0 && (size_t)w < n && stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			e = EACCES;
		}
		if (*end == '\0')
			return e;
		p = end + 1;
	}
}

static bool same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");
	return strncmp(a, b, n) == 0 && (b[n] == '=' || b[n] == '\0');
}

/* den's environment with add's entries set (malloc'd array, borrowed strings). */
static char **make_env(const char *const *add)
{
	size_t n = 0, k = 0, m = 0;

	while (environ[n] != NULL)
		n++;
	while (add[k] != NULL)
		k++;
	char **v = calloc(n + k + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < k && !replaced; j++)
			replaced = same_name(add[j], environ[i]);
		if (!replaced)
			v[m++] = environ[i];
	}
	for (size_t j = 0; j < k; j++)
		v[m++] = (char *)add[j];
	return v;
}

/* The program's file: sp->path, or argv[0] looked up. 0 or an errno. */
static int program_file(const struct den_spawn *sp, char *buf, size_t n, const char **file)
{
	*file = sp->path != NULL ? sp->path : sp->argv[0];
	if (sp->path != NULL || strchr(sp->argv[0], '/') != NULL)
		return 0;
	*file = buf;
	return find_program(sp->argv[0], search_path(sp->env), buf, n);
}

/* The error of a program that could not be run at step stage. */
static int not_run(const struct den_spawn *sp, int stage, int e, struct den_err *err)
{
	const char *prog = sp->path != NULL ? sp->path : sp->argv[0];

	if (stage == STAGE_CWD)
		return den_err_set(err, e, "cannot run %s in %s", prog, sp->cwd);
	if (stage == STAGE_FDS)
		return den_err_set(err, e, "cannot run %s: cannot give it its descriptors", prog);
	if (e != ENOENT || sp->install == NULL)
		return den_err_set(err, e, "cannot run %s", prog);
	den_err_set(err, 0, "cannot run %s: %s (%s)", prog, strerror(e), sp->install);
	err->errno_ = e;
	return -1;
}

static __attribute__((noreturn)) void fail(int report, int stage)
{
	struct report r = { stage, errno };

	if (write(report, &r, sizeof(r)) < 0)
		_exit(127);
	_exit(127);
}

/* In the child: set up as p says and exec; never returns. */
static __attribute__((noreturn)) void child(const struct plan *p, int report)
{
	const struct den_spawn *sp = p->sp;
	int low = 3 + (int)sp->n_fds, high[3] = { -1, -1, -1 }, extra[DEN_SPAWN_MAX_FDS];
	sigset_t none;

	signal(SIGPIPE, SIG_DFL);
	/* den's handlers are not the program's: default before signals are let in. */
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;
		if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
		    sa.sa_handler != SIG_DFL) {
			sa.sa_handler = SIG_DFL;
			sa.sa_flags = 0;
			sigaction(s, &sa, NULL);
		}
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (sp->death_signal != 0) {
		prctl(PR_SET_PDEATHSIG, sp->death_signal);
		if (getppid() != p->parent) /* den ended before the line above */
			raise(sp->death_signal);
	}
	if (sp->setsid)
		setsid();
	/* Best effort, as without root there is none to make. */
	if (sp->mount_ns && unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	/*
	 * Every source is copied above the child's targets (0 .. low-1)
	 * first, so that moving one down never overwrites another.
	 */
	int moved = fcntl(report, F_DUPFD_CLOEXEC, low);
	if (moved < 0)
		fail(report, STAGE_FDS); /* still where it was: nothing has moved yet */
	report = moved;
	for (int i = 0; i < 3; i++) {
		int src = p->std[i];
		if (src == INHERIT)
			continue;
		if (src == DEV_NULL && (src = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			fail(report, STAGE_FDS);
		if ((high[i] = fcntl(src, F_DUPFD_CLOEXEC, low)) < 0)
			fail(report, STAGE_FDS);
	}
	for (size_t i = 0; i < sp->n_fds; i++)
		if ((extra[i] = fcntl(sp->fds[i], F_DUPFD_CLOEXEC, low)) < 0)
			fail(report, STAGE_FDS);
	for (int i = 0; i < 3; i++)
		if (high[i] >= 0 && dup2(high[i], i) < 0)
			fail(report, STAGE_FDS);
	for (size_t i = 0; i < sp->n_fds; i++)
		if (dup2(extra[i], 3 + (int)i) < 0)
			fail(report, STAGE_FDS);
	if (sp->close_fds) {
		if (report > low)
			close_range((unsigned)low, (unsigned)report - 1, 0);
		close_range((unsigned)report + 1, ~0U, 0);
	}
	if (sp->cwd != NULL && chdir(sp->cwd) < 0)
		fail(report, STAGE_CWD);
	execve(p->file, (char *const *)sp->argv, p->envp);
	fail(report, STAGE_EXEC);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int den_spawn_start(struct den_spawn *sp, pid_t *pid, struct den_err *err)
{
	int *field[3] = { &sp->in, &sp->out, &sp->err_fd };
	int pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, rep[2] = { -1, -1 }, e;
	struct plan p = { .sp = sp, .parent = getpid() };
	cleanup_free char **envp = NULL;
	struct report r;
	char file[4096];
	ssize_t n;

	BUG_ON(sp->argv == NULL || sp->argv[0] == NULL || sp->n_fds > DEN_SPAWN_MAX_FDS);
	e = program_file(sp, file, sizeof(file), &p.file);
	if (e != 0)
		return not_run(sp, STAGE_EXEC, e, err);
	p.envp = environ;
	if (sp->env != NULL && (p.envp = envp = make_env(sp->env)) == NULL)
		return den_err_set(err, ENOMEM, "cannot run %s", shown(sp));
	/* pipes[i][child]: the child's end; pipes[i][!child]: den's. */
	for (int i = 0, child_end = 0; i < 3; i++, child_end = 1) {
		int v = *field[i];
		BUG_ON(v <= DEN_SPAWN_CAPTURE);
		p.std[i] = v == 0 ? INHERIT : v == DEN_SPAWN_NULL ? DEV_NULL : v;
		if (v == DEN_SPAWN_PIPE) {
			if (pipe2(pipes[i], O_CLOEXEC) < 0)
				goto sys_fail;
			p.std[i] = pipes[i][child_end];
		}
	}
	if (pipe2(rep, O_CLOEXEC) < 0)
		goto sys_fail;
	*pid = fork();
	if (*pid == 0)
		child(&p, rep[1]);
	e = errno;
	close_fd(&rep[1]);
	for (int i = 0; i < 3; i++)
		close_fd(&pipes[i][i == 0 ? 0 : 1]);
	if (*pid < 0) {
		errno = e;
		goto sys_fail;
	}
	while ((n = read(rep[0], &r, sizeof(r))) < 0 && errno == EINTR)
		;
	close_fd(&rep[0]);
	if (n == (ssize_t)sizeof(r)) {
		int status;
		for (int i = 0; i < 3; i++)
			close_fd(&pipes[i][i == 0 ? 1 : 0]);
		den_spawn_wait(*pid, &status, err);
		return not_run(sp, r.stage, r.errno_, err);
	}
	for (int i = 0; i < 3; i++)
		if (*field[i] == DEN_SPAWN_PIPE)
			*field[i] = pipes[i][i == 0 ? 1 : 0];
	return 0;
sys_fail:
	e = errno;
	for (int i = 0; i < 3; i++)
		close_fd(&pipes[i][0]), close_fd(&pipes[i][1]);
	close_fd(&rep[0]);
	close_fd(&rep[1]);
	return den_err_set(err, e, "cannot run %s", shown(sp));
}

int den_spawn_wait(pid_t pid, int *status, struct den_err *err)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return den_err_set(err, errno, "cannot wait for process %d", (int)pid);
	return 0;
}

/* The last bytes of a stream. */
struct tail {
	char buf[TAIL_BYTES];
	size_t len;
	bool cut; /* bytes before buf were dropped */
};

static void tail_add(struct tail *t, const char *b, size_t n)
{
	if (n >= sizeof(t->buf)) {
		b += n - sizeof(t->buf);
		n = sizeof(t->buf);
	}
	if (t->len + n > sizeof(t->buf)) {
		size_t drop = t->len + n - sizeof(t->buf);
		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
		t->cut = true;
	}
	memcpy(t->buf + t->len, b, n);
	t->len += n;
}

/* Its last whole TAIL_LINES lines, fit to print: control bytes shown as '?'. */
static void tail_text(const struct tail *t, char *out)
{
	const char *b = t->buf, *end = t->buf + t->len, *nl;
	size_t o = 0;
	int lines = 0;

	if (t->cut && (nl = memchr(b, '\n', t->len)) != NULL)
		b = nl + 1;
	while (end > b && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (const char *p = end; p > b; p--)
		if (p[-1] == '\n' && ++lines == TAIL_LINES) {
			b = p;
			break;
		}
	for (const char *p = b; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r')
			continue;
		out[o++] = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
}

/* The error of a program that ended with status (not 0). */
static int failed(const struct den_spawn *sp, int status, const struct tail *t, struct den_err *err)
{
	char how[96], text[TAIL_BYTES + 1];

	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "killed by SIG%s",
			 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
	tail_text(t, text);
	return den_err_set(err, 0, "%s failed (%s%s%s)%s%s", shown(sp), how, sp->hint ? "; " : "",
			   sp->hint ? sp->hint : "",
			   text[0] == '\0'	? ""
			   : strchr(text, '\n') ? ":\n"
						: ": ",
			   text);
}

int den_spawn_run(const struct den_spawn *spec, struct den_err *err)
{
	struct den_spawn sp = *spec;
	int pass = spec->err_fd == 0 ? STDERR_FILENO : spec->err_fd, status, open = 1;
	bool capture = spec->out == DEN_SPAWN_CAPTURE;
	struct tail t = { .len = 0 };
	size_t got = 0;
	pid_t pid;

	BUG_ON(spec->in <= DEN_SPAWN_PIPE || spec->out == DEN_SPAWN_PIPE ||
	       spec->err_fd <= DEN_SPAWN_PIPE ||
	       (capture && (spec->out_buf == NULL || spec->out_size == 0)));
	sp.err_fd = DEN_SPAWN_PIPE;
	if (capture)
		sp.out = DEN_SPAWN_PIPE, open++;
	if (den_spawn_start(&sp, &pid, err) < 0)
		return -1;
	struct pollfd pf[2] = { { sp.err_fd, POLLIN, 0 }, { capture ? sp.out : -1, POLLIN, 0 } };
	while (open > 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char buf[8192];
			ssize_t n;
			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			n = read(pf[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close_fd(&pf[i].fd);
				open--;
			} else if (i == 1) {
				size_t keep = spec->out_size - 1 - got;
				keep = (size_t)n < keep ? (size_t)n : keep;
				memcpy(spec->out_buf + got, buf, keep);
				got += keep;
			} else {
				tail_add(&t, buf, (size_t)n);
				/* den's stderr gone: the tail is still kept */
				if (pass >= 0)
					(void)den_write_all(pass, buf, (size_t)n);
			}
		}
	}
	close_fd(&pf[0].fd);
	close_fd(&pf[1].fd);
	if (capture)
		spec->out_buf[got] = '\0';
	if (den_spawn_wait(pid, &status, err) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return failed(spec, status, &t, err);
}

int den_spawn_exec(const struct den_spawn *sp, struct den_err *err)
{
	cleanup_free char **envp = NULL;
	const char *file;
	char buf[4096];
	int e;

	BUG_ON(sp->argv == NULL || sp->argv[0] == NULL || sp->in != 0 || sp->out != 0 ||
	       sp->err_fd != 0 || sp->n_fds != 0 || sp->setsid || sp->mount_ns || sp->close_fds ||
	       sp->death_signal != 0);
	e = program_file(sp, buf, sizeof(buf), &file);
	if (e != 0)
		return not_run(sp, STAGE_EXEC, e, err);
	if (sp->env != NULL && (envp = make_env(sp->env)) == NULL)
		return den_err_set(err, ENOMEM, "cannot run %s", shown(sp));
	if (sp->cwd != NULL && chdir(sp->cwd) < 0)
		return not_run(sp, STAGE_CWD, errno, err);
	execve(file, (char *const *)sp->argv, envp != NULL ? envp : environ);
	return not_run(sp, STAGE_EXEC, errno, err);
}
