/* SPDX-License-Identifier: MIT */
/*
 * The qemu provider against a real QEMU (qemu-system-x86_64 started here,
 * with no machine to run or stopped before its first instruction): its
 * QMP answers den, and it takes the command line den builds. The pure
 * parts (the accelerator choice, QMP against a fake, the command line, the
 * seed) are in tests/unit/test_qemu.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "providers/qemu/cmdline.h"
#include "providers/qemu/disk.h"
#include "providers/qemu/qmp.h"
#include "tests/helpers/testutil.h"

extern char **environ;

static void img(const char *args)
{
	char cmd[8600];
	snprintf(cmd, sizeof(cmd), "qemu-img %s >/dev/null 2>&1", args);
	cr_assert_eq(system(cmd), 0, "qemu-img %s (make deps installs qemu-utils)", args);
}

/* Waits up to 5 s for a QEMU that was told to quit; kills it if it did not. True: it exited 0. */
static bool qemu_ended(pid_t pid)
{
	int status = 0;

	for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return false;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * Connects to a QEMU that is starting: its socket file appears at bind(),
 * a moment before it listens, so a refused connection (or none yet) is
 * tried again, for up to seconds.
 */
static int connect_starting(const char *sock, int seconds, struct qmp **q, struct den_err *err)
{
	int rc = -1;

	for (int i = 0; i < seconds * 100; i++) {
		den_err_clear(err);
		rc = qmp_connect(sock, 5000, q, err);
		if (rc == 0 || (err->errno_ != ENOENT && err->errno_ != ECONNREFUSED))
			break;
		usleep(10000);
	}
	return rc;
}

/* A real QEMU with no machine to run: its QMP answers, and quit ends it. */
Test(qmp, a_real_qemu_answers)
{
	char *dir = make_temp_dir(), sock[4096], qmp_arg[4200];
	struct den_err err = { 0 };
	struct qmp *q = NULL;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
	snprintf(qmp_arg, sizeof(qmp_arg), "unix:%s,server=on,wait=off", sock);
	char *argv[] = { "qemu-system-x86_64",
			 "-machine",
			 "none",
			 "-nodefaults",
			 "-display",
			 "none",
			 "-S",
			 "-qmp",
			 qmp_arg,
			 NULL };
	cr_assert(posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) == 0,
		  "qemu-system-x86_64 (make deps installs it)");
	/* No cr_assert from here: a failing test must still end its QEMU. */
	json_t *ret = NULL;
	int connected = connect_starting(sock, 5, &q, &err);
	cr_expect_eq(connected, 0, "%s", err.msg);
	if (connected == 0) {
		cr_expect(qmp_execute(q, "query-status", NULL, &ret, &err) == 0, "%s", err.msg);
		cr_expect(!json_is_true(json_object_get(ret, "running")),
			  "started with -S: not running");
		json_decref(ret);
		cr_expect(qmp_execute(q, "no-such-command", NULL, NULL, &err) < 0);
		cr_expect(strstr(err.msg, "qemu refused no-such-command") != NULL, "%s", err.msg);
		cr_expect(qmp_execute(q, "quit", NULL, NULL, &err) == 0, "%s", err.msg);
		qmp_close(q);
	}
	cr_expect(qemu_ended(pid), "quit ends QEMU");
	rm_rf(dir);
	free(dir);
}
/* QEMU itself takes the whole command line (-S: it is checked and set up, not run). */
Test(qemu_cmdline, qemu_accepts_it)
{
	char *dir = make_temp_dir(), box[4096], disk[4096], seed[4096], qmp[4096], log[4096],
	     pid_path[4096], cmd[8400];
	struct den_err err = { 0 };
	struct qmp *q = NULL;
	pid_t pid;

	snprintf(box, sizeof(box), "%s/box.img", dir);
	snprintf(disk, sizeof(disk), "%s/disk.qcow2", dir);
	snprintf(seed, sizeof(seed), "%s/seed.iso", dir);
	snprintf(qmp, sizeof(qmp), "%s/qmp.sock", dir);
	snprintf(log, sizeof(log), "%s/console.log", dir);
	snprintf(pid_path, sizeof(pid_path), "%s/qemu.pid", dir);
	snprintf(cmd, sizeof(cmd), "create -f qcow2 '%s' 64M", box);
	img(cmd);
	write_file(dir, "seed.iso", "seed");
	cr_assert(qemu_disk_create(box, "qcow2", disk, 0, &err) == 0, "%s", err.msg);
	int net[2];
	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, net) == 0, "QEMU's end is inherited");
	const struct qemu_share shares[] = { { "den0", dir, false } };
	const struct qemu_launch l = { .name = "t",
				       .accel = "tcg",
				       .cpus = 1,
				       .memory = 128ULL << 20,
				       .disk = disk,
				       .seed = seed,
				       .qmp = qmp,
				       .serial = log,
				       .pidfile = pid_path,
				       .net_fd = net[1],
				       .shares = shares,
				       .n_shares = 1 };
	char **argv = qemu_argv(&l), *args[64];
	size_t n = 0;
	for (; argv[n] != NULL && n < 60; n++)
		args[n] = argv[n];
	args[n++] = "-S";
	args[n] = NULL;
	cr_assert(posix_spawnp(&pid, args[0], NULL, NULL, args, environ) == 0);
	int connected = connect_starting(qmp, 10, &q, &err);
	cr_expect_eq(connected, 0, "QEMU took the command line: %s", err.msg);
	if (connected == 0) {
		cr_expect_eq(access(pid_path, F_OK), 0, "it wrote its pid file");
		cr_expect(qmp_execute(q, "quit", NULL, NULL, &err) == 0, "%s", err.msg);
		qmp_close(q);
	}
	cr_expect(qemu_ended(pid), "QEMU ended by quit");
	close(net[0]);
	close(net[1]);
	qemu_argv_free(argv);
	rm_rf(dir);
	free(dir);
}
