/* SPDX-License-Identifier: MIT */
/* The user's own user namespace, for den without root (userns.h). */
#include "core/userns.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool userns_rootless(void)
{
	return geteuid() != 0;
}

uint32_t userns_subid_start(const char *text, const char *user, uid_t uid)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", (unsigned)uid);
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[256], *c1, *c2, *rest;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			c1 = strchr(buf, ':');
			c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (c2 != NULL) {
				*c1 = *c2 = '\0';
				errno = 0;
				unsigned long long start = strtoull(c1 + 1, &rest, 10);
				bool ok = errno == 0 && *rest == '\0' && rest != c1 + 1;
				unsigned long long count = strtoull(c2 + 1, &rest, 10);
				ok = ok && errno == 0 && *rest == '\0' && rest != c2 + 1;
				/* Root's ids, or ids past what a uid can be, are no range to use. */
				if (ok && (strcmp(buf, user) == 0 || strcmp(buf, num) == 0) &&
				    start > 0 && count >= USERNS_IDS &&
				    start + USERNS_IDS <= 0xFFFFFFFFull)
					return (uint32_t)start;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return 0;
}

uint32_t userns_subid(const char *file)
{
	cleanup_free char *text = NULL;
	struct den_err ignored = { 0 };
	struct passwd *pw = getpwuid(getuid());

	if (den_read_file(file, 1 << 20, &text, NULL, &ignored) < 0)
		return 0;
	return userns_subid_start(text, pw != NULL ? pw->pw_name : "", getuid());
}

/* The full path of a setuid helper, or NULL. */
static const char *helper(const char *name)
{
	static const char *const dirs[] = { "/usr/bin", "/bin", "/usr/local/bin" };
	static char path[64];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

int userns_map_for_user(struct userns_map *m, struct den_err *err)
{
	struct passwd *pw = getpwuid(getuid());
	const char *user = pw != NULL ? pw->pw_name : "";

	if (helper("newuidmap") == NULL || helper("newgidmap") == NULL)
		return den_err_set(err, 0,
				   "den without root needs newuidmap and newgidmap: install "
				   "them (sudo apt-get install uidmap), or run den as root");
	m->uid = (uint32_t)getuid();
	m->gid = (uint32_t)getgid();
	m->sub_uid = userns_subid("/etc/subuid");
	m->sub_gid = userns_subid("/etc/subgid");
	if (m->sub_uid == 0 || m->sub_gid == 0)
		return den_err_set(err, 0,
				   "den without root needs %u subordinate user and group ids "
				   "for %s in /etc/subuid and /etc/subgid: add them (sudo "
				   "usermod --add-subuids 100000-165535 --add-subgids "
				   "100000-165535 %s, with a range no other user has), or run "
				   "den as root",
				   USERNS_IDS, user[0] ? user : "this user",
				   user[0] ? user : "USER");
	return 0;
}

int userns_map_args(char *buf, size_t n, uint32_t sub, uint32_t own)
{
	int w = snprintf(buf, n, "0 %u %u %u %u 1 %u %u %u", sub, USERNS_LOGIN, USERNS_LOGIN, own,
			 USERNS_LOGIN + 1, sub + USERNS_LOGIN, USERNS_IDS - USERNS_LOGIN - 1);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* Runs newuidmap or newgidmap for pid; its complaint, if any, is in the error. */
static int run_helper(const char *name, pid_t pid, uint32_t sub, uint32_t own, struct den_err *err)
{
	char args[128], words[128], spid[16], hint[256], *argv[16];
	size_t n = 0;
	const char *path = helper(name);

	if (path == NULL || userns_map_args(args, sizeof(args), sub, own) < 0)
		return den_err_set(err, 0, "cannot run %s", name);
	snprintf(spid, sizeof(spid), "%d", (int)pid);
	snprintf(words, sizeof(words), "%s", args);
	argv[n++] = (char *)name;
	argv[n++] = spid;
	for (char *save = NULL, *t = strtok_r(words, " ", &save); t != NULL && n < 15;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	snprintf(hint, sizeof(hint), "it refused to map ids %s for this user: see /etc/%s", args,
		 strcmp(name, "newuidmap") == 0 ? "subuid" : "subgid");
	struct den_spawn sp = { .argv = (const char *const *)argv,
				.path = path,
				.err_fd = DEN_SPAWN_NULL,
				.hint = hint };
	return den_spawn_run(&sp, err);
}

int userns_write_maps(pid_t pid, const struct userns_map *m, struct den_err *err)
{
	if (run_helper("newuidmap", pid, m->sub_uid, m->uid, err) < 0 ||
	    run_helper("newgidmap", pid, m->sub_gid, m->gid, err) < 0)
		return -1;
	return 0;
}

int userns_run(const struct userns_map *m, int (*fn)(void *arg, struct den_err *err), void *arg,
	       struct den_err *err)
{
	int up[2], go[2], st;
	char c = 0, msg[DEN_ERR_MSG_MAX];
	struct den_err werr = { 0 };

	if (pipe2(up, O_CLOEXEC) < 0)
		return den_err_set(err, errno, "cannot enter the user namespace");
	if (pipe2(go, O_CLOEXEC) < 0) {
		close(up[0]), close(up[1]);
		return den_err_set(err, errno, "cannot enter the user namespace");
	}
	pid_t pid = fork();
	if (pid == 0) {
		struct den_err e = { 0 };
		close(up[0]);
		close(go[1]);
		if (unshare(CLONE_NEWUSER) < 0) {
			den_err_set(&e, errno,
				    "cannot make a user namespace (are unprivileged user "
				    "namespaces off? sysctl user.max_user_namespaces)");
			if (write(up[1], "e", 1) != 1)
				_exit(1);
		} else if (write(up[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		else if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			den_err_set(&e, errno, "cannot become root of the user namespace");
		else if (fn(arg, &e) == 0)
			_exit(0);
		if (write(up[1], e.msg, strlen(e.msg)) < 0)
			_exit(1);
		_exit(1);
	}
	close(up[1]);
	close(go[0]);
	if (pid < 0) {
		close(up[0]), close(go[1]);
		return den_err_set(err, errno, "cannot enter the user namespace");
	}
	int rc = 0;
	ssize_t n = read(up[0], &c, 1);
	if (n == 1 && c == 'r' && userns_write_maps(pid, m, err) == 0) {
		if (write(go[1], "g", 1) != 1)
			rc = den_err_set(err, errno, "cannot enter the user namespace");
	} else if (n == 1 && c == 'r') {
		rc = -1; /* the map's error */
	} else {
		rc = -1; /* no namespace: the child's error follows */
	}
	close(go[1]);
	if (!den_err_is_set(err)) {
		ssize_t len = read(up[0], msg, sizeof(msg) - 1);
		if (len > 0) {
			msg[len] = '\0';
			rc = den_err_set(err, 0, "%s", msg);
		} else if (rc < 0) {
			rc = den_err_set(err, 0, "cannot enter the user namespace");
		}
	}
	close(up[0]);
	if (den_spawn_wait(pid, &st, rc == 0 ? err : &werr) < 0)
		return -1;
	if (rc == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
		rc = den_err_set(err, 0, "the user namespace's helper failed");
	return rc;
}

static int rm_rf(void *arg, struct den_err *err)
{
	return den_rm_rf(arg, err);
}

int userns_rm_rf(const char *path, struct den_err *err)
{
	struct userns_map m;

	if (!userns_rootless())
		return den_rm_rf(path, err);
	if (den_rm_rf(path, err) == 0)
		return 0;
	/* Files of the namespace's other ids: only its root may remove them. */
	den_err_clear(err);
	if (userns_map_for_user(&m, err) < 0)
		return -1;
	return userns_run(&m, rm_rf, (void *)path, err);
}
