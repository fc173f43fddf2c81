/* SPDX-License-Identifier: MIT */
/*
 * Moving an older den's PROJECT/.den/machines into the project's state
 * folder under $DEN_HOME (docs/decisions.md, "Machine state leaves the
 * project"). The old folder was writable from inside every machine that
 * synced the project, so what is moved is checked as untrusted: only real
 * folders are taken, and links inside a machine's folder (den never makes
 * any) are dropped before the move.
 */
#include "core/project.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *legacy_machines(const char *root)
{
	char *p = NULL;

	if (asprintf(&p, "%s/" DEN_LEGACY_DIR "/machines", root) < 0)
		return NULL;
	return p;
}

/* PROJECT/.den and its machines/ are real folders (a link is never den's). */
static bool legacy_is_there(const char *root)
{
	cleanup_free char *machines = legacy_machines(root), *den = NULL;
	struct stat st;

	if (machines == NULL || asprintf(&den, "%s/" DEN_LEGACY_DIR, root) < 0)
		return false;
	return lstat(den, &st) == 0 && S_ISDIR(st.st_mode) && lstat(machines, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

static bool is_empty_dir(const char *dir);

/*
 * Only while the state folder has no machine: once it has, a .den is not
 * den's any more (an older den's leftover, or made from inside a machine)
 * and is never read.
 */
bool project_has_legacy_state(const char *root)
{
	cleanup_free char *state = NULL, *machines = NULL;
	struct den_err ignored = { 0 };

	if (!legacy_is_there(root) || project_state_dir(root, &state, &ignored) < 0 ||
	    asprintf(&machines, "%s/machines", state) < 0)
		return false;
	return is_empty_dir(machines);
}

/* True when dir has nothing in it but . and .. (or does not exist). */
static bool is_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	while (d != NULL && empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	if (d != NULL)
		closedir(d);
	return empty;
}

/*
 * In one machine's folder: links go (a guest could have planted `upper ->
 * /etc`), and the folder becomes den's alone (0700).
 */
static int drop_links(int machines_fd, const char *name, struct den_err *err)
{
	cleanup_close int fd =
		openat(machines_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	struct stat st;

	if (fd < 0)
		return den_err_set(err, errno, "cannot open the machine folder %s", name);
	if (fchmod(fd, 0700) < 0)
		return den_err_set(err, errno, "cannot protect the machine folder %s", name);
	d = fdopendir(fd);
	if (d == NULL)
		return den_err_set(err, errno, "cannot read the machine folder %s", name);
	fd = -1; /* the DIR owns it now */
	while ((e = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISLNK(st.st_mode))
			continue;
		den_warn("machine %s: dropping the link %s in its old state folder (den makes "
			 "none; something inside a machine may have planted it)",
			 name, e->d_name);
		if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
			int e_ = errno;
			closedir(d);
			return den_err_set(err, e_, "cannot remove the link %s of machine %s",
					   e->d_name, name);
		}
	}
	closedir(d);
	return 0;
}

/* Every entry of machines/ (in .den, den_fd) must be a real folder; links and files go. */
static int check_machines(int den_fd, const char *dir, struct den_err *err)
{
	cleanup_close int fd =
		openat(den_fd, "machines", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	struct stat st;
	int rc = 0;

	if (fd < 0)
		return den_err_set(err, errno, "cannot open %s", dir);
	d = fdopendir(fd);
	if (d == NULL)
		return den_err_set(err, errno, "cannot read %s", dir);
	fd = -1;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = drop_links(dirfd(d), e->d_name, err);
			continue;
		}
		den_warn("dropping %s/%s: not a machine folder", dir, e->d_name);
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			rc = den_err_set(err, errno, "cannot remove %s/%s", dir, e->d_name);
	}
	closedir(d);
	return rc;
}

int project_migrate_legacy(const char *root, struct den_err *err)
{
	cleanup_free char *old = legacy_machines(root), *new = NULL, *legacy = NULL, *state = NULL;

	if (!project_has_legacy_state(root))
		return 0;
	if (project_state_dir(root, &state, err) < 0)
		return -1;
	if (old == NULL || asprintf(&new, "%s/machines", state) < 0 ||
	    asprintf(&legacy, "%s/" DEN_LEGACY_DIR, root) < 0)
		return den_err_set(err, ENOMEM, "cannot move the old machine state");
	/* Through a descriptor of .den itself: a link swapped in meanwhile is not followed. */
	cleanup_close int den_fd = open(legacy, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (den_fd < 0)
		return den_err_set(err, errno, "cannot open %s", legacy);
	if (check_machines(den_fd, old, err) < 0)
		return den_err_wrap(err, "moving the machine state of %s", root);
	if (rmdir(new) < 0 && errno != ENOENT)
		return den_err_set(err, errno, "cannot move %s to %s", old, new);
	if (renameat(den_fd, "machines", AT_FDCWD, new) < 0) {
		int e = errno;
		/* machines/ must be there again for the callers that made it. */
		(void)mkdir(new, 0700);
		if (e == EXDEV)
			return den_err_set(
				err, 0,
				"den keeps machine state in %s now, and %s is on another file "
				"system: halt this project's machines, then move it yourself "
				"(`mv %s %s`), or set DEN_HOME to a folder on the project's file "
				"system",
				state, old, old, new);
		return den_err_set(err, e, "cannot move %s to %s", old, new);
	}
	if (chmod(new, 0700) < 0)
		return den_err_set(err, errno, "cannot protect %s", new);
	den_info("moved this project's machine state from %s to %s (out of the machines' "
		 "reach)",
		 legacy, state);
	/* The rest (lock, ansible inventory, .gitignore) is made again where needed. */
	if (den_rm_rf(legacy, err) < 0)
		den_err_clear(err);
	return 0;
}
