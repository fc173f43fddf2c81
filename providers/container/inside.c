/* SPDX-License-Identifier: MIT */
/*
 * What PID 1 puts into the container after pivot_root and before it
 * hardens itself: synced folders (bound from descriptors opened before the
 * pivot) and the files den gives every machine (host key, authorized_keys,
 * /etc/hosts, /etc/hostname, /etc/resolv.conf). Done from inside, every
 * path resolves within the container's root: a symlink the container
 * planted in its own tree can only ever point den back into that tree,
 * never at the host.
 */
#include "providers/container/container-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/hostpath.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

/*
 * Detached copies of the host folders' mounts (open_tree), taken while the
 * host's tree is still reachable; after the pivot they are moved into
 * place (move_mount), so the host path is never looked up from inside.
 * The host path is resolved following no link (a machine syncing the
 * project could have replaced a nested synced folder with one).
 */
static int open_bind(const struct ctr_spec *s, const char *host, struct den_err *err)
{
	cleanup_close int fd = hostpath_open(s->project, host, HOSTPATH_FROM_CWD, O_PATH, err);

	if (fd < 0)
		return den_err_wrap(err, "synced folder");
	int tree = (int)syscall(SYS_open_tree, fd, "",
				AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return den_err_set(err, errno, "cannot bind %s", host);
	return tree;
}

int ctr_open_binds(const struct ctr_spec *s, int *fds, struct den_err *err)
{
	for (size_t i = 0; i < s->n_binds; i++) {
		fds[i] = open_bind(s, s->binds[i].host, err);
		if (fds[i] < 0)
			return -1;
	}
	return 0;
}

/* Read-only and nodev, nosuid for the whole bound tree (mount_setattr, 5.12+). */
static int restrict_bind(const char *path, bool readonly, struct den_err *err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID };

	if (readonly)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
		return 0;
	/* Older kernels: the top mount only. */
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_NODEV | MS_NOSUID;
	if (readonly)
		flags |= MS_RDONLY;
	if (mount(NULL, path, NULL, flags, NULL) < 0)
		return den_err_set(err, errno, "cannot restrict the folder bound at %s", path);
	return 0;
}

/* Writes text to a /proc file in one write (maps must be written at once). */
static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int user_of(const char *name, uid_t *uid, gid_t *gid, char *home, size_t n,
		   struct den_err *err);

/* The gid of a group, from the container's own /etc/group. */
static int group_of(const char *name, gid_t *gid, struct den_err *err)
{
	char line[1024];
	FILE *f = fopen("/etc/group", "re");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c1 = '\0';
		if (strcmp(line, name) == 0) {
			*gid = (gid_t)strtoul(c2 + 1, NULL, 10);
			fclose(f);
			return 0;
		}
	}
	if (f != NULL)
		fclose(f);
	return den_err_set(err, 0, "the box has no group '%s'", name);
}

/* A user namespace mapping the host ids (hu, hg) to the guest's (gu, gg): for an idmapped mount. */
static int idmap_userns(uid_t hu, gid_t hg, uid_t gu, gid_t gg, struct den_err *err)
{
	int sync[2], fd = -1;
	char path[64], map[64];
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC) < 0)
		return den_err_set(err, errno, "cannot map the folder's owner");
	pid = fork();
	if (pid == 0) {
		char c;
		close(sync[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		(void)!read(sync[0], &c, 1); /* held until the parent has the namespace */
		_exit(0);
	}
	close(sync[0]);
	if (pid < 0) {
		close(sync[1]);
		return den_err_set(err, errno, "cannot map the folder's owner");
	}
	usleep(0);
	/* Wait for the child to be in its namespace before writing the maps. */
	for (int i = 0; i < 1000; i++) {
		char self[64], child[64];
		ssize_t a, b;
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		a = readlink("/proc/self/ns/user", self, sizeof(self));
		b = readlink(path, child, sizeof(child));
		if (a > 0 && b > 0 && (a != b || memcmp(self, child, (size_t)a) != 0))
			break;
		usleep(1000);
	}
	/*
	 * An idmapped mount reads an on-disk id as an id inside the namespace
	 * and shows what that maps to: so ns id = the host owner, mapped to the
	 * guest's id.
	 */
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)hu, (unsigned)gu);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	int ok = write_proc(path, map);
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)hg, (unsigned)gg);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	ok = ok == 0 ? write_proc(path, map) : ok;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (ok == 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	close(sync[1]);
	waitpid(pid, NULL, 0);
	if (fd < 0)
		return den_err_set(err, errno, "cannot map the folder's owner (user namespace)");
	return fd;
}

/* Files of the host folder's owner appear owned by owner:group inside (idmapped mount). */
static int map_owner(const struct ctr_bind *b, int tree, const struct stat *st, struct den_err *err)
{
	char home[1024];
	uid_t uid;
	gid_t gid;

	if (user_of(b->owner, &uid, &gid, home, sizeof(home), err) < 0 ||
	    (b->group != NULL && group_of(b->group, &gid, err) < 0))
		return -1;
	int ns = idmap_userns(st->st_uid, st->st_gid, uid, gid, err);
	if (ns < 0)
		return -1;
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)ns };
	int rc = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			      sizeof(attr));
	close(ns);
	if (rc < 0)
		return den_err_set(err, errno,
				   "cannot show %s as owned by %s (the file system may not "
				   "support idmapped mounts; drop owner:)",
				   b->host, b->owner);
	return 0;
}

static int bind_inside(const struct ctr_bind *b, int fd, struct den_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot bind %s", b->host);
	if (S_ISDIR(st.st_mode)) {
		if (den_mkdir_p(b->guest, 0755, err) < 0)
			return -1;
	} else {
		int t = open(b->guest, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (t < 0)
			return den_err_set(err, errno, "cannot bind %s to %s", b->host, b->guest);
		close(t);
	}
	if (b->owner != NULL && map_owner(b, fd, &st, err) < 0)
		return -1;
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, b->guest, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return den_err_set(err, errno, "cannot bind %s to %s", b->host, b->guest);
	return restrict_bind(b->guest, b->readonly, err);
}

/* uid, gid and home of a user, from the container's own /etc/passwd. */
static int user_of(const char *name, uid_t *uid, gid_t *gid, char *home, size_t n,
		   struct den_err *err)
{
	char line[1024];
	FILE *f = fopen("/etc/passwd", "re");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *field[7] = { 0 }, *p = line;
		int k = 0;

		line[strcspn(line, "\n")] = '\0';
		for (; k < 7 && p != NULL; k++) {
			field[k] = p;
			p = strchr(p, ':');
			if (p != NULL)
				*p++ = '\0';
		}
		if (k < 6 || strcmp(field[0], name) != 0)
			continue;
		fclose(f);
		if (field[5][0] != '/' || strstr(field[5], "..") != NULL)
			return den_err_set(err, 0,
					   "user %s has home '%s', which is not a plain "
					   "absolute path",
					   name, field[5]);
		*uid = (uid_t)strtoul(field[2], NULL, 10);
		*gid = (gid_t)strtoul(field[3], NULL, 10);
		snprintf(home, n, "%s", field[5]);
		return 0;
	}
	if (f != NULL)
		fclose(f);
	return den_err_set(err, 0, "the box has no user '%s' (set ssh.username in the Envfile)",
			   name);
}

/* mkdir -p, each new folder given to uid:gid with mode. */
static int mkdir_owned(const char *path, uid_t uid, gid_t gid, mode_t mode, struct den_err *err)
{
	char part[4096];
	struct stat st;

	for (size_t i = 1, len = strlen(path); i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		snprintf(part, sizeof(part), "%.*s", (int)i, path);
		if (stat(part, &st) == 0)
			continue;
		if (mkdir(part, mode) < 0 || chown(part, uid, gid) < 0 || chmod(part, mode) < 0)
			return den_err_set(err, errno, "cannot create %s", part);
	}
	return 0;
}

static int put_file(const struct ctr_file *f, struct den_err *err)
{
	char path[4096], home[1024];
	uid_t uid = 0;
	gid_t gid = 0;
	const char *guest = f->guest;
	struct stat st;

	if (f->if_empty && stat(guest, &st) == 0 && st.st_size > 0)
		return 0;
	if (f->owner != NULL && user_of(f->owner, &uid, &gid, home, sizeof(home), err) < 0)
		return -1;
	/* "~/.ssh/authorized_keys" is in the owner's home. */
	if (guest[0] == '~') {
		snprintf(path, sizeof(path), "%s%s", home, guest + 1);
		guest = path;
		char dir[4096];
		snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(guest, '/') - guest), guest);
		if (mkdir_owned(home, uid, gid, 0755, err) < 0 ||
		    mkdir_owned(dir, uid, gid, 0700, err) < 0)
			return -1;
	} else {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(guest, '/') - guest), guest);
		if (dir[0] != '\0' && mkdir_owned(dir, 0, 0, 0755, err) < 0)
			return -1;
	}
	/* A symlink in its place (resolv.conf often is one) is replaced, never followed. */
	if (lstat(guest, &st) == 0 && S_ISLNK(st.st_mode))
		unlink(guest);
	cleanup_close int fd =
		open(guest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, f->mode);
	size_t len = strlen(f->text);
	if (fd < 0 || write(fd, f->text, len) != (ssize_t)len || fchown(fd, uid, gid) < 0 ||
	    fchmod(fd, f->mode) < 0)
		return den_err_set(err, errno, "cannot write %s", guest);
	return 0;
}

int ctr_fill_inside(const struct ctr_spec *s, const int *bind_fds, struct den_err *err)
{
	for (size_t i = 0; i < s->n_binds; i++) {
		if (bind_inside(&s->binds[i], bind_fds[i], err) < 0)
			return -1;
		close(bind_fds[i]);
	}
	for (size_t i = 0; i < s->n_files; i++)
		if (put_file(&s->files[i], err) < 0)
			return -1;
	return 0;
}
