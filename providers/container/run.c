/* SPDX-License-Identifier: MIT */
/*
 * Starting a container: den forks a child ("middle") that waits until den
 * has put it in the container's cgroup, unshares the mount and cgroup
 * namespaces, clones PID 1 into new user, pid, uts, ipc and net
 * namespaces and writes its id maps (root inside is an unprivileged host
 * id, idmap.h), makes the tap device in PID 1's network namespace and
 * hands it to den. A short-lived child of middle in that pid namespace
 * ("builder", still den's root) builds the root and pivots into it; then
 * PID 1 becomes the container's root, writes den's files, hardens itself
 * and becomes den-init. Errors before den-init starts travel back through
 * a pipe as text. Meanwhile den runs the container's user-mode network
 * until the container ends.
 */
#include "providers/container/container-internal.h"
#include "providers/container/cgroup.h"
#include "providers/guest_files.h"
#include "core/cleanup.h"
#include "core/control.h"
#include "core/fsutil.h"

#include <jansson.h>
#include <stdlib.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct channels {
	int err[2];  /* text of a setup error, child to den */
	int go[2];   /* den to middle: you are in the cgroup */
	int sock[2]; /* middle to den: the tap descriptors (tap0, then eth1...) */
};

static void report(int fd, const struct den_err *err)
{
	if (write(fd, err->msg, strlen(err->msg)) < 0)
		_exit(125);
}

static __attribute__((noreturn)) void fail(int errfd, const struct den_err *err)
{
	report(errfd, err);
	_exit(125);
}

/* PID 1 becomes root of its user namespace, whose maps middle has written. */
static int become_root(struct den_err *err)
{
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return den_err_set(err, errno, "cannot become the container's root");
	/* The pivot moved den's root directory here, not its working one. */
	if (chdir("/") < 0)
		return den_err_set(err, errno, "cannot enter the container's root");
	return 0;
}

/*
 * tap0 made in the current network namespace and handed to den on sock,
 * then one tap for each private network, eth1 on.
 */
static int hand_tap(const struct ctr_spec *s, int sock, const char *ping_groups,
		    struct den_err *err)
{
	int tap = -1;

	if (ctr_net_make_tap(&tap, ping_groups, err) < 0)
		return -1;
	int rc = ctr_send_fd(sock, tap, err);
	close(tap);
	for (size_t i = 0; rc == 0 && i < s->n_nets; i++) {
		char name[16];
		snprintf(name, sizeof(name), "eth%u", (unsigned)(i + 1));
		rc = ctr_net_make_private_tap(name, &s->nets[i], &tap, err);
		if (rc == 0) {
			rc = ctr_send_fd(sock, tap, err);
			close(tap);
		}
	}
	return rc;
}

/*
 * Without root, PID 1 does what den's root does otherwise: the tap device
 * (handed to den on sock) and the root, as root of its own namespaces.
 */
static int setup_rootless(const struct ctr_spec *s, int sock, struct den_err *err)
{
	/*
	 * Ping for every group of the container's: the range is of host ids,
	 * from the lowest of the namespace's to its highest, whose ends are 0
	 * or the login user's group, and 65535 or it.
	 */
	const char *groups = s->map.gid < s->map.sub_gid ? "1000 65535" : "0 1000";

	if (!s->host_network && hand_tap(s, sock, groups, err) < 0)
		return -1;
	close(sock);
	return ctr_setup_root_rootless(s, err);
}

/* PID 1 of the container: waits on start until middle has built its root. */
static __attribute__((noreturn)) void pid1(const struct ctr_spec *s, int errfd, int alive,
					   int start, int sock)
{
	struct den_err err = { 0 };
	struct pollfd p = { alive, POLLIN, 0 };
	char go;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(start, &go, 1) != 1)
		_exit(125); /* middle could not build the root, and said why */
	close(start);
	if (become_root(&err) < 0 || (s->rootless && setup_rootless(s, sock, &err) < 0))
		fail(errfd, &err);
	if (!s->rootless)
		close(sock);
	/*
	 * A new uid clears PDEATHSIG: set it again, then see whether middle
	 * died before (its end of the pipe is closed then).
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLIN)))
		_exit(125);
	close(alive);
	if (ctr_put_files(s, &err) < 0 || ctr_harden(s, &err) < 0)
		fail(errfd, &err);
	close(errfd); /* the root is up: no more errors to report this way */
	/* Nothing of den's (listening sockets, pipes, environment) may reach the container. */
	if (syscall(SYS_close_range, 3, ~0U, 0) < 0)
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	clearenv();
	if (s->system_init) {
		/* systemd knows it is in a container by $container. */
		static char *const env[] = { "container=den", "TERM=linux", NULL };
		execve(s->argv[0], s->argv, env);
		fprintf(stderr, "den: cannot run the box's init %s: %s\n", s->argv[0],
			strerror(errno));
		_exit(127);
	}
	/* Not ptrace-able or readable through /proc/1 by the container's root. */
	prctl(PR_SET_DUMPABLE, 0);
	_exit(ctr_init(s->argv, s->sshd));
}

static pid_t pid1_pid;
static int halt_signal = SIGTERM;

/* SIGTERM from den means halt: den-init's SIGTERM, or systemd's SIGRTMIN+3. */
static void forward_term(int sig)
{
	kill(pid1_pid, sig == SIGTERM ? halt_signal : sig);
}

/* Joins PID 1's namespace of this type (den's root may: it owns PID 1's user namespace). */
static int join(int procfd, pid_t pid, const char *name, int type, struct den_err *err)
{
	char path[64];

	snprintf(path, sizeof(path), "%d/ns/%s", (int)pid, name);
	cleanup_close int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, type) < 0)
		return den_err_set(err, errno, "cannot enter the container's %s namespace", name);
	return 0;
}

/*
 * The builder: den's root, in PID 1's pid namespace (so the /proc it
 * mounts counts the container's pids), builds the root and pivots into
 * it; PID 1's root moves along. Returns -1 when it failed (it said why).
 */
static int build_root(const struct ctr_spec *s, int procfd, pid_t pid, int errfd)
{
	struct den_err err = { 0 };
	char path[64];
	int st;

	snprintf(path, sizeof(path), "%d/ns/user", (int)pid);
	cleanup_close int userns = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (userns < 0 || join(procfd, pid, "pid", CLONE_NEWPID, &err) < 0) {
		if (!den_err_is_set(&err))
			den_err_set(&err, errno, "cannot enter the container's user namespace");
		report(errfd, &err);
		return -1;
	}
	pid_t builder = fork();
	if (builder == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (ctr_setup_root(s, userns, &err) < 0)
			fail(errfd, &err);
		_exit(0);
	}
	if (builder < 0) {
		den_err_set(&err, errno, "cannot start the container");
		report(errfd, &err);
		return -1;
	}
	while (waitpid(builder, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/*
 * Middle, in PID 1's network, uts and ipc namespaces: the tap device,
 * handed to den. Those namespaces belong to the container's user
 * namespace, so its root can bind low ports there and nowhere else.
 */
static int join_and_make_tap(const struct ctr_spec *s, int procfd, pid_t pid, int sock,
			     struct den_err *err)
{
	if (join(procfd, pid, "uts", CLONE_NEWUTS, err) < 0 ||
	    join(procfd, pid, "ipc", CLONE_NEWIPC, err) < 0)
		return -1;
	if (s->host_network)
		return 0;
	/* Ping for every group den's root can name (ping_group_range's most). */
	if (join(procfd, pid, "net", CLONE_NEWNET, err) < 0)
		return -1;
	return hand_tap(s, sock, "0 2147483647", err);
}

/* The child in the new namespaces, parent of PID 1; passes its status up. */
static __attribute__((noreturn)) void middle(const struct ctr_spec *s, struct channels *ch)
{
	int flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
	int errfd = ch->err[1], status;
	struct den_err err = { 0 };
	pid_t pid;
	char go;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(ch->err[0]);
	close(ch->go[1]);
	close(ch->sock[0]);
	/* Wait until den has put us in the cgroup: the cgroup namespace starts there. */
	if (read(ch->go[0], &go, 1) != 1)
		_exit(125);
	close(ch->go[0]);
	/*
	 * Mounts and cgroups stay den's root's: nothing inside may change
	 * them. Without root they are the user namespace's, as everything.
	 */
	if (s->rootless)
		flags |= CLONE_NEWNS | CLONE_NEWCGROUP;
	else if (unshare(CLONE_NEWNS | CLONE_NEWCGROUP) < 0) {
		den_err_set(&err, errno,
			    "cannot create the container's namespaces (den must run "
			    "as root)");
		fail(errfd, &err);
	}
	/* The host's /proc, open before the pivot takes it out of reach. */
	int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int alive[2], start[2];
	if (procfd < 0 || pipe2(alive, O_CLOEXEC) < 0 || pipe2(start, O_CLOEXEC) < 0) {
		den_err_set(&err, errno, "cannot start the container");
		fail(errfd, &err);
	}
	if (!s->host_network)
		flags |= CLONE_NEWNET;
	/*
	 * PID 1 is cloned into its namespaces, all owned by its new user
	 * namespace (reboot(2) ends its pid namespace, low ports bind in its
	 * network). A raw clone, as fork: PID 1 runs on a copy of this stack.
	 */
	pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		den_err_set(&err, errno, "cannot create the container's user namespace");
		fail(errfd, &err);
	}
	if (pid == 0) {
		close(alive[1]);
		close(start[1]);
		pid1(s, errfd, alive[0], start[0], ch->sock[1]);
	}
	close(alive[0]); /* alive[1] stays open for as long as middle lives */
	close(start[0]);
	if (s->rootless ? userns_write_maps(pid, &s->map, &err) < 0
			: ctr_write_maps(procfd, pid, &s->ids, &err) < 0 ||
				  join_and_make_tap(s, procfd, pid, ch->sock[1], &err) < 0)
		report(errfd, &err);
	close(ch->sock[1]);
	if (den_err_is_set(&err) || (!s->rootless && build_root(s, procfd, pid, errfd) < 0)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		_exit(125);
	}
	close(procfd);
	if (write(start[1], "s", 1) != 1)
		kill(pid, SIGKILL);
	close(start[1]);
	close(errfd);
	/* A halt reaches den-init: middle passes SIGTERM on to PID 1. */
	pid1_pid = pid;
	if (s->system_init)
		halt_signal = SIGRTMIN + 3;
	signal(SIGTERM, forward_term);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(125);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static int prepare_state(const struct ctr_spec *s, struct den_err *err)
{
	static const char *const dirs[] = { "upper", "work", "merged", "upper/etc" };

	for (size_t i = 0; i < 4; i++) {
		cleanup_free char *p = NULL;
		if (asprintf(&p, "%s/%s", s->state, dirs[i]) < 0)
			return den_err_set(err, ENOMEM, "cannot prepare %s", s->state);
		if (den_mkdir_p(p, 0755, err) < 0)
			return -1;
	}
	return 0;
}

static ssize_t to_tap(const void *buf, size_t len, void *arg)
{
	return write(*(int *)arg, buf, len);
}

static bool halt_asked; /* den asked the container to stop: a reboot is not followed */

/* Answers one control connection; may ask the container to stop. */
static void serve_control(int lfd, pid_t pid)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	char *cmd;

	if (fd < 0)
		return;
	cmd = control_read_cmd(fd);
	if (cmd != NULL && strcmp(cmd, "status") == 0) {
		control_reply(fd, json_pack("{s:b, s:s, s:i}", "ok", 1, "state", "running", "pid",
					    (int)pid));
	} else if (cmd != NULL && (strcmp(cmd, "halt") == 0 || strcmp(cmd, "kill") == 0)) {
		halt_asked = true;
		control_reply(fd, json_pack("{s:b}", "ok", 1));
		kill(pid, strcmp(cmd, "halt") == 0 ? SIGTERM : SIGKILL);
	} else {
		control_reply(fd, json_pack("{s:b, s:s}", "ok", 0, "error",
					    "unknown command; try status, halt or kill"));
	}
	free(cmd);
	close(fd);
}

/*
 * Frames between private network i's tap and its switch port, whichever
 * has some; a port whose switch has gone is let go (*port = -1).
 */
static void carry_private(int tap, int *port, short tap_ev, short port_ev, unsigned char *frame,
			  size_t size)
{
	ssize_t len;

	if (tap_ev & POLLIN)
		while ((len = read(tap, frame, size)) > 0)
			if (*port >= 0)
				(void)!send(*port, frame, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (*port < 0 || !(port_ev & (POLLIN | POLLHUP | POLLERR)))
		return;
	while ((len = recv(*port, frame, size, MSG_DONTWAIT)) > 0)
		(void)!write(tap, frame, (size_t)len);
	if (len == 0 || (len < 0 && errno != EAGAIN && errno != EINTR) ||
	    (port_ev & (POLLHUP | POLLERR)))
		*port = -1;
}

/*
 * The supervisor's loop until the container ends: frames between the tap
 * and the user-mode network (u may be NULL with the host's network),
 * between each private network's tap (ptaps) and its switch port, and
 * the control socket (ctl may be -1).
 */
static void supervise(const struct ctr_spec *s, struct usernet *u, int tap, const int *ptaps,
		      pid_t pid, int ctl)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	static unsigned char frame[65536];
	struct pollfd fds[USERNET_MAX_FDS];
	int ports[CTR_MAX_NETS];

	for (size_t i = 0; i < s->n_nets; i++)
		ports[i] = s->nets[i].port;
	for (;;) {
		size_t n = 3 + 2 * s->n_nets;
		int timeout = -1, r;

		fds[0] = (struct pollfd){ tap, POLLIN, 0 };
		fds[1] = (struct pollfd){ pidfd, POLLIN, 0 };
		fds[2] = (struct pollfd){ ctl, POLLIN, 0 };
		for (size_t i = 0; i < s->n_nets; i++) {
			fds[3 + 2 * i] = (struct pollfd){ ptaps[i], POLLIN, 0 };
			fds[4 + 2 * i] = (struct pollfd){ ports[i], POLLIN, 0 };
		}
		if (u != NULL)
			usernet_fill(u, fds, USERNET_MAX_FDS, &n, &timeout);
		if (pidfd < 0 && (timeout < 0 || timeout > 200))
			timeout = 200; /* no pidfd: look at the child now and then */
		r = poll(fds, n, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && tap >= 0 && (fds[0].revents & POLLIN)) {
			ssize_t len;
			while ((len = read(tap, frame, sizeof(frame))) > 0)
				usernet_input(u, frame, (size_t)len);
		}
		for (size_t i = 0; r > 0 && i < s->n_nets; i++)
			carry_private(ptaps[i], &ports[i], fds[3 + 2 * i].revents,
				      fds[4 + 2 * i].revents, frame, sizeof(frame));
		if (r > 0 && ctl >= 0 && (fds[2].revents & POLLIN))
			serve_control(ctl, pid);
		if ((r > 0 && (fds[1].revents & POLLIN)) ||
		    (pidfd < 0 && waitpid(pid, NULL, WNOHANG | __WNOTHREAD) != 0 && errno != EINTR))
			break;
		if (u != NULL)
			usernet_dispatch(u, fds, n, r < 0);
	}
	if (pidfd >= 0)
		close(pidfd);
}

static void close_all(struct channels *ch)
{
	int *fds = &ch->err[0];

	for (size_t i = 0; i < 6; i++)
		if (fds[i] >= 0)
			close(fds[i]), fds[i] = -1;
}

/*
 * For a box's own init: a machine-id made once (systemd wants one, and
 * boxes ship it empty), and no getty on /dev/console, which is /dev/null
 * in a container.
 */
static int add_system_init_files(struct ctr_spec *s, struct den_err *err)
{
	static char machine_id[40];
	unsigned char raw[16];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return den_err_set(err, errno, "cannot make a machine-id");
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(machine_id + 2 * i, 3, "%02x", raw[i]);
	machine_id[32] = '\n';
	s->files[s->n_files++] =
		(struct ctr_file){ "/etc/machine-id", machine_id, 0444, NULL, true };
	s->files[s->n_files++] = (struct ctr_file){
		"/run/systemd/system/console-getty.service.d/den.conf",
		"# den: a container's /dev/console is /dev/null; log in with `den ssh`.\n"
		"[Unit]\nConditionVirtualization=!container\n",
		0644, NULL, false
	};
	return 0;
}

/* /etc/hostname, /etc/hosts and (with den's network) /etc/resolv.conf, for every container. */
static int add_system_files(struct ctr_spec *s, struct den_err *err)
{
	static char hosts[16384], hostname[300];

	if (s->n_files + CTR_SYSTEM_FILES > CTR_MAX_FILES)
		return den_err_usage(err, "at most %d files", CTR_MAX_FILES - CTR_SYSTEM_FILES);
	if (s->system_init && add_system_init_files(s, err) < 0)
		return -1;
	snprintf(hostname, sizeof(hostname), "%s\n", s->hostname);
	/* Then the machines that share a private network with it, by name (docs/networks.md). */
	if (snprintf(hosts, sizeof(hosts), GUEST_HOSTS_FORMAT "%s", s->hostname,
		     s->hosts ? s->hosts : "") >= (int)sizeof(hosts))
		return den_err_usage(err, "--host: more than %zu bytes of /etc/hosts",
				     sizeof(hosts));
	s->files[s->n_files++] = (struct ctr_file){ "/etc/hostname", hostname, 0644, NULL, false };
	s->files[s->n_files++] = (struct ctr_file){ "/etc/hosts", hosts, 0644, NULL, false };
	if (!s->host_network)
		s->files[s->n_files++] =
			(struct ctr_file){ "/etc/resolv.conf", "nameserver " USERNET_DNS "\n", 0644,
					   NULL, false };
	return 0;
}

/*
 * One boot of the container: middle forked into its cgroup, the tap
 * received, the network and control socket served until PID 1 ends.
 * Returns -1 when it could not start; else *status is PID 1's.
 */
static int boot(const struct ctr_spec *s, struct usernet *net, int *tap, int ctl, int *status,
		struct den_err *err)
{
	struct channels ch = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int ptaps[CTR_MAX_NETS];
	char msg[DEN_ERR_MSG_MAX], name[128];
	struct ctr_cgroup cg = { 0 };
	int st, rc = 0;
	ssize_t n;
	pid_t pid;

	for (size_t i = 0; i < CTR_MAX_NETS; i++)
		ptaps[i] = -1;
	if (pipe2(ch.err, O_CLOEXEC) < 0 || pipe2(ch.go, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch.sock) < 0) {
		rc = den_err_set(err, errno, "cannot start the container");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = den_err_set(err, errno, "cannot start the container");
		goto out;
	}
	if (pid == 0)
		middle(s, &ch);
	/*
	 * The supervisor writes to sockets whose other end may have gone
	 * (forwarded connections, control clients): EPIPE, never SIGPIPE.
	 * Set after the fork, so the container does not inherit it.
	 */
	signal(SIGPIPE, SIG_IGN);
	close(ch.err[1]), ch.err[1] = -1;
	close(ch.go[0]), ch.go[0] = -1;
	close(ch.sock[1]), ch.sock[1] = -1;
	snprintf(name, sizeof(name), "%s-%d", s->hostname, (int)pid);
	const char *cg_root = s->cgroup_root ? s->cgroup_root : "/sys/fs/cgroup";
	if ((s->cpus > 0 || s->memory > 0 || s->system_init) &&
	    (cg_create(cg_root, NULL, name, s->cpus ? s->cpus : 1024,
		       s->memory ? s->memory : (uint64_t)1 << 60, &cg, err) < 0 ||
	     (s->system_init &&
	      (cg_delegate(cg_root, NULL, name, &cg, err) < 0 ||
	       (!s->rootless && cg_give(&cg, s->ids.uid, s->ids.gid, err) < 0))) ||
	     cg_attach(&cg, pid, err) < 0)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (s->rootless && (err->errno_ == EACCES || err->errno_ == EPERM)) {
			char why[512];
			snprintf(why, sizeof(why), "%.400s", err->msg);
			rc = den_err_set(err, err->errno_,
					 "container %s: without root, its limits (cpus, memory, "
					 "pids) need cgroup folders this user may write, and den's "
					 "own are not (%s): delegate a cgroup to the user "
					 "(docs/rootless.md), or run den as root",
					 s->hostname, why);
		} else {
			rc = den_err_wrap(err, "container %s", s->hostname);
		}
		goto out;
	}
	if (write(ch.go[1], "g", 1) != 1)
		kill(pid, SIGKILL);
	close(ch.go[1]), ch.go[1] = -1;
	if (!s->host_network) {
		struct den_err tap_err = { 0 };
		if (ctr_recv_fd(ch.sock[0], tap, &tap_err) < 0)
			*tap = -1; /* the setup error, if any, comes through the pipe */
		for (size_t i = 0; *tap >= 0 && i < s->n_nets; i++)
			if (ctr_recv_fd(ch.sock[0], &ptaps[i], &tap_err) < 0) {
				close(*tap), *tap = -1; /* all of them, or none */
				break;
			}
	}
	n = read(ch.err[0], msg, sizeof(msg) - 1);
	if (n <= 0 && *tap < 0 && !s->host_network)
		kill(pid, SIGKILL); /* no network device and no word why: do not hang */
	if (n <= 0 && (*tap >= 0 || s->host_network))
		supervise(s, net, *tap, ptaps, pid, ctl);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			rc = den_err_set(err, errno, "cannot wait for the container");
			goto out;
		}
	if (n > 0) {
		msg[n] = '\0';
		rc = den_err_set(err, 0, "container %s: %s", s->hostname, msg);
	} else if (!s->host_network && *tap < 0) {
		rc = den_err_set(err, 0, "container %s: its network device never arrived",
				 s->hostname);
	} else {
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
out:
	cg_destroy(&cg);
	close_all(&ch);
	if (*tap >= 0)
		close(*tap), *tap = -1;
	for (size_t i = 0; i < CTR_MAX_NETS; i++)
		if (ptaps[i] >= 0)
			close(ptaps[i]);
	return rc;
}

int ctr_run(const struct ctr_spec *spec_in, int *status, struct den_err *err)
{
	struct ctr_spec spec = *spec_in;
	const struct ctr_spec *s = &spec;
	struct usernet *net = NULL;
	int tap = -1, rc = 0, ctl = -1;

	spec.rootless = userns_rootless();
	if (!spec.rootless && spec.ids.uid == 0)
		ctr_ids_pick(&spec.ids);
	if ((spec.rootless && userns_map_for_user(&spec.map, err) < 0) ||
	    prepare_state(s, err) < 0 || add_system_files(&spec, err) < 0)
		return -1;
	/* Forwarded ports first: a port in use is an error before anything starts. */
	if (!s->host_network &&
	    usernet_new(s->fwds, s->n_fwds, s->host_loopback, to_tap, &tap, &net, err) < 0)
		return den_err_wrap(err, "container %s", s->hostname);
	if (s->control != NULL && (ctl = control_listen(s->control, err)) < 0) {
		usernet_free(net);
		return -1;
	}
	struct stat ctl_st = { 0 };
	if (ctl >= 0)
		stat(s->control, &ctl_st);
	/*
	 * A box's own init that reboots (reboot(2) ends the pid namespace
	 * with SIGHUP) is booted again, as a VM would be, unless den asked
	 * for a halt meanwhile.
	 */
	while ((rc = boot(s, net, &tap, ctl, status, err)) == 0 && s->system_init &&
	       *status == 128 + SIGHUP && !halt_asked) {
		fprintf(stderr, "den: %s rebooted; starting it again\n", s->hostname);
		fflush(stderr);
	}
	usernet_free(net);
	if (ctl >= 0) {
		struct stat now;
		close(ctl);
		/* Only our own socket: a newer supervisor may have taken the path since. */
		if (stat(s->control, &now) == 0 && now.st_ino == ctl_st.st_ino &&
		    now.st_dev == ctl_st.st_dev)
			unlink(s->control);
	}
	return rc;
}
