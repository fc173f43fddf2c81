/* SPDX-License-Identifier: MIT */
/*
 * What den puts into the container after pivot_root: synced folders
 * (bound, by den's root, from descriptors opened before the pivot) and,
 * by PID 1 as the container's root before it hardens itself, the files den
 * gives every machine (host key, authorized_keys, /etc/hosts,
 * /etc/hostname, /etc/resolv.conf). Done from inside, every path resolves
 * within the container's root: a symlink the container planted in its own
 * tree can only ever point den back into that tree, never at the host.
 */
#include "providers/container/container-internal.h"
#include "core/cleanup.h"
#include "core/passwd.h"
#include "core/fsutil.h"
#include "core/hostpath.h"
#include "providers/container/idmap.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

static int user_of(const char *name, uid_t *uid, gid_t *gid, char *home, size_t n,
		   struct den_err *err);

/* The gid of a group, from the container's own /etc/group. */
static int group_of(const char *name, gid_t *gid, struct den_err *err)
{
	FILE *f = fopen("/etc/group", "re");
	int rc = passwd_find_group(f, name, gid, err);

	if (f != NULL)
		fclose(f);
	return rc;
}

/*
 * Files of the host folder's owner appear owned by owner:group inside,
 * and their writes land as the host owner (an idmapped mount; the other
 * ids inside stay the container's own). A folder of host root's is never
 * mapped: that would let the machine make setuid-root programs on the
 * host (docs/decisions.md); inside, it keeps its root-less look.
 */
static int map_owner(const struct ctr_spec *s, const struct ctr_bind *b, int tree,
		     const struct stat *st, struct den_err *err)
{
	char home[1024], umap[256], gmap[256];
	uid_t uid;
	gid_t gid;

	if (user_of(b->owner, &uid, &gid, home, sizeof(home), err) < 0 ||
	    (b->group != NULL && group_of(b->group, &gid, err) < 0))
		return -1;
	/* Without root the user's own files already show as the login user's (userns.h). */
	if (s->rootless) {
		if (uid == USERNS_LOGIN && (b->group == NULL || gid == USERNS_LOGIN))
			return 0;
		return den_err_set(
			err, 0,
			"synced folder %s: without root, your files show as uid and gid %u "
			"inside, but the folder's owner there (the login user unless "
			"owner: or group: name another) is %u:%u: use a user of uid "
			"%u, or run den as root",
			b->host, USERNS_LOGIN, (unsigned)uid, (unsigned)gid, USERNS_LOGIN);
	}
	if (st->st_uid == 0 && st->st_gid == 0)
		return 0;
	if (ctr_folder_map(umap, sizeof(umap), s->ids.uid, st->st_uid, uid) < 0 ||
	    ctr_folder_map(gmap, sizeof(gmap), s->ids.gid, st->st_gid, gid) < 0)
		return den_err_set(err, 0, "cannot map the owner of %s", b->host);
	int ns = ctr_userns_fd(umap, gmap, err);
	if (ns < 0)
		return den_err_wrap(err, "synced folder %s", b->host);
	int rc = ctr_idmap_tree(tree, ns, b->host, err);
	close(ns);
	return rc;
}

static int bind_inside(const struct ctr_spec *s, const struct ctr_bind *b, int fd,
		       struct den_err *err)
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
	if (b->owner != NULL && map_owner(s, b, fd, &st, err) < 0)
		return -1;
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, b->guest, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return den_err_set(err, errno, "cannot bind %s to %s", b->host, b->guest);
	return restrict_bind(b->guest, b->readonly, err);
}

/* uid, gid and home of a user, from the container's own /etc/passwd. */
static int user_of(const char *name, uid_t *uid, gid_t *gid, char *home, size_t n,
		   struct den_err *err)
{
	struct passwd_user u;
	FILE *f = fopen("/etc/passwd", "re");
	int rc = passwd_find_user(f, name, &u, err);

	if (f != NULL)
		fclose(f);
	if (rc < 0)
		return -1;
	*uid = u.uid;
	*gid = u.gid;
	snprintf(home, n, "%s", u.home);
	return 0;
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

int ctr_bind_inside(const struct ctr_spec *s, const int *bind_fds, struct den_err *err)
{
	for (size_t i = 0; i < s->n_binds; i++) {
		if (bind_inside(s, &s->binds[i], bind_fds[i], err) < 0)
			return -1;
		close(bind_fds[i]);
	}
	return 0;
}

int ctr_put_files(const struct ctr_spec *s, struct den_err *err)
{
	for (size_t i = 0; i < s->n_files; i++)
		if (put_file(&s->files[i], err) < 0)
			return -1;
	return 0;
}
