/* SPDX-License-Identifier: MIT */
/*
 * Starting a container: den forks a child that unshares the mount, uts,
 * ipc, net, cgroup and pid namespaces, then forks PID 1 of the new pid
 * namespace, which builds the root and becomes den-init. Errors before
 * den-init starts travel back through a pipe as text.
 */
#include "providers/container/container-internal.h"
#include "providers/container/cgroup.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(int fd, const struct den_err *err)
{
	size_t len = strlen(err->msg);

	if (write(fd, err->msg, len) < 0)
		_exit(125);
}

/* PID 1 of the container. */
static __attribute__((noreturn)) void pid1(const struct ctr_spec *s, int errfd)
{
	struct den_err err = { 0 };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ctr_setup_root(s, &err) < 0 || ctr_harden(s, &err) < 0) {
		report(errfd, &err);
		_exit(125);
	}
	close(errfd); /* the root is up: no more errors to report this way */
	_exit(ctr_init(s->argv));
}

/* The child in the new namespaces, parent of PID 1; passes its status up. */
static __attribute__((noreturn)) void middle(const struct ctr_spec *s, int errfd, int gofd)
{
	int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWCGROUP;
	struct den_err err = { 0 };
	int status;
	pid_t pid;
	char go;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Wait until den has put us in the cgroup: the cgroup namespace starts there. */
	if (read(gofd, &go, 1) != 1)
		_exit(125);
	close(gofd);
	if (!s->host_network)
		flags |= CLONE_NEWNET;
	if (unshare(flags) < 0) {
		den_err_set(&err, errno,
			    "cannot create the container's namespaces (den must run "
			    "as root)");
		report(errfd, &err);
		_exit(125);
	}
	pid = fork();
	if (pid < 0) {
		den_err_set(&err, errno, "cannot start the container");
		report(errfd, &err);
		_exit(125);
	}
	if (pid == 0)
		pid1(s, errfd);
	close(errfd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(125);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static int prepare_state(const struct ctr_spec *s, struct den_err *err)
{
	static const char *const dirs[] = { "upper", "work", "merged" };

	for (size_t i = 0; i < 3; i++) {
		cleanup_free char *p = NULL;
		if (asprintf(&p, "%s/%s", s->state, dirs[i]) < 0)
			return den_err_set(err, ENOMEM, "cannot prepare %s", s->state);
		if (den_mkdir_p(p, 0755, err) < 0)
			return -1;
	}
	return 0;
}

int ctr_run(const struct ctr_spec *s, int *status, struct den_err *err)
{
	int pipefd[2], gofd[2], st;
	char msg[DEN_ERR_MSG_MAX], name[128];
	struct ctr_cgroup cg = { 0 };
	ssize_t n;
	pid_t pid;

	if (prepare_state(s, err) < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return den_err_set(err, errno, "cannot start the container");
	if (pipe2(gofd, O_CLOEXEC) < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return den_err_set(err, errno, "cannot start the container");
	}
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		close(gofd[0]);
		close(gofd[1]);
		return den_err_set(err, errno, "cannot start the container");
	}
	if (pid == 0) {
		close(pipefd[0]);
		close(gofd[1]);
		middle(s, pipefd[1], gofd[0]);
	}
	close(pipefd[1]);
	close(gofd[0]);
	snprintf(name, sizeof(name), "%s-%d", s->hostname, (int)pid);
	if ((s->cpus > 0 || s->memory > 0) &&
	    (cg_create(s->cgroup_root ? s->cgroup_root : "/sys/fs/cgroup", NULL, name,
		       s->cpus ? s->cpus : 1024, s->memory ? s->memory : (uint64_t)1 << 60, &cg,
		       err) < 0 ||
	     cg_attach(&cg, pid, err) < 0)) {
		kill(pid, SIGKILL);
		close(gofd[1]);
		close(pipefd[0]);
		waitpid(pid, &st, 0);
		cg_destroy(&cg);
		return den_err_wrap(err, "container %s", s->hostname);
	}
	if (write(gofd[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
	}
	close(gofd[1]);
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	close(pipefd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			cg_destroy(&cg);
			return den_err_set(err, errno, "cannot wait for the container");
		}
	cg_destroy(&cg);
	if (n > 0) {
		msg[n] = '\0';
		return den_err_set(err, 0, "container %s: %s", s->hostname, msg);
	}
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}
