/* SPDX-License-Identifier: MIT */
/*
 * Id maps: which host ids a container's ids are (its user namespace), and
 * how idmapped mounts show on-disk ids to it (its root's layers and its
 * synced folders). docs/decisions.md says why den maps this way.
 */
#include "providers/container/idmap.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

void ctr_ids_pick(struct ctr_ids *ids)
{
	ids->uid = userns_subid("/etc/subuid");
	ids->gid = userns_subid("/etc/subgid");
	if (ids->uid == 0)
		ids->uid = CTR_IDS_DEN_BASE;
	if (ids->gid == 0)
		ids->gid = CTR_IDS_DEN_BASE;
}

/* Appends one "inside outside count" line; count 0 adds nothing. */
static int map_line(char *buf, size_t n, size_t *used, uint32_t in, uint32_t out, uint32_t count)
{
	int w;

	if (count == 0)
		return 0;
	w = snprintf(buf + *used, n - *used, "%u %u %u\n", in, out, count);
	if (w < 0 || (size_t)w >= n - *used)
		return -1;
	*used += (size_t)w;
	return 0;
}

int ctr_folder_map(char *buf, size_t n, uint32_t base, uint32_t owner, uint32_t guest)
{
	size_t used = 0;
	uint32_t shown = base + guest;

	buf[0] = '\0';
	/* Root, or an id already inside the range, shows as what it is. */
	if (owner == 0 || guest >= CTR_IDS || (owner >= base && owner - base < CTR_IDS))
		return map_line(buf, n, &used, base, base, CTR_IDS);
	/*
	 * The owner and the guest's own shifted id trade places; every other
	 * container id is itself on disk. Inside and outside ranges are each
	 * disjoint, as the kernel asks of a map.
	 */
	if (map_line(buf, n, &used, owner, shown, 1) < 0 ||
	    map_line(buf, n, &used, shown, owner, 1) < 0 ||
	    map_line(buf, n, &used, base, base, guest) < 0 ||
	    map_line(buf, n, &used, shown + 1, shown + 1, CTR_IDS - guest - 1) < 0)
		return -1;
	return 0;
}

/* Writes text to a /proc file in one write (maps must be written at once). */
static int write_at(int dirfd, const char *path, const char *text)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

int ctr_userns_fd(const char *uid_map, const char *gid_map, struct den_err *err)
{
	int up[2], hold[2], fd = -1;
	char self[32] = "", path[96];
	pid_t pid;

	if (pipe2(up, O_CLOEXEC) < 0)
		return den_err_set(err, errno, "cannot make a user namespace for an id map");
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(up[0]), close(up[1]);
		return den_err_set(err, errno, "cannot make a user namespace for an id map");
	}
	pid = fork();
	if (pid == 0) {
		/* /proc/self names the child as the mounted /proc counts pids. */
		ssize_t len = readlink("/proc/self", self, sizeof(self) - 1);
		char c;
		close(up[0]);
		close(hold[1]);
		if (len <= 0 || unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		self[len] = '\0';
		if (write(up[1], self, (size_t)len) != len)
			_exit(1);
		(void)!read(hold[0], &c, 1); /* held until the parent has the namespace */
		_exit(0);
	}
	close(up[1]);
	close(hold[0]);
	if (pid < 0) {
		close(up[0]), close(hold[1]);
		return den_err_set(err, errno, "cannot make a user namespace for an id map");
	}
	ssize_t len = read(up[0], self, sizeof(self) - 1);
	close(up[0]);
	if (len > 0) {
		self[len] = '\0';
		snprintf(path, sizeof(path), "/proc/%s/uid_map", self);
		if (write_at(AT_FDCWD, path, uid_map) == 0) {
			snprintf(path, sizeof(path), "/proc/%s/gid_map", self);
			if (write_at(AT_FDCWD, path, gid_map) == 0) {
				snprintf(path, sizeof(path), "/proc/%s/ns/user", self);
				fd = open(path, O_RDONLY | O_CLOEXEC);
			}
		}
	}
	int saved = errno;
	close(hold[1]);
	waitpid(pid, NULL, 0);
	if (fd < 0)
		return den_err_set(err, len > 0 ? saved : 0,
				   "cannot make a user namespace for an id map");
	return fd;
}

int ctr_idmap_tree(int tree, int userns, const char *what, struct den_err *err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)userns };

	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
		    sizeof(attr)) < 0)
		return den_err_set(err, errno,
				   "cannot map the ids of %s (its file system needs idmapped "
				   "mounts: ext4, xfs, btrfs or tmpfs on Linux 6.3 or later)",
				   what);
	return 0;
}

int ctr_write_maps(int procfd, pid_t pid, const struct ctr_ids *ids, struct den_err *err)
{
	char map[64], path[64];

	snprintf(map, sizeof(map), "0 %u %u\n", ids->uid, CTR_IDS);
	snprintf(path, sizeof(path), "%d/uid_map", (int)pid);
	if (write_at(procfd, path, map) < 0)
		return den_err_set(err, errno, "cannot map the container's users to host ids %u-%u",
				   ids->uid, ids->uid + CTR_IDS - 1);
	snprintf(map, sizeof(map), "0 %u %u\n", ids->gid, CTR_IDS);
	snprintf(path, sizeof(path), "%d/gid_map", (int)pid);
	if (write_at(procfd, path, map) < 0)
		return den_err_set(err, errno,
				   "cannot map the container's groups to host ids %u-%u", ids->gid,
				   ids->gid + CTR_IDS - 1);
	return 0;
}
