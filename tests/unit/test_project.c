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

/* A project folder and a DEN_HOME of its own, apart from each other. */
static char *project_with_home(char **home)
{
	char *dir = make_temp_dir();

	*home = make_temp_dir();
	setenv("DEN_HOME", *home, 1);
	return dir;
}

static void drop_project(char *dir, char *home)
{
	unsetenv("DEN_HOME");
	rm_rf(dir);
	rm_rf(home);
	free(dir);
	free(home);
}

Test(project, state_lives_under_den_home_not_in_the_project)
{
	char *home, *dir = project_with_home(&home), *state = NULL, *other = NULL, path[4096];
	struct den_err err = { 0 };
	struct stat st;

	cr_assert(project_state_init(dir, &err) == 0, "%s", err.msg);
	cr_assert(project_state_dir(dir, &state, &err) == 0, "%s", err.msg);
	cr_expect(strncmp(state, home, strlen(home)) == 0 && strstr(state, "/projects/") != NULL,
		  "state in DEN_HOME: %s", state);
	snprintf(path, sizeof(path), "%s/machines", state);
	cr_expect(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	cr_expect(stat(state, &st) == 0 && (st.st_mode & 0777) == 0700, "only den's user looks in");
	snprintf(path, sizeof(path), "%s/project.json", state);
	cr_expect(stat(path, &st) == 0, "project.json names the root");
	snprintf(path, sizeof(path), "%s/.den", dir);
	cr_expect(stat(path, &st) < 0, "nothing is written into the project");
	/* Another folder, another state folder. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	cr_assert(project_state_dir(path, &other, &err) == 0);
	cr_expect_str_neq(state, other);
	free(state);
	free(other);
	drop_project(dir, home);
}

Test(project, an_older_dens_state_moves_out_and_planted_links_go)
{
	char *home, *dir = project_with_home(&home), *state = NULL, path[4096], old[4096];
	struct den_err err = { 0 };
	struct stat st;
	int fd = -1;

	den_log_setup(DEN_LOG_QUIET, false);
	write_file(dir, ".den/machines/web/state.json", "{\"version\": 1}");
	write_file(dir, ".den/machines/web/upper/etc/kept", "x");
	write_file(dir, "secret/file", "host only");
	snprintf(old, sizeof(old), "%s/.den/machines/web/work", dir);
	snprintf(path, sizeof(path), "%s/secret", dir);
	cr_assert(symlink(path, old) == 0, "a link planted from inside a machine");
	snprintf(old, sizeof(old), "%s/.den/machines/stray", dir);
	cr_assert(symlink(path, old) == 0);
	cr_expect(project_has_legacy_state(dir));

	cr_assert(project_lock(dir, "up", &fd, &err) == 0, "%s", err.msg);
	project_unlock(&fd);
	cr_assert(project_state_dir(dir, &state, &err) == 0);
	snprintf(path, sizeof(path), "%s/machines/web/state.json", state);
	cr_expect(stat(path, &st) == 0, "the machine's state moved");
	snprintf(path, sizeof(path), "%s/machines/web/upper/etc/kept", state);
	cr_expect(stat(path, &st) == 0, "with its files");
	snprintf(path, sizeof(path), "%s/machines/web/work", state);
	cr_expect(lstat(path, &st) < 0, "the planted link is gone");
	snprintf(path, sizeof(path), "%s/machines/stray", state);
	cr_expect(lstat(path, &st) < 0, "a link in machines/ is gone");
	snprintf(path, sizeof(path), "%s/.den", dir);
	cr_expect(lstat(path, &st) < 0, "the old folder is gone");
	snprintf(path, sizeof(path), "%s/secret/file", dir);
	cr_expect(stat(path, &st) == 0, "what a link pointed at is untouched");
	cr_expect(!project_has_legacy_state(dir));
	free(state);
	drop_project(dir, home);
}

Test(project, a_den_link_in_the_project_is_never_followed)
{
	char *home, *dir = project_with_home(&home), path[4096], target[4096];
	struct den_err err = { 0 };
	struct stat st;
	int fd = -1;

	write_file(dir, "elsewhere/machines/web/state.json", "{}");
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	snprintf(path, sizeof(path), "%s/.den", dir);
	cr_assert(symlink(target, path) == 0);
	cr_expect(!project_has_legacy_state(dir));
	cr_assert(project_lock(dir, "up", &fd, &err) == 0, "%s", err.msg);
	project_unlock(&fd);
	snprintf(path, sizeof(path), "%s/elsewhere/machines/web/state.json", dir);
	cr_expect(stat(path, &st) == 0, "what the link points at stays where it is");
	drop_project(dir, home);
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
	char *home, *dir = project_with_home(&home), *mdir = NULL;
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

	cr_assert(project_machine_dir(dir, "web", &mdir, &err) == 0);
	write_file(mdir, "state.json", "{ broken");
	cr_expect(machine_open(dir, &cfg, &m, &err) < 0);
	cr_expect(strstr(err.msg, "den destroy") != NULL, "%s", err.msg);
	machine_close(&m);
	write_file(mdir, "state.json", "{\"ssh_user\": \"den\\nProxyCommand x\"}");
	cr_expect(machine_open(dir, &cfg, &m, &err) < 0, "a user name with a newline");
	cr_expect(strstr(err.msg, "\"ssh_user\"") != NULL, "%s", err.msg);
	machine_close(&m);
	free(mdir);
	drop_project(dir, home);
}
