/* SPDX-License-Identifier: MIT */
#include "providers/vm_shares.h"
#include "core/cleanup.h"
#include "core/hostpath.h"
#include "providers/provider.h"
#include "providers/vm_ready.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define PROBE_XATTR "user.den.probe"

/* A file to try on: unnamed (O_TMPFILE) where the file system can, else a unique name. */
static int probe_file(int dir, char *name, size_t size)
{
	int fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	struct timespec t;

	name[0] = '\0';
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	clock_gettime(CLOCK_MONOTONIC, &t);
	snprintf(name, size, ".den-xattr-probe.%d.%ld", (int)getpid(), (long)t.tv_nsec);
	return openat(dir, name, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
}

int vm_folder_keeps_xattrs(int dir_fd, const char *what, struct den_err *err)
{
	char self[64], name[64];

	/* An O_PATH descriptor cannot make files: the folder itself, through it. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", dir_fd);
	cleanup_close int dir = open(self, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return den_err_set(err, errno, "cannot open %s", what);
	cleanup_close int fd = probe_file(dir, name, sizeof(name));
	if (fd < 0)
		return den_err_set(err, errno,
				   "cannot make a file in %s to see whether it keeps extended "
				   "attributes (make it writable, or share it read-only)",
				   what);
	int rc = fsetxattr(fd, PROBE_XATTR, "1", 1, 0);
	int e = errno;
	if (rc == 0)
		fremovexattr(fd, PROBE_XATTR);
	if (name[0] != '\0')
		unlinkat(dir, name, 0);
	if (rc == 0)
		return 1;
	if (e == EOPNOTSUPP)
		return 0;
	return den_err_set(err, e, "cannot set an extended attribute on a file in %s", what);
}

void vm_shares_close(struct vm_share *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(s[i].fd);
}

/* A writable share on a file system that keeps no owners for the guest: refused now, not at mount. */
static int check_writable(const struct den_machine *dm, const struct synced_folder *f, int fd,
			  struct den_err *err)
{
	int keeps = vm_folder_keeps_xattrs(fd, f->host_path, err);

	if (keeps < 0)
		return den_err_wrap(err, "synced folder %s of machine %s", f->guest, dm->cfg->name);
	if (keeps == 0)
		return den_err_set(err, 0,
				   "synced folder %s of machine %s: %s is on a file system without "
				   "user extended attributes, where the guest's owners and modes "
				   "cannot be kept; use type: rsync, mount_options: [ro], or a "
				   "folder on another file system",
				   f->guest, dm->cfg->name, f->host_path);
	return 0;
}

int vm_shares_open(struct den_machine *dm, int fd0, struct vm_share *out, size_t max, size_t *n,
		   struct den_err *err)
{
	*n = 0;
	for (size_t i = 0; i < dm->cfg->n_folders; i++) {
		const struct synced_folder *f = &dm->cfg->folders[i];
		struct vm_share *s = &out[*n];
		if (f->disabled || f->type != SYNC_NATIVE)
			continue;
		if (*n == max) {
			den_err_set(err, 0, "machine %s: more than %zu native synced folders",
				    dm->cfg->name, max);
			goto fail;
		}
		if (provider_create_folder(dm, f, err) < 0)
			goto fail;
		s->ro = false;
		for (size_t j = 0; j < f->n_mount_options; j++)
			s->ro |= strcmp(f->mount_options[j], "ro") == 0;
		s->fd = hostpath_open(dm->root, f->host_path, 0, O_PATH | O_DIRECTORY, err);
		if (s->fd < 0)
			goto fail;
		(*n)++;
		if (!s->ro && check_writable(dm, f, s->fd, err) < 0)
			goto fail;
		/* Numbered among the shares, not the folders: a warm image's template has the same. */
		vm_share_tag(*n - 1, s->tag, sizeof(s->tag));
		snprintf(s->path, sizeof(s->path), "/proc/self/fd/%d", fd0 + (int)*n - 1);
	}
	return 0;
fail:
	vm_shares_close(out, *n);
	*n = 0;
	return -1;
}

int vm_shares_check(struct den_machine *dm, size_t max, size_t *count, struct den_err *err)
{
	struct vm_share s[VM_MAX_SHARES];
	size_t n = 0;

	if (vm_shares_open(dm, 0, s, max < VM_MAX_SHARES ? max : VM_MAX_SHARES, &n, err) < 0)
		return -1;
	vm_shares_close(s, n);
	if (count != NULL)
		*count = n;
	return 0;
}
