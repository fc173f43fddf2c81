/* SPDX-License-Identifier: MIT */
#include "core/lock.h"
#include "core/cleanup.h"
#include "core/log.h"
#include "core/project.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

static int open_lock(const char *root, struct den_err *err)
{
	cleanup_free char *state = NULL, *path = NULL;
	int fd;

	if (project_state_init(root, err) < 0 || project_state_dir(root, &state, err) < 0)
		return -1;
	if (asprintf(&path, "%s/env.lock", state) < 0)
		return den_err_set(err, ENOMEM, "cannot lock the project");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return den_err_set(err, errno, "cannot open %s", path);
	return fd;
}

static void record_holder(int fd, const char *what);

/* With the lock held: an older den's PROJECT/.den moves into the state folder. */
static int locked(int fd, const char *root, const char *what, struct den_err *err)
{
	if (project_migrate_legacy(root, err) < 0) {
		flock(fd, LOCK_UN);
		return -1;
	}
	record_holder(fd, what);
	return 0;
}

/* Who holds it, for the waiting message: "pid 123 (den up)". */
static void describe_holder(int fd, char *buf, size_t n)
{
	ssize_t got = pread(fd, buf, n - 1, 0);

	buf[got > 0 ? got : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (buf[0] == '\0')
		snprintf(buf, n, "another den");
}

static void record_holder(int fd, const char *what)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "pid %d (%s)\n", (int)getpid(), what);

	if (ftruncate(fd, 0) == 0 && n > 0)
		(void)!pwrite(fd, line, (size_t)n, 0);
}

int project_trylock(const char *root, const char *what, int *out, struct den_err *err)
{
	cleanup_close int fd = open_lock(root, err);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return 0;
		return den_err_set(err, errno, "cannot lock the project %s", root);
	}
	if (locked(fd, root, what, err) < 0)
		return -1;
	*out = steal_fd(&fd);
	return 1;
}

int project_lock(const char *root, const char *what, int *out, struct den_err *err)
{
	cleanup_close int fd = open_lock(root, err);
	char holder[256];

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return den_err_set(err, errno, "cannot lock the project %s", root);
		describe_holder(fd, holder, sizeof(holder));
		den_info("waiting for %s, which is working on this project...", holder);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR)
				return den_err_set(err, errno, "cannot lock the project %s", root);
		}
	}
	if (locked(fd, root, what, err) < 0)
		return -1;
	*out = steal_fd(&fd);
	return 0;
}

void project_unlock(int *fd)
{
	if (*fd >= 0) {
		flock(*fd, LOCK_UN);
		close(*fd);
		*fd = -1;
	}
}
