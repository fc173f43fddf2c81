/* SPDX-License-Identifier: MIT */
/*
 * A den container box as an LXD image: LXD's "unified" tarball, a
 * metadata.yaml and the root under rootfs/ (LXD's docs, "Image format").
 *
 * The bytes are the same for the same box wherever it is unpacked:
 * members in name order, owners as numbers with no names, modification
 * times only, hard links as links to the first name. LXD names an image by
 * the sha256 of its tarball, so a box uploaded from two hosts (a team on
 * one LXD cluster) is one image there.
 *
 * The walk goes by descriptors below the box's rootfs (openat with
 * O_NOFOLLOW), so nothing outside it is read, whatever its links say.
 */
#include "providers/lxd/lxd-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_DEPTH 256
#define XATTR_LIST_MAX_BYTES 65536

/* Inodes with more than one name, for hard links: ino -> first member name. */
struct links {
	struct link {
		dev_t dev;
		ino_t ino;
		char *name;
	} * slot;
	size_t cap, used;
};

struct tar {
	struct archive *a;
	struct archive_entry *e;
	struct links links;
	const char *box_dir;
	int (*write)(void *arg, const void *buf, size_t len);
	void *arg;
	struct den_err *err;
	char buf[1 << 17];
};

static la_ssize_t on_write(struct archive *a, void *p, const void *buf, size_t len)
{
	struct tar *t = p;

	(void)a;
	return t->write(t->arg, buf, len) < 0 ? -1 : (la_ssize_t)len;
}

static struct link *link_find(struct links *l, dev_t dev, ino_t ino)
{
	if (l->cap == 0)
		return NULL;
	for (size_t i = (size_t)(ino * 2654435761u) % l->cap;; i = (i + 1) % l->cap) {
		struct link *s = &l->slot[i];
		if (s->name == NULL || (s->dev == dev && s->ino == ino))
			return s;
	}
}

/* The name ino was first written under, or NULL after recording name for it. */
static int link_first(struct links *l, const struct stat *st, const char *name, const char **first)
{
	*first = NULL;
	if (l->used * 2 >= l->cap) {
		struct links bigger = { calloc(l->cap ? l->cap * 2 : 256, sizeof(struct link)),
					l->cap ? l->cap * 2 : 256, 0 };
		if (bigger.slot == NULL)
			return -1;
		for (size_t i = 0; i < l->cap; i++)
			if (l->slot[i].name != NULL) {
				*link_find(&bigger, l->slot[i].dev, l->slot[i].ino) = l->slot[i];
				bigger.used++;
			}
		free(l->slot);
		*l = bigger;
	}
	struct link *s = link_find(l, st->st_dev, st->st_ino);
	if (s->name != NULL) {
		*first = s->name;
		return 0;
	}
	s->name = strdup(name);
	if (s->name == NULL)
		return -1;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	l->used++;
	return 0;
}

static void links_free(struct links *l)
{
	for (size_t i = 0; i < l->cap; i++)
		free(l->slot[i].name);
	free(l->slot);
}

static int fail(struct tar *t, const char *what, const char *name)
{
	if (den_err_is_set(t->err))
		return -1;
	return den_err_set(t->err, 0, "cannot make the LXD image of %s: %s %s: %s", t->box_dir,
			   what, name, archive_error_string(t->a));
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Extended attributes but trusted.* (the host's, and only root's), sorted by name. */
static void add_xattrs(struct tar *t, int fd)
{
	char names[XATTR_LIST_MAX_BYTES], value[XATTR_LIST_MAX_BYTES];
	ssize_t n = flistxattr(fd, names, sizeof(names));
	const char *sorted[256];
	size_t k = 0;

	for (ssize_t off = 0; n > 0 && off < n && k < 256; off += (ssize_t)strlen(names + off) + 1)
		if (strncmp(names + off, "trusted.", 8) != 0)
			sorted[k++] = names + off;
	if (k > 1)
		qsort(sorted, k, sizeof(sorted[0]), compare_names);
	for (size_t i = 0; i < k; i++) {
		ssize_t len = fgetxattr(fd, sorted[i], value, sizeof(value));
		if (len >= 0)
			archive_entry_xattr_add_entry(t->e, sorted[i], value, (size_t)len);
	}
}

static int copy_file(struct tar *t, int fd, const char *name)
{
	for (;;) {
		ssize_t n = read(fd, t->buf, sizeof(t->buf));
		if (n == 0)
			return 0;
		if (n < 0)
			return den_err_set(t->err, errno, "cannot read %s/%s", t->box_dir, name);
		if (archive_write_data(t->a, t->buf, (size_t)n) != n)
			return fail(t, "writing", name);
	}
}

static int walk(struct tar *t, int dirfd, const char *prefix, int depth);

/* One member: name (under rootfs/), the file at dirfd/base. */
static int member(struct tar *t, int dirfd, const char *base, const char *name, int depth)
{
	struct stat st;
	char target[4096];
	const char *first = NULL;
	cleanup_close int fd = -1;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return den_err_set(t->err, errno, "cannot read %s/%s", t->box_dir, name);
	if (S_ISSOCK(st.st_mode))
		return 0; /* a socket is made by a program that listens, not kept in an image */
	archive_entry_clear(t->e);
	archive_entry_set_pathname(t->e, name);
	archive_entry_set_uid(t->e, st.st_uid);
	archive_entry_set_gid(t->e, st.st_gid);
	archive_entry_set_perm(t->e, st.st_mode & 07777);
	archive_entry_set_mtime(t->e, st.st_mtime, 0);
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		if (link_first(&t->links, &st, name, &first) < 0)
			return den_err_set(t->err, ENOMEM, "LXD image");
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, base,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
				    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0)
			return den_err_set(t->err, errno, "cannot read %s/%s", t->box_dir, name);
		add_xattrs(t, fd);
	}
	if (first != NULL) {
		archive_entry_set_filetype(t->e, AE_IFREG);
		archive_entry_copy_hardlink(t->e, first);
		archive_entry_set_size(t->e, 0);
	} else if (S_ISREG(st.st_mode)) {
		archive_entry_set_filetype(t->e, AE_IFREG);
		archive_entry_set_size(t->e, st.st_size);
	} else if (S_ISDIR(st.st_mode)) {
		archive_entry_set_filetype(t->e, AE_IFDIR);
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dirfd, base, target, sizeof(target) - 1);
		if (n < 0)
			return den_err_set(t->err, errno, "cannot read %s/%s", t->box_dir, name);
		target[n] = '\0';
		archive_entry_set_filetype(t->e, AE_IFLNK);
		archive_entry_copy_symlink(t->e, target);
	} else {
		archive_entry_set_filetype(t->e, S_ISCHR(st.st_mode)   ? AE_IFCHR
						 : S_ISBLK(st.st_mode) ? AE_IFBLK
								       : AE_IFIFO);
		archive_entry_set_rdev(t->e, st.st_rdev);
	}
	if (archive_write_header(t->a, t->e) < ARCHIVE_WARN)
		return fail(t, "writing", name);
	if (first == NULL && S_ISREG(st.st_mode) && copy_file(t, fd, name) < 0)
		return -1;
	if (S_ISDIR(st.st_mode))
		return walk(t, fd, name, depth + 1);
	return 0;
}

/* The folder at dirfd, named prefix, its entries in name order. */
static int walk(struct tar *t, int dirfd, const char *prefix, int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (depth > MAX_DEPTH)
		return den_err_set(t->err, 0, "%s/%s: folders nested too deep", t->box_dir, prefix);
	int fd = dup(dirfd);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return den_err_set(t->err, errno, "cannot read %s/%s", t->box_dir, prefix);
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **b = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
			if (b == NULL) {
				rc = den_err_set(t->err, ENOMEM, "LXD image");
				break;
			}
			names = b;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			rc = den_err_set(t->err, ENOMEM, "LXD image");
		else
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), compare_names);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		cleanup_free char *name = NULL;
		if (asprintf(&name, "%s/%s", prefix, names[i]) < 0)
			rc = den_err_set(t->err, ENOMEM, "LXD image");
		else
			rc = member(t, dirfd, names[i], name, depth);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/*
 * metadata.yaml as JSON, which is YAML too: the architecture LXD checks,
 * the box's time (its metadata.json's), and what `lxc image list` shows.
 */
static int write_metadata(struct tar *t, const char *box, const char *version, time_t when)
{
	json_t *j = json_pack("{s:s, s:I, s:{s:s, s:s, s:s}}", "architecture", "x86_64",
			      "creation_date", (json_int_t)when, "properties", "description", box,
			      "den.box", box, "den.version", version);
	char *text = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
	int rc = 0;

	json_decref(j);
	if (text == NULL)
		return den_err_set(t->err, ENOMEM, "LXD image");
	archive_entry_clear(t->e);
	archive_entry_set_pathname(t->e, "metadata.yaml");
	archive_entry_set_filetype(t->e, AE_IFREG);
	archive_entry_set_perm(t->e, 0644);
	archive_entry_set_mtime(t->e, when, 0);
	archive_entry_set_size(t->e, (la_int64_t)strlen(text));
	if (archive_write_header(t->a, t->e) < ARCHIVE_WARN ||
	    archive_write_data(t->a, text, strlen(text)) != (la_ssize_t)strlen(text))
		rc = fail(t, "writing", "metadata.yaml");
	free(text);
	return rc;
}

int lxd_tarball_write(const char *box_dir, const char *box, const char *version,
		      int (*write)(void *arg, const void *buf, size_t len), void *arg,
		      struct den_err *err)
{
	struct tar t = { .box_dir = box_dir, .write = write, .arg = arg, .err = err };
	cleanup_free char *rootfs = NULL, *meta = NULL;
	cleanup_close int fd = -1;
	struct stat st, mst;
	int rc;

	if (den_archive_load(err) < 0)
		return -1;
	if (asprintf(&rootfs, "%s/rootfs", box_dir) < 0 ||
	    asprintf(&meta, "%s/metadata.json", box_dir) < 0)
		return den_err_set(err, ENOMEM, "LXD image");
	fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot read the box's root %s", rootfs);
	if (stat(meta, &mst) < 0)
		mst.st_mtime = 0;
	t.a = archive_write_new();
	t.e = archive_entry_new();
	if (t.a == NULL || t.e == NULL) {
		rc = den_err_set(err, ENOMEM, "LXD image");
		goto out;
	}
	archive_write_set_format_pax_restricted(t.a);
	if (archive_write_open(t.a, &t, NULL, on_write, NULL) != ARCHIVE_OK) {
		rc = fail(&t, "starting", "the tarball");
		goto out;
	}
	rc = write_metadata(&t, box, version, mst.st_mtime);
	if (rc == 0) {
		/* rootfs/ itself, then what is in it. */
		archive_entry_clear(t.e);
		archive_entry_set_pathname(t.e, "rootfs");
		archive_entry_set_filetype(t.e, AE_IFDIR);
		archive_entry_set_perm(t.e, st.st_mode & 07777);
		archive_entry_set_uid(t.e, st.st_uid);
		archive_entry_set_gid(t.e, st.st_gid);
		archive_entry_set_mtime(t.e, st.st_mtime, 0);
		rc = archive_write_header(t.a, t.e) < ARCHIVE_WARN ? fail(&t, "writing", "rootfs")
								   : walk(&t, fd, "rootfs", 0);
	}
	if (rc == 0 && archive_write_close(t.a) != ARCHIVE_OK)
		rc = fail(&t, "ending", "the tarball");
out:
	if (t.a != NULL)
		archive_write_free(t.a);
	if (t.e != NULL)
		archive_entry_free(t.e);
	links_free(&t.links);
	return rc;
}
