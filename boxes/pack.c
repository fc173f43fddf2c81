/* SPDX-License-Identifier: MIT */
#include "boxes/pack.h"
#include "boxes/pack-internal.h"
#include "core/cleanup.h"
#include "core/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (1 << 20)

static int copy_fd(struct archive *out, int fd, const char *name, struct den_err *err)
{
	static char buf[BLOCK];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return den_err_set(err, errno, "cannot read %s", name);
		if (archive_write_data(out, buf, (size_t)n) != n)
			return den_err_set(err, 0, "cannot write %s: %s", name,
					   archive_error_string(out));
	}
	return 0;
}

static struct archive *open_writer(const char *out, enum pack_filter filter, struct den_err *err)
{
	struct archive *a = archive_write_new();

	if (a == NULL) {
		den_err_set(err, ENOMEM, "cannot write %s", out);
		return NULL;
	}
	archive_write_set_format_pax_restricted(a);
	if (filter == PACK_GZIP)
		archive_write_add_filter_gzip(a);
	else if (filter == PACK_ZSTD)
		archive_write_add_filter_zstd(a);
	if (archive_write_open_filename(a, out) != ARCHIVE_OK) {
		den_err_set(err, 0, "cannot write %s: %s", out, archive_error_string(a));
		archive_write_free(a);
		return NULL;
	}
	return a;
}

/* The tree at dir into the open writer w (not closed). */
int pack_tree_into(struct archive *w, const char *dir, struct den_err *err)
{
	struct archive *disk = NULL;
	struct archive_entry *e = NULL;
	int ret = 0, cwd = -1;

	disk = archive_read_disk_new();
	e = archive_entry_new();
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (disk == NULL || e == NULL || cwd < 0) {
		ret = den_err_set(err, errno ? errno : ENOMEM, "cannot pack %s", dir);
		goto out;
	}
	/* Relative member names: walk "." from inside the tree. */
	if (chdir(dir) < 0) {
		ret = den_err_set(err, errno, "cannot pack %s", dir);
		goto out;
	}
	archive_read_disk_set_standard_lookup(disk);
	/* Dense members only: den's unpack refuses sparse ones (they hide their real size). */
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
						     ARCHIVE_READDISK_NO_SPARSE);
	if (archive_read_disk_open(disk, ".") != ARCHIVE_OK) {
		ret = den_err_set(err, 0, "cannot pack %s: %s", dir, archive_error_string(disk));
		goto out;
	}
	for (;;) {
		archive_entry_clear(e);
		int r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = den_err_set(err, 0, "cannot pack %s: %s", dir,
					  archive_error_string(disk));
			goto out;
		}
		archive_read_disk_descend(disk);
		if (archive_write_header(w, e) < ARCHIVE_WARN) {
			ret = den_err_set(err, 0, "cannot pack %s: %s", archive_entry_pathname(e),
					  archive_error_string(w));
			goto out;
		}
		if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0 &&
		    archive_entry_hardlink(e) == NULL) {
			cleanup_close int fd = open(archive_entry_sourcepath(e),
						    O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0 || copy_fd(w, fd, archive_entry_pathname(e), err) < 0) {
				ret = fd < 0 ? den_err_set(err, errno, "cannot read %s",
							   archive_entry_pathname(e))
					     : -1;
				goto out;
			}
		}
	}
out:
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && ret == 0)
			ret = den_err_set(err, errno, "cannot return to the working folder");
		close(cwd);
	}
	if (disk != NULL)
		archive_read_free(disk);
	if (e != NULL)
		archive_entry_free(e);
	return ret;
}

int pack_tree(const char *dir, const char *out, struct den_err *err)
{
	struct archive *w;
	int ret;

	if (den_archive_load(err) < 0)
		return -1;
	w = open_writer(out, PACK_NONE, err);
	if (w == NULL)
		return -1;
	ret = pack_tree_into(w, dir, err);
	if (ret == 0 && archive_write_close(w) != ARCHIVE_OK)
		ret = den_err_set(err, 0, "cannot write %s: %s", out, archive_error_string(w));
	archive_write_free(w);
	return ret;
}

static int write_box(const char *out, const char *const *files, const char *const *names, size_t n,
		     enum pack_filter filter, struct den_err *err)
{
	struct archive *w = open_writer(out, filter, err);
	struct archive_entry *e = archive_entry_new();
	int ret = 0;

	if (w == NULL || e == NULL) {
		ret = w == NULL ? -1 : den_err_set(err, ENOMEM, "cannot write %s", out);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		cleanup_close int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0) {
			ret = den_err_set(err, errno, "cannot read %s", files[i]);
			goto out;
		}
		archive_entry_clear(e);
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, st.st_size);
		archive_entry_set_mtime(e, st.st_mtime, 0);
		if (archive_write_header(w, e) < ARCHIVE_WARN ||
		    copy_fd(w, fd, names[i], err) < 0) {
			ret = den_err_is_set(err) ? -1
						  : den_err_set(err, 0, "cannot write %s: %s", out,
								archive_error_string(w));
			goto out;
		}
	}
	if (archive_write_close(w) != ARCHIVE_OK)
		ret = den_err_set(err, 0, "cannot write %s: %s", out, archive_error_string(w));
out:
	if (w != NULL)
		archive_write_free(w);
	if (e != NULL)
		archive_entry_free(e);
	return ret;
}

int pack_box(const char *out, const char *const *files, const char *const *names, size_t n,
	     enum pack_filter filter, struct den_err *err)
{
	cleanup_free char *tmp = NULL;

	if (den_archive_load(err) < 0)
		return -1;
	if (asprintf(&tmp, "%s.part", out) < 0)
		return den_err_set(err, ENOMEM, "cannot write %s", out);
	unlink(tmp);
	if (write_box(tmp, files, names, n, filter, err) < 0) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, out) < 0) {
		unlink(tmp);
		return den_err_set(err, errno, "cannot write %s", out);
	}
	return 0;
}
