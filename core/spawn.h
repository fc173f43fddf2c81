/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_SPAWN_H
#define DEN_CORE_SPAWN_H

/*
 * Child processes, in the manner of git's run-command.h: every program den
 * runs goes through here. Fill a struct den_spawn (zero is the default for
 * every field), then den_spawn_run() to start it and wait, or
 * den_spawn_start() and later den_spawn_wait().
 *
 *	const char *argv[] = { "rsync", "-a", src, dst, NULL };
 *	struct den_spawn sp = { .argv = argv, .in = DEN_SPAWN_NULL };
 *	if (den_spawn_run(&sp, err) < 0)
 *		return den_err_wrap(err, "machine %s", name);
 *
 * A program that cannot be run (not found, not executable, its cwd gone)
 * is an error from den_spawn_start, with the errno the child met, never
 * an exit code 127 to decode.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "core/err.h"

/*
 * The child's stdin, stdout and stderr (in, out, err_fd): 0 leaves den's
 * own, a descriptor of den's (> 0) is given to the child, or one of these.
 */
#define DEN_SPAWN_NULL (-1)    /* /dev/null */
#define DEN_SPAWN_PIPE (-2)    /* a pipe: den_spawn_start puts den's end in the field */
#define DEN_SPAWN_CAPTURE (-3) /* stdout of den_spawn_run only: into out_buf */

#define DEN_SPAWN_MAX_FDS 128 /* extra descriptors a child can be given */

struct den_spawn {
	const char *const *argv; /* the program and its arguments, NULL-terminated */
	const char *path;	 /* the file to run; NULL: argv[0], looked up in $PATH */
	const char *cwd;	 /* the child's working folder; NULL: den's */
	const char *const *env;	 /* "NAME=value" added to den's environment; NULL: none */
	int in, out, err_fd;	 /* see DEN_SPAWN_NULL; given fds are den's, before any moves */
	char *out_buf;		 /* DEN_SPAWN_CAPTURE: stdout, NUL-terminated, the rest dropped */
	size_t out_size;	 /* out_buf's size */
	const int *fds;		 /* more descriptors: fds[i] becomes the child's 3 + i */
	size_t n_fds;		 /* how many (at most DEN_SPAWN_MAX_FDS) */
	bool close_fds;		 /* close every other descriptor (a child that outlives den) */
	bool setsid;		 /* a session of its own, off den's terminal and its ^C */
	bool mount_ns;		 /* a private mount namespace: its mounts go when it ends */
	int death_signal;	 /* sent to it when den's calling thread ends (PR_SET_PDEATHSIG) */
	const char *name;	 /* the program in messages ("qemu-img info"); NULL: argv[0] */
	const char *install;	 /* when it is not found: how to get it ("install rsync") */
	const char *hint;	 /* when it fails: what to look at ("see /etc/subuid") */
};

/*
 * Starts sp's program and returns once it has exec'd (so that nothing
 * runs as den's copy for long). *pid is the child, for den_spawn_wait();
 * DEN_SPAWN_PIPE fields now hold den's ends (close-on-exec, den closes
 * them). Fails, with the child reaped, when the program could not be run.
 */
int den_spawn_start(struct den_spawn *sp, pid_t *pid, struct den_err *err);

/* Waits for pid to end, through EINTR; *status is waitpid's. */
int den_spawn_wait(pid_t pid, int *status, struct den_err *err);

/*
 * Starts sp's program and waits for it. Its stderr passes through den,
 * on to err_fd (nothing for DEN_SPAWN_NULL), and its last lines are kept:
 * a program that exits non-zero or is killed is an error naming it, its
 * exit code or signal, the hint and the end of its stderr. in, out and
 * err_fd cannot be DEN_SPAWN_PIPE here.
 */
int den_spawn_run(const struct den_spawn *sp, struct den_err *err);

/*
 * Replaces den with sp's program: argv, path, env, cwd (and install for
 * the message); no descriptor or process field. Returns only when it
 * could not be run, with the error.
 */
int den_spawn_exec(const struct den_spawn *sp, struct den_err *err);

/* A waitpid status as a shell shows it: the exit code, or 128 + the signal. */
static inline int den_spawn_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
