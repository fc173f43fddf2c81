/* SPDX-License-Identifier: MIT */
/*
 * den-init: PID 1 of a container. It starts the main process (sshd for a
 * machine, or den's own SSH server: sshd.h), reaps every orphan that ends up with it, forwards SIGTERM and
 * SIGINT to the main process for a halt, and exits with the main
 * process's status once the rest have been given a moment to finish.
 * It is den's own code, running in the process that built the root, so
 * it needs nothing from the box but the programs it starts.
 */
#include "providers/container/container-internal.h"
#include "providers/container/sshd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GRACE_SECONDS 5

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"TERM=xterm",
	"container=den",
	NULL,
};

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Reaps everything that has ended; notes the main process's status. */
static void reap(pid_t main_pid, bool *main_done, int *main_status)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == main_pid) {
			*main_done = true;
			*main_status = exit_code(status);
		}
	}
}

/* After the main process: TERM to the rest, KILL after the grace period. */
static void end_the_rest(const sigset_t *set)
{
	struct timespec wait = { 1, 0 };
	siginfo_t si;

	kill(-1, SIGTERM);
	for (int i = 0; i < GRACE_SECONDS; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		sigtimedwait(set, &si, &wait);
	}
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int ctr_init(char *const *argv, const struct ctr_sshd *sshd)
{
	sigset_t set, old;
	bool main_done = false;
	int main_status = 0;
	pid_t main_pid;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	main_pid = fork();
	if (main_pid < 0) {
		fprintf(stderr, "den-init: cannot start %s: %s\n",
			sshd ? "den's SSH server" : argv[0], strerror(errno));
		return 125;
	}
	if (main_pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		setsid();
		/* den's own SSH server: den's code, already here, for an image with no sshd. */
		if (sshd != NULL)
			_exit(ctr_sshd_serve(sshd));
		execve(argv[0], argv, (char *const *)default_env);
		execvpe(argv[0], argv, (char *const *)default_env);
		fprintf(stderr, "den-init: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (!main_done) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);

		if (sig == SIGCHLD)
			reap(main_pid, &main_done, &main_status);
		else if (sig > 0)
			kill(main_pid, sig == SIGHUP ? SIGHUP : SIGTERM);
	}
	end_the_rest(&set);
	return main_status;
}
