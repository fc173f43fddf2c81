/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/spawn.h"
#include "tests/helpers/testutil.h"

#define SH(...) ((const char *const[]){ "sh", "-c", __VA_ARGS__, NULL })

static char *read_all(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

Test(spawn, gives_the_exit_code_of_a_started_program)
{
	struct den_spawn sp = { .argv = SH("exit 7") };
	struct den_err err = { 0 };
	int status = -1;
	pid_t pid;

	cr_assert(den_spawn_start(&sp, &pid, &err) == 0, "%s", err.msg);
	cr_assert(den_spawn_wait(pid, &status, &err) == 0, "%s", err.msg);
	cr_expect_eq(den_spawn_exit_code(status), 7);
	sp = (struct den_spawn){ .argv = SH("true") };
	cr_expect(den_spawn_run(&sp, &err) == 0, "%s", err.msg);
	cr_expect(!den_err_is_set(&err), "success leaves no error");
}

Test(spawn, a_failure_names_the_program_its_exit_code_and_its_last_stderr_lines)
{
	char *dir = make_temp_dir(), log[4096];
	struct den_err err = { 0 };

	snprintf(log, sizeof(log), "%s/stderr.log", dir);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0);
	struct den_spawn sp = {
		.argv = SH("i=1; while [ $i -le 30 ]; do echo line$i >&2; i=$((i+1)); done; "
			   "echo to-stdout; exit 3"),
		.out = DEN_SPAWN_NULL,
		.err_fd = fd,
		.name = "the-lister",
		.hint = "look at its input",
	};
	cr_assert(den_spawn_run(&sp, &err) < 0);
	close(fd);
	cr_expect(strstr(err.msg, "the-lister failed (exit 3; look at its input):\n") != NULL, "%s",
		  err.msg);
	cr_expect(strstr(err.msg, "line21\n") != NULL && strstr(err.msg, "line30") != NULL,
		  "the last ten lines: %s", err.msg);
	cr_expect(strstr(err.msg, "line20\n") == NULL, "only the last ten: %s", err.msg);
	cr_expect(strstr(err.msg, "to-stdout") == NULL, "stdout is not stderr: %s", err.msg);
	char *passed = read_all(log);
	cr_expect(strncmp(passed, "line1\nline2\n", 12) == 0 && strstr(passed, "line30\n"),
		  "all of stderr still reaches err_fd: %s", passed);
	rm_rf(dir);
	free(dir);
}

Test(spawn, a_program_killed_by_a_signal_says_which)
{
	struct den_spawn sp = { .argv = SH("echo going >&2; kill -9 $$"),
				.err_fd = DEN_SPAWN_NULL };
	struct den_err err = { 0 };

	cr_assert(den_spawn_run(&sp, &err) < 0);
	cr_expect(strstr(err.msg, "sh failed (killed by SIGKILL): going") != NULL, "%s", err.msg);
}

Test(spawn, a_missing_program_is_enoent_not_exit_127)
{
	struct den_spawn sp = { .argv = (const char *const[]){ "den-no-such-program", NULL },
				.install = "install it from nowhere" };
	struct den_err err = { 0 };
	pid_t pid;

	cr_assert(den_spawn_run(&sp, &err) < 0);
	cr_expect_eq(err.errno_, ENOENT);
	cr_expect(strstr(err.msg, "cannot run den-no-such-program") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "install it from nowhere") != NULL, "%s", err.msg);
	/* A path: the child's execve fails, and its errno comes back. */
	den_err_clear(&err);
	sp = (struct den_spawn){ .argv = (const char *const[]){ "/nonexistent/den-prog", NULL } };
	cr_assert(den_spawn_start(&sp, &pid, &err) < 0);
	cr_expect_eq(err.errno_, ENOENT, "%s", err.msg);
	cr_expect(strstr(err.msg, "cannot run /nonexistent/den-prog") != NULL, "%s", err.msg);
	/* Not executable: EACCES, as execvp says. */
	char *dir = make_temp_dir(), path[4096];
	write_file(dir, "not-a-program", "echo hi\n");
	snprintf(path, sizeof(path), "%s/not-a-program", dir);
	den_err_clear(&err);
	sp = (struct den_spawn){ .argv = (const char *const[]){ "x", NULL }, .path = path };
	cr_assert(den_spawn_start(&sp, &pid, &err) < 0);
	cr_expect_eq(err.errno_, EACCES, "%s", err.msg);
	rm_rf(dir);
	free(dir);
}

Test(spawn, cwd_and_env_are_applied)
{
	char *dir = make_temp_dir(), out[8192], want[8192], *real = realpath(dir, NULL);
	const char *env[] = { "DEN_SPAWN_TEST=hello", "HOME=/den-home", NULL };
	struct den_spawn sp = {
		.argv = SH("pwd; echo \"$DEN_SPAWN_TEST $HOME\"; env | grep -c ^HOME="),
		.cwd = dir,
		.env = env,
		.out = DEN_SPAWN_CAPTURE,
		.out_buf = out,
		.out_size = sizeof(out)
	};
	struct den_err err = { 0 };

	cr_assert(den_spawn_run(&sp, &err) == 0, "%s", err.msg);
	snprintf(want, sizeof(want), "%s\nhello /den-home\n1\n", real);
	cr_expect_str_eq(out, want, "the folder, the added variable, HOME replaced (once)");
	sp.cwd = "/nonexistent-den-folder";
	cr_expect(den_spawn_run(&sp, &err) < 0);
	cr_expect_eq(err.errno_, ENOENT);
	cr_expect(strstr(err.msg, "cannot run sh in /nonexistent-den-folder") != NULL, "%s",
		  err.msg);
	rm_rf(dir);
	free(real);
	free(dir);
}

Test(spawn, stdout_goes_to_a_given_fd_and_extra_fds_are_numbered_from_3)
{
	char *dir = make_temp_dir(), path[4096], buf[64] = "", var[64];
	const char *env[] = { var, NULL };
	struct den_err err = { 0 };
	int p[2];

	snprintf(path, sizeof(path), "%s/out", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int stray = open("/dev/null", O_RDONLY); /* inherited unless close_fds */
	cr_assert(fd >= 0 && stray > 3 && pipe2(p, O_CLOEXEC) == 0);
	snprintf(var, sizeof(var), "STRAY=%d", stray);
	struct den_spawn sp = { .argv = SH("echo to-the-file; echo to-fd-3 >&3; "
					   "if [ -e /proc/$$/fd/$STRAY ]; then echo stray; fi"),
				.env = env,
				.out = fd,
				.fds = &p[1],
				.n_fds = 1,
				.close_fds = true };
	cr_assert(den_spawn_run(&sp, &err) == 0, "%s", err.msg);
	close(p[1]);
	cr_expect_str_eq(read_all(path), "to-the-file\n", "and no stray descriptor");
	cr_expect_eq(read(p[0], buf, sizeof(buf) - 1), 8);
	cr_expect_str_eq(buf, "to-fd-3\n");
	close(p[0]);
	sp.close_fds = false;
	sp.n_fds = 0;
	sp.argv = SH("if [ -e /proc/$$/fd/$STRAY ]; then echo stray; fi");
	cr_assert(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
	cr_assert(den_spawn_run(&sp, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(read_all(path), "stray\n", "without close_fds it is inherited");
	close(fd);
	close(stray);
	/* A pipe: den reads it. */
	sp = (struct den_spawn){ .argv = SH("echo piped"), .out = DEN_SPAWN_PIPE };
	pid_t pid;
	int status;
	cr_assert(den_spawn_start(&sp, &pid, &err) == 0, "%s", err.msg);
	cr_assert(sp.out > 2);
	memset(buf, 0, sizeof(buf));
	cr_expect_eq(read(sp.out, buf, sizeof(buf) - 1), 6);
	cr_expect_str_eq(buf, "piped\n");
	close(sp.out);
	cr_assert(den_spawn_wait(pid, &status, &err) == 0);
	cr_expect_eq(den_spawn_exit_code(status), 0);
	rm_rf(dir);
	free(dir);
}

Test(spawn, death_signal_kills_the_child_when_its_parent_dies)
{
	int p[2];
	pid_t grandchild = 0, middle;
	int status;

	/* The orphan comes to this process, which can then see how it ended. */
	cr_assert(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	cr_assert(pipe(p) == 0);
	middle = fork();
	cr_assert(middle >= 0);
	if (middle == 0) {
		struct den_spawn sp = { .argv = (const char *const[]){ "sleep", "60", NULL },
					.death_signal = SIGKILL };
		struct den_err err = { 0 };
		pid_t pid = 0;
		den_spawn_start(&sp, &pid, &err);
		if (write(p[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &grandchild, sizeof(grandchild)), sizeof(grandchild));
	cr_assert(grandchild > 0);
	cr_assert_eq(waitpid(middle, &status, 0), middle);
	pid_t got = 0;
	for (int i = 0; i < 500 && got == 0; i++) {
		got = waitpid(grandchild, &status, WNOHANG);
		if (got == 0)
			usleep(10000);
	}
	if (got == 0)
		kill(grandchild, SIGKILL);
	cr_assert_eq(got, grandchild, "the child outlived its parent");
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

Test(spawn, a_signal_during_the_wait_is_retried)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: calls see EINTR */
	struct itimerval every = { { 0, 20000 }, { 0, 20000 } }, off = { 0 };
	struct den_spawn sp = { .argv = SH("sleep 0.3; echo done >&2; exit 4"),
				.err_fd = DEN_SPAWN_NULL };
	struct den_err err = { 0 };
	int status = -1;
	pid_t pid;

	cr_assert(sigaction(SIGALRM, &sa, NULL) == 0);
	cr_assert(setitimer(ITIMER_REAL, &every, NULL) == 0);
	cr_assert(den_spawn_start(&sp, &pid, &err) == 0, "%s", err.msg);
	cr_expect(den_spawn_wait(pid, &status, &err) == 0, "%s", err.msg);
	cr_expect_eq(den_spawn_exit_code(status), 4);
	int seen = alarms;
	cr_expect(den_spawn_run(&sp, &err) < 0);
	cr_expect(strstr(err.msg, "sh failed (exit 4): done") != NULL, "%s", err.msg);
	setitimer(ITIMER_REAL, &off, NULL);
	cr_expect(seen > 0 && alarms > seen, "signals came during both waits");
}
