/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/lock.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/project.h"
#include "tests/helpers/testutil.h"

Test(project, the_root_is_found_by_walking_up)
{
	char *dir = make_temp_dir(), start[4096];
	char *root = NULL;
	struct den_err err = { 0 };

	write_file(dir, "Envfile", "den: 1\n");
	write_file(dir, "a/b/c/.keep", "");
	snprintf(start, sizeof(start), "%s/a/b/c", dir);
	cr_assert(project_find_root(start, "Envfile", &root, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(root, dir);
	free(root);
	cr_expect(project_find_root(start, "Other", &root, &err) < 0);
	cr_expect_eq(err.kind, DEN_ERR_USAGE);
	cr_expect(strstr(err.msg, "den init") != NULL, "says how to make one: %s", err.msg);
	cr_expect(project_find_root(start, "../x", &root, &err) < 0);
	rm_rf(dir);
	free(dir);
}

Test(project, shown_paths_are_relative_below_cwd)
{
	char *p = project_shown_path("/a/b", "/a/b/Envfile");
	cr_expect_str_eq(p, "Envfile");
	free(p);
	p = project_shown_path("/a/b/c", "/a/b/Envfile");
	cr_expect_str_eq(p, "/a/b/Envfile");
	free(p);
	p = project_shown_path("/a/bc", "/a/b/Envfile");
	cr_expect_str_eq(p, "/a/b/Envfile");
	free(p);
}

Test(project, den_home_follows_den_home_then_xdg_then_home)
{
	char *home = NULL;
	struct den_err err = { 0 };

	setenv("DEN_HOME", "/srv/den", 1);
	cr_assert(den_home(&home, &err) == 0);
	cr_expect_str_eq(home, "/srv/den");
	free(home);
	unsetenv("DEN_HOME");
	setenv("XDG_DATA_HOME", "/x/data", 1);
	cr_assert(den_home(&home, &err) == 0);
	cr_expect_str_eq(home, "/x/data/den");
	free(home);
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/u", 1);
	cr_assert(den_home(&home, &err) == 0);
	cr_expect_str_eq(home, "/home/u/.local/share/den");
	free(home);
	setenv("DEN_HOME", "relative", 1);
	cr_expect(den_home(&home, &err) < 0);
	unsetenv("DEN_HOME");
}

Test(project, state_init_makes_den_folder_with_gitignore)
{
	char *dir = make_temp_dir(), path[4096];
	struct den_err err = { 0 };
	struct stat st;

	cr_assert(project_state_init(dir, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/.den/machines", dir);
	cr_expect(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/.den/.gitignore", dir);
	cr_expect(stat(path, &st) == 0);
	rm_rf(dir);
	free(dir);
}

Test(project, a_second_den_cannot_take_the_lock_until_the_first_lets_go)
{
	char *dir = make_temp_dir();
	struct den_err err = { 0 };
	int fd = -1, fd2 = -1;

	den_log_setup(DEN_LOG_QUIET, false);
	cr_assert(project_lock(dir, "up", &fd, &err) == 0, "%s", err.msg);
	/* Another process: flock is per open file, so a child sees the conflict. */
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = -1;
		struct den_err cerr = { 0 };
		_exit(project_trylock(dir, "status", &cfd, &cerr) == 0 ? 0 : 1);
	}
	int status;
	cr_assert(waitpid(pid, &status, 0) == pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the lock was free to take");
	project_unlock(&fd);
	cr_expect_eq(fd, -1);
	cr_expect_eq(project_trylock(dir, "status", &fd2, &err), 1);
	project_unlock(&fd2);
	rm_rf(dir);
	free(dir);
}

Test(project, the_waiting_den_goes_on_when_the_holder_dies)
{
	char *dir = make_temp_dir();
	struct den_err err = { 0 };
	int fd = -1, pipefd[2];
	char c;

	den_log_setup(DEN_LOG_QUIET, false);
	cr_assert(pipe(pipefd) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = -1;
		struct den_err cerr = { 0 };
		if (project_lock(dir, "up", &cfd, &cerr) < 0)
			_exit(1);
		(void)!write(pipefd[1], "x", 1);
		pause(); /* killed while holding the lock */
		_exit(0);
	}
	cr_assert(read(pipefd[0], &c, 1) == 1);
	cr_expect_eq(project_trylock(dir, "halt", &fd, &err), 0, "held by the child");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_expect(project_lock(dir, "halt", &fd, &err) == 0, "the kernel dropped the lock");
	project_unlock(&fd);
	rm_rf(dir);
	free(dir);
}

Test(project, machine_state_round_trips_and_damage_is_explained)
{
	char *dir = make_temp_dir(), path[4096];
	struct machine cfg = { .name = "web" };
	struct den_machine m;
	struct den_err err = { 0 };

	cr_assert(machine_open(dir, &cfg, &m, &err) == 0, "%s", err.msg);
	cr_expect(!m.exists, "no state.json: not created");
	m.rec.provider = strdup("container");
	m.rec.box = strdup("den/debian-12");
	m.rec.box_version = strdup("1.0.0");
	m.rec.ssh_port = 2222;
	m.rec.supervisor = 4242;
	m.rec.created = 1700000000;
	cr_assert(machine_save(&m, &err) == 0, "%s", err.msg);
	machine_close(&m);

	cr_assert(machine_open(dir, &cfg, &m, &err) == 0, "%s", err.msg);
	cr_expect(m.exists);
	cr_expect_str_eq(m.rec.provider, "container");
	cr_expect_str_eq(m.rec.box_version, "1.0.0");
	cr_expect_eq(m.rec.ssh_port, 2222);
	cr_expect_eq(m.rec.supervisor, 4242);
	cr_expect_eq(m.rec.created, 1700000000);
	machine_close(&m);

	snprintf(path, sizeof(path), "%s/.den/machines/web", dir);
	write_file(path, "state.json", "{ broken");
	cr_expect(machine_open(dir, &cfg, &m, &err) < 0);
	cr_expect(strstr(err.msg, "den destroy") != NULL, "%s", err.msg);
	machine_close(&m);
	rm_rf(dir);
	free(dir);
}
