/* SPDX-License-Identifier: MIT */
/*
 * A container image into the store as a container box: the archive
 * unpacked (as a hostile box file is), the image read and checked, its
 * layers applied into rootfs/, its config kept in metadata.json.
 */
#include "boxes/image.h"
#include "boxes/unpack.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/userns.h"
#include "core/version.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PASSWD_MAX (1u << 20)

/* The path of o->ref, absolute (malloc'd), with its format and oci tag. */
static char *image_path(const struct image_add_opts *o, enum image_format *f, char **tag,
			struct den_err *err)
{
	cleanup_free char *path = NULL;
	char *abs;

	*f = image_ref_parse(o->ref, o->base_dir, &path, tag);
	if (*f == IMAGE_NONE) {
		den_err_usage(err,
			      "'%s' names no image; use oci:PATH[:TAG], oci-archive:PATH or "
			      "docker-archive:PATH",
			      o->ref);
		return NULL;
	}
	abs = realpath(path, NULL);
	if (abs == NULL)
		den_err_set(err, errno, "cannot read %s", path);
	return abs;
}

/* The box's name: asked, or the image's repository's last two parts ("localhost/app"). */
static char *box_name(const struct image_add_opts *o, const struct image *img, struct den_err *err)
{
	char name[256] = "";

	if (o->name != NULL)
		snprintf(name, sizeof(name), "%s", o->name);
	else if (img->reference != NULL && strchr(img->reference, '/') != NULL) {
		char repo[256];
		snprintf(repo, sizeof(repo), "%s", img->reference);
		repo[strcspn(repo, "@")] = '\0';
		char *colon = strrchr(repo, ':');
		if (colon != NULL && strchr(colon, '/') == NULL)
			*colon = '\0';
		char *last = strrchr(repo, '/'), *org = last;
		while (org > repo && org[-1] != '/')
			org--;
		if (last != NULL)
			snprintf(name, sizeof(name), "%s", org);
	}
	if (name[0] == '\0' || !box_name_valid(name)) {
		den_err_usage(err,
			      "name the box: den box add %s --name ORG/NAME (the image's own "
			      "name, %s, is not one)",
			      o->ref, img->reference ? img->reference : "none");
		return NULL;
	}
	return strdup(name);
}

/* The box's version: asked; else the image's tag when it is a version; else 0. */
static char *box_version(const struct image_add_opts *o, const struct image *img,
			 struct den_err *err)
{
	struct den_version v;
	struct den_constraints c;
	const char *why, *version = image_tag_version(img->reference);

	if (o->version != NULL) {
		if (den_version_parse(o->version, &v, &why) < 0) {
			den_err_usage(
				err, "--box-version for an image is its version, such as 1.0.0: %s",
				why);
			return NULL;
		}
		version = o->version;
	}
	if (o->constraint != NULL) {
		if (den_constraints_parse(o->constraint, &c, &why) < 0) {
			den_err_set(err, 0, "box_version '%s' is not a constraint: %s",
				    o->constraint, why);
			return NULL;
		}
		den_version_parse(version, &v, &why);
		if (!den_constraints_match(&c, &v)) {
			den_err_set(err, 0,
				    "the image %s is version %s (its tag), which box_version '%s' "
				    "does not allow",
				    o->ref, version, o->constraint);
			return NULL;
		}
	}
	return strdup(version);
}

/* A file of the root file system (its links resolved inside it), or -1. */
static int open_in_root(const char *root, const char *file)
{
	cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

	return fd < 0 ? -1 : (int)syscall(SYS_openat2, fd, file, &how, sizeof(how));
}

/* Whom den logs in as: den when the image has that user (den's own boxes), else root. */
static const char *login_user(const char *root)
{
	cleanup_close int fd = open_in_root(root, "etc/passwd");
	cleanup_free char *text = NULL;
	struct den_err ignored = { 0 };
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    den_read_fd(fd, "/etc/passwd", PASSWD_MAX, &text, NULL, &ignored) < 0)
		return "root";
	for (const char *l = text; l != NULL && *l != '\0'; l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (strncmp(l, "den:", 4) == 0)
			return "den";
	return "root";
}

/* Does the image have sshd, which den starts as a container's main process? */
static bool has_sshd(const char *root)
{
	cleanup_close int fd = open_in_root(root, "usr/sbin/sshd");
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* The parts of the image's config a machine can use, as the image says them. */
static json_t *kept_config(const struct image *img)
{
	static const char *const keys[] = { "Env",	  "WorkingDir",	  "User",   "Cmd",
					    "Entrypoint", "ExposedPorts", "Labels", "StopSignal" };
	json_t *from = json_object_get(img->config, "config"), *kept = json_object();

	/* An LXD image's config is its metadata.yaml's properties. */
	if (json_object_get(img->config, "properties") != NULL) {
		json_decref(kept);
		return json_deep_copy(img->config);
	}

	for (size_t i = 0; kept && i < sizeof(keys) / sizeof(*keys); i++) {
		json_t *v = json_object_get(from, keys[i]);
		if (v != NULL && !json_is_null(v))
			json_object_set(kept, keys[i], v);
	}
	return kept;
}

static int write_metadata(const char *dir, const struct box_id *id, enum image_format f,
			  const struct image *img, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL, *root = NULL;
	json_t *j;

	if (asprintf(&root, "%s/rootfs", dir) < 0)
		return den_err_set(err, ENOMEM, "box %s", id->name);
	/* No sshd: den serves SSH itself, as root (providers/container/sshd.h). */
	bool sshd = has_sshd(root);
	j = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s*, s:s, "
		      "s:s*, s:o}}}",
		      "provider", "container", "format", "rootfs", "architecture", id->arch, "den",
		      "name", id->name, "version", id->version, "init", "den", "ssh_user",
		      sshd ? login_user(root) : "root", "ssh", sshd ? "sshd" : "den", "image",
		      "format", image_format_name(f), "reference", img->reference, "id", img->id,
		      "manifest", img->manifest, "config", kept_config(img));

	if (j == NULL || asprintf(&path, "%s/metadata.json", dir) < 0 ||
	    (text = json_dumps(j, JSON_INDENT(2))) == NULL) {
		json_decref(j);
		return den_err_set(err, ENOMEM, "box %s", id->name);
	}
	json_decref(j);
	return den_write_file_atomic(path, text, 0644, err);
}

struct rootfs_job {
	int dirfd;
	const struct image *img;
	const char *dir, *root;
	uint64_t max;
};

static int rootfs_job(void *arg, struct den_err *err)
{
	const struct rootfs_job *j = arg;

	if (j->img->lxd_unified != NULL || j->img->lxd_rootfs != NULL)
		return lxd_unpack_rootfs(j->img, j->dir, j->max, err);
	if (mkdir(j->root, 0755) < 0)
		return den_err_set(err, errno, "cannot make %s", j->root);
	return image_apply_layers(j->dirfd, j->img, j->root, j->max, NULL, err);
}

/*
 * The root file system: made as the user's namespace's root when den is
 * not root, so files keep their owners (core/userns.h), as rootfs.tar's.
 */
static int make_rootfs(int dirfd, const struct image *img, const char *dir, uint64_t max,
		       struct den_err *err)
{
	cleanup_free char *root = NULL;
	struct rootfs_job job = { dirfd, img, dir, NULL, max };
	struct userns_map m;

	if (asprintf(&root, "%s/rootfs", dir) < 0)
		return den_err_set(err, ENOMEM, "cannot make the root file system");
	job.root = root;
	if (img->n_layers > 0)
		den_info("applying %zu layer%s of %s", img->n_layers, img->n_layers == 1 ? "" : "s",
			 img->reference ? img->reference : img->id);
	else
		den_info("unpacking the root file system of %s",
			 img->reference ? img->reference : img->id);
	if (userns_rootless())
		return userns_map_for_user(&m, err) < 0 || userns_run(&m, rootfs_job, &job, err) < 0
			       ? -1
			       : 0;
	return rootfs_job(&job, err);
}

/* The image's folder: a layout as it is, an archive unpacked (as a hostile box file) into src. */
static int open_image_dir(const char *home, enum image_format f, const char *path, uint64_t max,
			  uint64_t *used, char **src, struct den_err *err)
{
	int fd;

	if (f == IMAGE_OCI) {
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd < 0 ? den_err_set(err, errno, "cannot read %s", path) : fd;
	}
	*src = store_tmp_dir(home, "image", err);
	if (*src == NULL)
		return -1;
	if (unpack_archive(path, *src, UNPACK_BOX, max, used, err) < 0)
		return -1;
	fd = open(*src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? den_err_set(err, errno, "cannot read %s", *src) : fd;
}

/* The box is already stored from this image: 1 (*out filled); another image: refused. */
static int already_stored(const char *home, const struct box_id *id, const struct image *img,
			  struct store_entry *out, struct den_err *err)
{
	int have = store_find(home, id, out, err);

	if (have <= 0)
		return have;
	if (out->checksum != NULL && strcasecmp(out->checksum, img->id + 7) == 0)
		return 1;
	store_entry_free(out);
	return den_err_set(err, 0,
			   "box %s %s in the store was made from another image; give this one "
			   "another version (--box-version), or replace it with --force",
			   id->name, id->version);
}

int image_add(const char *home, const struct image_add_opts *o, struct store_entry *out,
	      struct den_err *err)
{
	cleanup_free char *path = NULL, *tag = NULL, *src = NULL, *tmp = NULL, *name = NULL,
			  *version = NULL, *url = NULL;
	cleanup_close int dirfd = -1, lock = -1;
	struct den_err ignored = { 0 };
	struct image img = { 0 };
	enum image_format f, found;
	uint64_t max, used = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	path = image_path(o, &f, &tag, err);
	if (path == NULL || unpack_max_bytes(&max, err) < 0)
		return -1;
	/* An LXD image is a file or a folder of two: image_lxd_open says what is wrong with it. */
	found = f == IMAGE_LXD ? f : image_sniff(path);
	if (found != f)
		return den_err_set(err, 0, "%s is not an image in %s form (%s%s)", path,
				   image_format_name(f),
				   found == IMAGE_NONE ? "it holds no image den reads"
						       : "it is in the form of ",
				   found == IMAGE_NONE ? "" : image_format_name(found));
	if (f == IMAGE_LXD ? image_lxd_open(path, &img, err) < 0
			   : (dirfd = open_image_dir(home, f, path, max, &used, &src, err)) < 0 ||
				     image_open(dirfd, f, tag, &img, err) < 0)
		goto out;
	name = box_name(o, &img, err);
	version = name ? box_version(o, &img, err) : NULL;
	if (version == NULL)
		goto out;
	if (o->checksum != NULL && strcasecmp(o->checksum, img.id + 7) != 0) {
		den_err_set(err, 0,
			    "image %s is %s, but sha256:%s was expected (Envfile.lock); nothing "
			    "was added",
			    o->ref, img.id, o->checksum);
		goto out;
	}
	struct box_id id = { name, version, "container", "amd64" };
	if (store_lock(home, name, &lock, err) < 0)
		goto out;
	if (!o->force && (rc = already_stored(home, &id, &img, out, err)) != 0)
		goto out;
	rc = -1;
	tmp = store_tmp_dir(home, "add", err);
	if (tmp == NULL || make_rootfs(dirfd, &img, tmp, max - used, err) < 0 ||
	    write_metadata(tmp, &id, f, &img, err) < 0)
		goto out;
	if (o->origin != NULL ? (url = strdup(o->origin)) == NULL
			      : asprintf(&url, "%s:%s%s%s", image_format_name(f), path,
					 tag ? ":" : "", tag ? tag : "") < 0) {
		den_err_set(err, ENOMEM, "box %s", name);
		goto out;
	}
	struct box_origin origin = { url, img.id + 7, "sha256" };
	/* store_install_dir takes the folder, and removes it when it fails. */
	rc = store_install_dir(home, &id, tmp, &origin, o->force, out, err);
	free(steal_pointer(&tmp));
out:
	if (tmp != NULL)
		userns_rm_rf(tmp, &ignored);
	if (src != NULL)
		userns_rm_rf(src, &ignored);
	image_free(&img);
	return rc < 0 ? den_err_wrap(err, "image %s", o->origin ? o->origin : o->ref) : rc;
}
