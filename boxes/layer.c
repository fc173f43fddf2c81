/* SPDX-License-Identifier: MIT */
#include "boxes/layer.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

/* The paths this layer has unpacked so far, and their folders: a set of strings. */
struct layer {
	char **slot;
	size_t cap, n;
};

struct layer *layer_new(void)
{
	struct layer *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->cap = 1024;
	l->slot = calloc(l->cap, sizeof(*l->slot));
	if (l->slot == NULL) {
		free(l);
		return NULL;
	}
	return l;
}

void layer_free(struct layer *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->cap; i++)
		free(l->slot[i]);
	free(l->slot);
	free(l);
}

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* The slot of s[0..n) in the set: where it is, or the empty one where it would go. */
static char **find(const struct layer *l, const char *s, size_t n)
{
	size_t i = hash(s, n) & (l->cap - 1);

	while (l->slot[i] != NULL && !(strncmp(l->slot[i], s, n) == 0 && l->slot[i][n] == '\0'))
		i = (i + 1) & (l->cap - 1);
	return &l->slot[i];
}

static bool has(const struct layer *l, const char *s)
{
	return *find(l, s, strlen(s)) != NULL;
}

static int grow(struct layer *l)
{
	struct layer bigger = { calloc(l->cap * 2, sizeof(char *)), l->cap * 2, l->n };

	if (bigger.slot == NULL)
		return -1;
	for (size_t i = 0; i < l->cap; i++)
		if (l->slot[i] != NULL)
			*find(&bigger, l->slot[i], strlen(l->slot[i])) = l->slot[i];
	free(l->slot);
	*l = bigger;
	return 0;
}

/* Adds s[0..n) to the set; what is there already stays. */
static int add(struct layer *l, const char *s, size_t n)
{
	char **slot;

	if (2 * (l->n + 1) > l->cap && grow(l) < 0)
		return -1;
	slot = find(l, s, n);
	if (*slot != NULL)
		return 0;
	*slot = strndup(s, n);
	if (*slot == NULL)
		return -1;
	l->n++;
	return 0;
}

/* path and every folder above it, so an opaque marker keeps what lies on the way. */
static int add_with_parents(struct layer *l, const char *path)
{
	size_t n = strlen(path);

	if (add(l, path, n) < 0)
		return -1;
	for (; n > 0; n--)
		if (path[n - 1] == '/' && add(l, path, n - 1) < 0)
			return -1;
	return 0;
}

/* "./a//b/" -> "a/b": one spelling per path, for the set. */
static void normalize(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const char *s = in; *s != '\0';) {
		size_t n = strcspn(s, "/");
		if (n > 0 && !(n == 1 && s[0] == '.') && o + n + 2 < size) {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s += n;
		while (*s == '/')
			s++;
	}
	out[o] = '\0';
}

/* The folder dir ("" for the root) below the working folder, reached through no link. */
static int open_beneath(const char *dir)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };

	return (int)syscall(SYS_openat2, AT_FDCWD, dir[0] ? dir : ".", &how, sizeof(how));
}

/*
 * The folder of path opened (into *fd), its last part in *base: 0; 1 when
 * the folder is not there (nothing below it to change); -1 with err when
 * it is reached through a link.
 */
static int open_parent(char *path, int *fd, const char **base, struct den_err *err)
{
	char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	if (slash)
		*slash = '\0';
	*fd = open_beneath(slash ? path : "");
	if (slash)
		*slash = '/';
	if (*fd >= 0)
		return 0;
	if (errno == ENOENT || errno == ENOTDIR)
		return 1;
	if (errno == ELOOP || errno == EXDEV)
		return den_err_set(err, 0,
				   "refused: layer member '%s' is reached through a symbolic link "
				   "of a lower layer",
				   path);
	return den_err_set(err, errno, "cannot apply layer member '%s'", path);
}

/* An opaque marker in dir: what lower layers put there goes. */
static int empty_folder(struct layer *l, const char *dir, const char *marker, struct den_err *err)
{
	cleanup_close int fd = open_beneath(dir);
	char child[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return den_err_set(err, errno == ELOOP || errno == EXDEV ? 0 : errno,
				   "cannot apply opaque marker '%s'%s", marker,
				   errno == ELOOP || errno == EXDEV
					   ? ": its folder is reached through a symbolic link"
					   : "");
	}
	d = fdopendir(dup(fd));
	if (d == NULL)
		return den_err_set(err, errno, "cannot apply opaque marker '%s'", marker);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(child, sizeof(child), "%s%s%s", dir, dir[0] ? "/" : "", e->d_name);
		if (!has(l, child))
			rc = den_rm_rf_at(fd, e->d_name, err);
	}
	closedir(d);
	return rc;
}

/* A whiteout: its target, as lower layers left it, goes. */
static int white_out(char *path, const char *name, struct den_err *err)
{
	cleanup_close int fd = -1;
	const char *base;
	int r;

	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return den_err_set(err, 0, "refused: whiteout '%s' names nothing", path);
	r = open_parent(path, &fd, &base, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	return den_rm_rf_at(fd, name, err);
}

/* A member that is not a folder, where a lower layer left a folder: the folder goes. */
static int replace_folder(char *path, struct den_err *err)
{
	cleanup_close int fd = -1;
	const char *base;
	struct stat st;
	int r = open_parent(path, &fd, &base, err);

	if (r != 0) {
		/* Through a link: libarchive's secure-symlinks check refuses it with its name. */
		den_err_clear(err);
		return 0;
	}
	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return den_rm_rf_at(fd, base, err);
	return 0;
}

int layer_entry(struct layer *l, const char *member, bool is_dir, struct den_err *err)
{
	char path[PATH_MAX];
	const char *base;

	if (strlen(member) >= sizeof(path))
		return den_err_set(err, 0, "refused: layer member name is too long");
	normalize(member, path, sizeof(path));
	if (path[0] == '\0')
		return 1;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, WHITEOUT, strlen(WHITEOUT)) == 0) {
		if (strcmp(base, OPAQUE) == 0) {
			path[base == path ? 0 : base - path - 1] = '\0';
			return empty_folder(l, path, member, err) < 0 ? -1 : 0;
		}
		/* Other ".wh..wh." names are aufs's own bookkeeping: nothing to apply. */
		if (strncmp(base, WHITEOUT WHITEOUT, 2 * strlen(WHITEOUT)) == 0)
			return 0;
		char target[PATH_MAX];
		snprintf(target, sizeof(target), "%.*s%s", (int)(base - path), path,
			 base + strlen(WHITEOUT));
		return white_out(target, base + strlen(WHITEOUT), err) < 0 ? -1 : 0;
	}
	if (add_with_parents(l, path) < 0)
		return den_err_set(err, ENOMEM, "cannot apply the layer");
	if (!is_dir && replace_folder(path, err) < 0)
		return -1;
	return 1;
}
