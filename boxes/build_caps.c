/* SPDX-License-Identifier: MIT */
/*
 * A container box's programs that ask for CAP_NET_RAW through a file
 * capability (Debian's ping does) lose it. A container has no
 * CAP_NET_RAW (providers/container/harden.c), and the kernel refuses to
 * run a program whose file capabilities it cannot grant; without the
 * capability, ping goes through an ICMP datagram socket, which the
 * container's ping_group_range allows.
 */
#include "boxes/build-internal.h"
#include "core/log.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define CAPS_XATTR "security.capability"

/* Whether path's file capability (a vfs_cap_data of any revision) permits CAP_NET_RAW. */
static bool asks_net_raw(const char *path)
{
	struct vfs_ns_cap_data cap;
	ssize_t n = lgetxattr(path, CAPS_XATTR, &cap, sizeof(cap));

	if (n < (ssize_t)(sizeof(cap.magic_etc) + sizeof(cap.data[0])))
		return false;
	return (le32toh(cap.data[0].permitted) >> CAP_NET_RAW) & 1;
}

int build_drop_raw_caps(const char *root, struct den_err *err)
{
	static const char *const dirs[] = { "usr/bin", "usr/sbin", "bin", "sbin" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char dir[4096], path[4096 + 256];
		struct stat st;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/%s", root, dirs[i]);
		if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue; /* absent, or a link to usr/ (merged /usr) */
		DIR *d = opendir(dir);
		if (d == NULL)
			return den_err_set(err, errno, "cannot read %s", dir);
		while ((e = readdir(d)) != NULL) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (e->d_name[0] == '.' || lstat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
			    !asks_net_raw(path))
				continue;
			if (lremovexattr(path, CAPS_XATTR) < 0) {
				int saved = errno;
				closedir(d);
				return den_err_set(err, saved,
						   "cannot drop the file capability of %s", path);
			}
			den_verbose("/%s/%s: no file capability (it asked for CAP_NET_RAW)",
				    dirs[i], e->d_name);
		}
		closedir(d);
	}
	return 0;
}
