/* SPDX-License-Identifier: MIT */
#include "boxes/unpack.h"
#include "boxes/layer.h"
#include "core/lazylib.h"
#include "core/fsutil.h"
#include "core/size.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (1 << 16)

int unpack_max_bytes(uint64_t *out, struct den_err *err)
{
	const char *v = getenv("DEN_BOX_MAX_SIZE"), *why = NULL;

	*out = UNPACK_DEFAULT_MAX;
	if (v == NULL || v[0] == '\0')
		return 0;
	if (den_size_parse(v, DEN_MIB, out, &why) < 0)
		return den_err_usage(err, "DEN_BOX_MAX_SIZE='%s': %s", v, why);
	return 0;
}

/* A relative path with no "..", "." or empty parts. */
static bool tame_path(const char *p)
{
	if (p == NULL || p[0] == '\0' || p[0] == '/')
		return false;
	for (const char *s = p; *s != '\0';) {
		size_t n = strcspn(s, "/");
		if ((n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

/* Does a symlink at `path` with `target` stay inside the folder? */
static bool link_stays_inside(const char *path, const char *target)
{
	int depth = 0;

	if (target == NULL || target[0] == '\0' || target[0] == '/')
		return false;
	/* Depth of the link's folder, then walk the target from there. */
	for (const char *s = path; *s != '\0';) {
		size_t n = strcspn(s, "/");
		if (s[n] == '/' && !(n == 1 && s[0] == '.'))
			depth++;
		s += n;
		while (*s == '/')
			s++;
	}
	for (const char *s = target; *s != '\0';) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			depth--;
		else if (n > 0 && !(n == 1 && s[0] == '.'))
			depth++;
		if (depth < 0)
			return false;
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

/* Checks one entry. Returns 1 to extract, 0 to skip, -1 to refuse the archive. */
static int check_entry(struct archive_entry *e, enum unpack_policy policy, struct den_err *err)
{
	const char *path = archive_entry_pathname(e);
	const char *link = archive_entry_symlink(e);
	const char *hard = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e), mode = archive_entry_mode(e);
	bool rootfs = policy == UNPACK_ROOTFS;

	/* A rootfs tar may name members "./etc/...": that is fine, ".." is not. */
	if (rootfs && path != NULL)
		while (path[0] == '.' && path[1] == '/')
			path += 2;
	if (rootfs && path != NULL && (strcmp(path, ".") == 0 || path[0] == '\0'))
		return 0;
	if (!tame_path(path))
		return den_err_set(err, 0, "refused: member '%s' has an absolute path or '..'",
				   path ? path : "");
	if (hard != NULL) {
		while (rootfs && hard[0] == '.' && hard[1] == '/')
			hard += 2;
		if (!tame_path(hard))
			return den_err_set(err, 0,
					   "refused: hard link '%s' points outside (to '%s')", path,
					   hard);
		/* A hard link to a symlink copies its target to another depth. */
		struct stat st;
		if (!rootfs && lstat(hard, &st) == 0 && S_ISLNK(st.st_mode))
			return den_err_set(err, 0, "refused: hard link '%s' is to a symlink", path);
	}
	if (archive_entry_sparse_count(e) > 0)
		return den_err_set(
			err, 0, "refused: '%s' is a sparse file (its real size is hidden)", path);
	if (type == AE_IFLNK && !rootfs && !link_stays_inside(path, link))
		return den_err_set(err, 0, "refused: symlink '%s' points outside the box (to '%s')",
				   path, link ? link : "");
	if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK) {
		if (rootfs)
			return 0;
		return den_err_set(err, 0, "refused: '%s' is a device node, FIFO or socket", path);
	}
	if (!rootfs && (mode & (S_ISUID | S_ISGID)))
		return den_err_set(err, 0, "refused: '%s' is setuid or setgid", path);
	if (rootfs && path != archive_entry_pathname(e))
		archive_entry_copy_pathname(e, path);
	if (rootfs && hard != NULL && hard != archive_entry_hardlink(e))
		archive_entry_copy_hardlink(e, hard);
	return 1;
}

static int copy_data(struct archive *in, struct archive *out, const char *name, uint64_t *total,
		     uint64_t max, struct den_err *err)
{
	const void *buf;
	size_t size;
	la_int64_t offset;

	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return den_err_set(err, 0,
					   "the archive is damaged or truncated at '%s': %s", name,
					   archive_error_string(in));
		/* Count what is really written: headers can lie about sizes. */
		*total += size;
		if (*total > max) {
			char lim[32];
			den_size_format(max, lim, sizeof(lim));
			return den_err_set(err, 0,
					   "refused: the archive unpacks to more than %s (set "
					   "DEN_BOX_MAX_SIZE to allow more)",
					   lim);
		}
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
			return den_err_set(err, 0, "cannot write '%s': %s", name,
					   archive_error_string(out));
	}
}

/*
 * Every symlink in the unpacked tree must resolve inside it, followed link
 * by link (chains like c -> . and up -> c/c/../.. fool a textual check).
 * Returns true (and err) when one escapes.
 */
static int escape_found;
static int root_fd = -1;
static struct den_err *walk_err;

static int check_link(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	(void)st;
	(void)ftw;
	if (flag != FTW_SL && flag != FTW_SLN)
		return 0;
	if (p[0] == '.' && p[1] == '/')
		p += 2;
	int fd = (int)syscall(SYS_openat2, root_fd, p, &how, sizeof(how));
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
		return 0; /* dangling or looping: nothing is reached through it */
	escape_found = 1;
	den_err_set(walk_err, 0, "refused: symlink '%s' leads outside the box", p);
	return 1;
}

static bool links_escape(const char *dir, struct den_err *err)
{
	escape_found = 0;
	walk_err = err;
	root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return false;
	nftw(dir, check_link, 32, FTW_PHYS);
	close(root_fd);
	root_fd = -1;
	return escape_found != 0;
}

/*
 * Unpacks the members of in (open) into dir; for a layer, whiteouts are
 * applied instead of unpacked (boxes/layer.h). *total counts the bytes
 * written, against max_bytes.
 */
static int unpack_entries(struct archive *in, const char *shown, const char *dir,
			  enum unpack_policy policy, struct layer *layer, uint64_t max_bytes,
			  uint64_t *used, struct den_err *err)
{
	struct archive *out = NULL;
	struct archive_entry *e;
	uint64_t total = 0, entries = 0;
	int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	int ret = 0, cwd = -1;

	out = archive_write_disk_new();
	if (out == NULL)
		return den_err_set(err, ENOMEM, "cannot unpack %s", shown);
	if (policy == UNPACK_ROOTFS)
		flags |= ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR;
	archive_write_disk_set_options(out, flags);
	/* A root file system's owners are its own ids: never the host's names for them. */
	if (policy != UNPACK_ROOTFS)
		archive_write_disk_set_standard_lookup(out);
	/* Extract relative to dir: member names are relative paths. */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir) < 0) {
		ret = den_err_set(err, errno, "cannot unpack into %s", dir);
		goto out;
	}
	for (;;) {
		int r = archive_read_next_header(in, &e);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = den_err_set(
				err, 0,
				"%s is not a box archive, or it is damaged or truncated: %s", shown,
				archive_error_string(in));
			goto out;
		}
		if (++entries > 10000000) {
			ret = den_err_set(err, 0, "refused: more than 10 million members");
			goto out;
		}
		if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
		    (uint64_t)archive_entry_size(e) > max_bytes - total) {
			char lim[32];
			den_size_format(max_bytes, lim, sizeof(lim));
			ret = den_err_set(err, 0,
					  "refused: the archive unpacks to more than %s (set "
					  "DEN_BOX_MAX_SIZE to allow more)",
					  lim);
			goto out;
		}
		r = check_entry(e, policy, err);
		if (r > 0 && layer != NULL)
			r = layer_entry(layer, archive_entry_pathname(e),
					archive_entry_filetype(e) == AE_IFDIR, err);
		if (r < 0) {
			ret = -1;
			goto out;
		}
		if (r == 0)
			continue;
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			ret = den_err_set(err, 0, "cannot unpack '%s': %s",
					  archive_entry_pathname(e), archive_error_string(out));
			goto out;
		}
		if (archive_entry_filetype(e) == AE_IFREG &&
		    copy_data(in, out, archive_entry_pathname(e), &total, max_bytes, err) < 0) {
			ret = -1;
			goto out;
		}
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			ret = den_err_set(err, 0, "cannot unpack '%s': %s",
					  archive_entry_pathname(e), archive_error_string(out));
			goto out;
		}
	}
	/*
	 * Close while still in dir: libarchive sets folders' modes and times
	 * (1777 of /tmp, for one) at close, by the members' relative names.
	 */
	if (archive_write_close(out) != ARCHIVE_OK) {
		ret = den_err_set(err, 0, "cannot unpack %s: %s", shown, archive_error_string(out));
		goto out;
	}
	if (entries == 0 && layer == NULL)
		ret = den_err_set(err, 0, "%s is empty: not a box", shown);
	else if (policy == UNPACK_BOX && links_escape(".", err))
		ret = -1;
	if (used != NULL)
		*used = total;
out:
	/* On an error too: whatever close does must happen inside dir. */
	if (cwd >= 0)
		archive_write_close(out);
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && ret == 0)
			ret = den_err_set(err, errno, "cannot return to the working folder");
		close(cwd);
	}
	archive_write_free(out);
	return ret;
}

struct archive *unpack_open(const char *path, bool zip, struct den_err *err)
{
	struct archive *in;

	if (den_archive_load(err) < 0)
		return NULL;
	in = archive_read_new();
	if (in == NULL) {
		den_err_set(err, ENOMEM, "cannot read %s", path);
		return NULL;
	}
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	if (zip)
		archive_read_support_format_zip(in);
	if (archive_read_open_filename(in, path, BLOCK) != ARCHIVE_OK) {
		den_err_set(err, 0, "%s is not a box archive, or it is damaged or truncated: %s",
			    path, archive_error_string(in));
		archive_read_free(in);
		return NULL;
	}
	return in;
}

int unpack_archive(const char *path, const char *dir, enum unpack_policy policy, uint64_t max_bytes,
		   uint64_t *used, struct den_err *err)
{
	struct archive *in = unpack_open(path, true, err);
	int ret;

	if (in == NULL)
		return -1;
	ret = unpack_entries(in, path, dir, policy, NULL, max_bytes, used, err);
	archive_read_free(in);
	return ret;
}

int unpack_layer(struct archive *in, const char *shown, const char *dir, struct layer *layer,
		 uint64_t max_bytes, uint64_t *used, struct den_err *err)
{
	return unpack_entries(in, shown, dir, UNPACK_ROOTFS, layer, max_bytes, used, err);
}

static int blob_into(struct archive *in, const char *path, int fd, uint64_t max_bytes,
		     uint64_t *total, struct den_err *err)
{
	struct archive_entry *e;
	char buf[BLOCK];
	la_ssize_t n;

	if (archive_read_next_header(in, &e) != ARCHIVE_OK)
		return den_err_set(err, 0, "cannot read %s: %s", path, archive_error_string(in));
	while ((n = archive_read_data(in, buf, sizeof(buf))) != 0) {
		if (n < 0)
			return den_err_set(err, 0, "cannot read %s: %s", path,
					   archive_error_string(in));
		if ((uint64_t)n > max_bytes - *total)
			return den_err_set(err, 0,
					   "refused: %s unpacks to more than DEN_BOX_MAX_SIZE "
					   "(%llu bytes)",
					   path, (unsigned long long)max_bytes);
		if (den_pwrite_all(fd, buf, (size_t)n, *total) < 0)
			return den_err_set(err, errno, "cannot write the box file from %s", path);
		*total += (uint64_t)n;
	}
	return 0;
}

int unpack_blob_file(const char *path, const char *out, uint64_t max_bytes, uint64_t *used,
		     struct den_err *err)
{
	struct archive *in;
	uint64_t total = 0;
	int fd, ret;

	if (den_archive_load(err) < 0)
		return -1;
	in = archive_read_new();
	if (in == NULL)
		return den_err_set(err, ENOMEM, "cannot read %s", path);
	archive_read_support_filter_all(in);
	archive_read_support_format_raw(in);
	if (archive_read_open_filename(in, path, BLOCK) != ARCHIVE_OK) {
		ret = den_err_set(err, 0, "cannot read %s: %s", path, archive_error_string(in));
		archive_read_free(in);
		return ret;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		archive_read_free(in);
		return den_err_set(err, errno, "cannot write %s", out);
	}
	ret = blob_into(in, path, fd, max_bytes, &total, err);
	if (close(fd) < 0 && ret == 0)
		ret = den_err_set(err, errno, "cannot write %s", out);
	archive_read_free(in);
	if (ret < 0)
		unlink(out);
	else if (used != NULL)
		*used = total;
	return ret;
}
