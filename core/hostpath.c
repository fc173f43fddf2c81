/* SPDX-License-Identifier: MIT */
/*
 * Host paths resolved once, following no symlink: openat2() with
 * RESOLVE_NO_SYMLINKS (and RESOLVE_BENEATH inside the project) opens the
 * folder holding the last component, so that a symlink a machine planted
 * anywhere on the way is refused by the kernel, not by a check that a
 * rename can outrun.
 */
#include "core/hostpath.h"
#include "core/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* RESOLVE_BENEATH says EAGAIN when a rename raced a "..": try again, a few times. */
#define EAGAIN_TRIES 8

void hostpath_release(struct hostpath *hp)
{
	if (hp->dir_fd >= 0)
		close(hp->dir_fd);
	free(hp->name);
	hp->dir_fd = -1;
	hp->name = NULL;
}

/* What follows project in path ("" for project itself), or NULL when path is not in it. */
static const char *inside(const char *project, const char *path)
{
	size_t n = strlen(project);

	if (project[0] != '/')
		return NULL;
	while (n > 0 && project[n - 1] == '/')
		n--; /* "/" becomes "": every absolute path is in it */
	if (strncmp(project, path, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	for (path += n; *path == '/';)
		path++;
	return path;
}

/* Splits rel into the folder to open and its last component ("." for a folder itself). */
static int split(const char *rel, char **dir, char **name)
{
	size_t len = strlen(rel);

	while (len > 1 && rel[len - 1] == '/')
		len--;
	const char *last = len ? memrchr(rel, '/', len) : NULL;
	const char *nm = last ? last + 1 : rel;
	size_t nlen = (size_t)(rel + len - nm);
	bool dots = (nlen == 1 && nm[0] == '.') || (nlen == 2 && nm[0] == '.' && nm[1] == '.');

	if (len == 0 || nlen == 0 || dots) {
		/* "", "/", "x/.", "x/..": the folder itself, never a symlink. */
		*dir = len ? strndup(rel, len) : strdup(".");
		*name = strdup(".");
	} else {
		*dir = last == NULL  ? strdup(".")
		       : last == rel ? strdup("/")
				     : strndup(rel, last - rel);
		*name = strndup(nm, nlen);
	}
	return *dir && *name ? 0 : -1;
}

/* The first symlink on dir's way from start, as the length of its prefix of dir; 0 when none. */
static size_t first_link(int start, const char *dir)
{
	cleanup_free char *part = strdup(dir);
	struct stat st;

	for (size_t i = 1; part != NULL; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		if (dir[i - 1] != '/') {
			part[i] = '\0';
			if (fstatat(start, part, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				return i;
			part[i] = dir[i];
		}
		if (dir[i] == '\0')
			break;
	}
	return 0;
}

static int refuse(int start, const char *path, const char *rel, const char *dir,
		  const char *project, bool beneath, struct den_err *err)
{
	size_t link;

	switch (errno) {
	case ELOOP:
		link = first_link(start, dir);
		if (link == 0)
			break;
		return den_err_set(
			err, 0,
			"%s: %.*s is a symlink, and den follows no symlink in a host path "
			"it sends into a machine (code in a machine can plant one in a "
			"synced folder): name the real path",
			path, (int)((size_t)(rel - path) + link), path);
	case EXDEV:
		if (beneath)
			return den_err_set(err, 0, "%s: leads outside the project %s", path,
					   project);
		break;
	case ENOSYS:
		return den_err_set(err, ENOSYS,
				   "cannot resolve %s (openat2 needs Linux 5.6 or later)", path);
	}
	return den_err_set(err, errno, "cannot read %s", path);
}

int hostpath_resolve(const char *project, const char *path, unsigned flags, struct hostpath *out,
		     struct den_err *err)
{
	cleanup_free char *dir = NULL, *name = NULL;
	cleanup_close int base = -1;
	const char *rel = path;
	bool beneath = false;
	int start = AT_FDCWD, fd = -1;

	out->dir_fd = -1;
	out->name = NULL;
	if (path[0] == '\0')
		return den_err_set(err, ENOENT, "cannot read ''");
	if (project == NULL && !(flags & HOSTPATH_FROM_CWD))
		return den_err_set(err, EINVAL, "cannot resolve %s: no project", path);
	if (project != NULL) {
		if (path[0] == '/')
			rel = inside(project, path);
		else if (flags & HOSTPATH_FROM_CWD)
			rel = NULL;
		beneath = rel != NULL;
		if (!beneath)
			rel = path;
	}
	if (beneath) {
		base = open(project, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (base < 0)
			return den_err_set(err, errno, "cannot open the project folder %s",
					   project);
		start = base;
	}
	if (split(rel, &dir, &name) < 0)
		return den_err_set(err, ENOMEM, "cannot resolve %s", path);

	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_NO_SYMLINKS | (beneath ? RESOLVE_BENEATH : 0) };
	for (int i = 0; i < EAGAIN_TRIES; i++) {
		fd = (int)syscall(SYS_openat2, start, dir, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0)
		return refuse(start, path, rel, dir, project, beneath, err);
	out->dir_fd = fd;
	out->name = steal_pointer(&name);
	return 0;
}

int hostpath_open(const char *project, const char *path, unsigned flags, int oflags,
		  struct den_err *err)
{
	cleanup_hostpath struct hostpath hp = { .dir_fd = -1 };
	struct stat st;
	int fd;

	if (hostpath_resolve(project, path, flags, &hp, err) < 0)
		return -1;
	fd = openat(hp.dir_fd, hp.name, oflags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 &&
	    (errno == ELOOP ||
	     (errno == ENOTDIR && fstatat(hp.dir_fd, hp.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	      S_ISLNK(st.st_mode))))
		return den_err_set(err, ELOOP,
				   "%s is a symlink, and den follows no symlink in a host path "
				   "a machine can reach (code in a machine can plant one in a "
				   "synced folder): name the real path",
				   path);
	if (fd < 0)
		return den_err_set(err, errno, "cannot open %s", path);
	/* O_PATH | O_NOFOLLOW opens a link itself rather than failing. */
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
		close(fd);
		return den_err_set(err, ELOOP, "%s is a symlink: name the real path", path);
	}
	return fd;
}
