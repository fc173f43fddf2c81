/* SPDX-License-Identifier: MIT */
#include "boxes/build-internal.h"
#include "boxes/build.h"
#include "boxes/catalog.h"
#include "boxes/pack.h"
#include "boxes/recipe.h"
#include "boxes/store.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/spawn.h"

#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

/* Runs argv with output to log; returns its exit status or -1. */
static int run_logged(char *const argv[], const char *log, struct den_err *err)
{
	cleanup_close int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	/*
	 * debootstrap mounts /proc and /sys in the new root: in a mount
	 * namespace of its own they go with it, even when den is killed.
	 */
	struct den_spawn sp = { .argv = (const char *const *)argv,
				.in = DEN_SPAWN_NULL,
				.out = fd,
				.err_fd = fd,
				.mount_ns = true,
				.death_signal = SIGKILL };
	pid_t pid;
	int status;

	if (fd < 0)
		return den_err_set(err, errno, "cannot open %s", log);
	if (den_spawn_start(&sp, &pid, err) < 0 || den_spawn_wait(pid, &status, err) < 0)
		return -1;
	return den_spawn_exit_code(status);
}

int build_step(char *const argv[], const char *log, const char *what, struct den_err *err)
{
	char tail[1024];
	int rc = run_logged(argv, log, err);

	if (rc < 0)
		return -1;
	if (rc != 0) {
		den_read_tail(log, 6, tail, sizeof(tail));
		return den_err_set(err, 0, "%s failed (exit %d); the end of %s:\n%s", what, rc, log,
				   tail);
	}
	return 0;
}

int build_debootstrap(const struct recipe *r, const char *const *extra, const char *root,
		      const char *log, struct den_err *err)
{
	char variant[64], include[4096] = "--include=";
	size_t o = strlen(include), n = 0;

	snprintf(variant, sizeof(variant), "--variant=%s", r->variant);
	for (size_t i = 0; i < r->n_packages; i++, n++) {
		o += (size_t)snprintf(include + o, sizeof(include) - o, "%s%s", n ? "," : "",
				      r->packages[i]);
		if (o >= sizeof(include))
			return den_err_set(err, 0, "recipe %s: too many packages", r->id);
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++, n++) {
		o += (size_t)snprintf(include + o, sizeof(include) - o, "%s%s", n ? "," : "",
				      extra[i]);
		if (o >= sizeof(include))
			return den_err_set(err, 0, "recipe %s: too many packages", r->id);
	}
	char *argv[] = { "debootstrap", variant,	   include, (char *)r->suite,
			 (char *)root,	(char *)r->mirror, NULL };
	return build_step(argv, log, "debootstrap", err);
}

int build_write_in(const char *root, const char *rel, const char *text, mode_t mode,
		   struct den_err *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/%s", root, rel) < 0)
		return den_err_set(err, ENOMEM, "cannot configure the box");
	return den_write_file_atomic(path, text, mode, err);
}

/* Users, sudo, host name; no host keys (den makes them per machine); no caches. */
int build_configure(const struct recipe *r, const char *root, const char *log, struct den_err *err)
{
	glob_t g;
	char pattern[4096];

	for (size_t i = 0; i < r->n_users; i++) {
		const struct recipe_user *u = &r->users[i];
		char *argv[] = { "chroot", (char *)root,     "useradd",	      "-m", "-U",
				 "-s",	   (char *)u->shell, (char *)u->name, NULL };
		char rel[256], line[256];

		if (build_step(argv, log, "useradd", err) < 0)
			return -1;
		/*
		 * No password, but not "locked" either: sshd without PAM (as in a
		 * container, where pam_loginuid cannot work) refuses locked accounts
		 * even for key logins.
		 */
		char *pw[] = {
			"chroot", (char *)root, "usermod", "-p", "*", (char *)u->name, NULL
		};
		if (build_step(pw, log, "usermod", err) < 0)
			return -1;
		if (!u->sudo)
			continue;
		snprintf(rel, sizeof(rel), "etc/sudoers.d/%s", u->name);
		snprintf(line, sizeof(line), "%s ALL=(ALL) NOPASSWD:ALL\n", u->name);
		if (build_write_in(root, rel, line, 0440, err) < 0)
			return -1;
	}
	if (build_write_in(root, "etc/hostname", "den\n", 0644, err) < 0 ||
	    build_write_in(root, "etc/hosts", "127.0.0.1 localhost\n127.0.1.1 den\n::1 localhost\n",
			   0644, err) < 0 ||
	    build_write_in(root, "etc/machine-id", "", 0444, err) < 0)
		return -1;
	snprintf(pattern, sizeof(pattern), "%s/etc/ssh/ssh_host_*", root);
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
	const char *caches[] = { "var/cache/apt/archives", "var/lib/apt/lists" };
	for (size_t c = 0; c < 2; c++) {
		snprintf(pattern, sizeof(pattern), "%s/%s/*", root, caches[c]);
		if (glob(pattern, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++) {
				struct den_err ignored = { 0 };
				if (strstr(g.gl_pathv[i], "/partial") == NULL &&
				    strstr(g.gl_pathv[i], "/lock") == NULL)
					den_rm_rf(g.gl_pathv[i], &ignored);
			}
			globfree(&g);
		}
	}
	return 0;
}

json_t *build_den_metadata(const struct recipe *r, const char *init)
{
	return json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:I}", "name", r->name, "version",
			 r->version, "description", r->description, "ssh_user",
			 r->n_users ? r->users[0].name : "root", "init", init, "suite", r->suite,
			 "recipe_hash", r->hash, "built", (json_int_t)time(NULL));
}

int build_write_json(json_t *j, const char *path, struct den_err *err)
{
	cleanup_free char *text = NULL;

	if (j == NULL || (text = json_dumps(j, JSON_INDENT(2))) == NULL) {
		json_decref(j);
		return den_err_set(err, ENOMEM, "cannot write %s", path);
	}
	json_decref(j);
	return den_write_file_atomic(path, text, 0644, err);
}

static int write_metadata(const struct recipe *r, const char *path, struct den_err *err)
{
	return build_write_json(json_pack("{s:s, s:s, s:s, s:o}", "provider", "container", "format",
					  "rootfs", "architecture", box_host_arch(), "den",
					  build_den_metadata(r, r->init)),
				path, err);
}

/* Copies src to dst through a temporary name, so dst is whole or absent. */
static int copy_file(const char *src, const char *dst, struct den_err *err)
{
	cleanup_free char *tmp = NULL;
	cleanup_close int in = -1, out = -1;
	char buf[1 << 16];
	ssize_t n;

	if (asprintf(&tmp, "%s.part", dst) < 0)
		return den_err_set(err, ENOMEM, "cannot write %s", dst);
	unlink(tmp);
	/* On one file system a hard link does it without copying. */
	if (link(src, tmp) < 0) {
		in = open(src, O_RDONLY | O_CLOEXEC);
		if (in < 0)
			return den_err_set(err, errno, "cannot read %s", src);
		out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0)
			return den_err_set(err, errno, "cannot write %s", tmp);
		while ((n = read(in, buf, sizeof(buf))) > 0) {
			if (write(out, buf, (size_t)n) != n) {
				unlink(tmp);
				return den_err_set(err, errno, "cannot write %s", tmp);
			}
		}
		if (n < 0 || fsync(out) < 0) {
			unlink(tmp);
			return den_err_set(err, errno, "cannot copy %s", src);
		}
	}
	if (rename(tmp, dst) < 0) {
		unlink(tmp);
		return den_err_set(err, errno, "cannot write %s", dst);
	}
	return 0;
}

static int make_container_box(const struct recipe *r, const char *work, const char *out,
			      struct den_err *err)
{
	cleanup_free char *root = NULL, *log = NULL, *tar = NULL, *meta = NULL;
	struct stat st;

	if (asprintf(&root, "%s/rootfs", work) < 0 || asprintf(&log, "%s/build.log", work) < 0 ||
	    asprintf(&tar, "%s/rootfs.tar", work) < 0 ||
	    asprintf(&meta, "%s/metadata.json", work) < 0)
		return den_err_set(err, ENOMEM, "cannot build %s", r->name);
	den_info("[1/4] debootstrap %s into a new root (a minute or two)", r->suite);
	if (build_debootstrap(r, NULL, root, log, err) < 0)
		return -1;
	den_info("[2/4] configuring: users, sudo, sshd");
	if (build_configure(r, root, log, err) < 0 || build_drop_raw_caps(root, err) < 0)
		return -1;
	den_info("[3/4] packing the root file system");
	if (pack_tree(root, tar, err) < 0 || write_metadata(r, meta, err) < 0)
		return -1;
	if (stat(tar, &st) == 0)
		den_verbose("rootfs.tar: %lld MiB", (long long)(st.st_size >> 20));
	den_info("[4/4] writing the box file");
	const char *files[] = { meta, tar }, *names[] = { "metadata.json", "rootfs.tar" };
	return pack_box(out, files, names, 2, PACK_ZSTD, err);
}

static int lock_cache(const char *dir, const struct recipe *r, int *fd, struct den_err *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/.lock", dir) < 0)
		return den_err_set(err, ENOMEM, "cannot build %s", r->name);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return den_err_set(err, errno, "cannot open %s", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	den_info("waiting for another den building %s %s...", r->name, r->version);
	while (flock(*fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return den_err_set(err, errno, "cannot lock %s", path);
	return 0;
}

int box_build(const char *home, const struct build_opts *o, char **path, struct den_err *err)
{
	struct recipe r;
	cleanup_free char *file = NULL, *out = NULL, *cache_dir = NULL, *cached = NULL;
	cleanup_free char *work = NULL;
	cleanup_close int lock = -1;
	struct den_err ignored = { 0 };
	int rc = -1;

	if (recipe_load(o->recipe, &r, err) < 0)
		return -1;
	const char *kind = o->output_kind ? o->output_kind : "container";
	bool vm = strcmp(kind, "qemu") == 0;
	bool listed = vm ? r.out_qemu : strcmp(kind, "container") == 0 && r.out_container;
	if (!listed) {
		den_err_set(err, 0,
			    strcmp(kind, "kvm") == 0
				    ? "recipe %s: the kvm output is not in this version; "
				      "den's VMM boots the qemu output's kernel (--provider qemu)"
				    : "recipe %s has no %s output (its outputs: line)",
			    r.id, kind);
		goto out;
	}
	/* A VM box is a Vagrant libvirt box: provider "libvirt", box.img in qcow2. */
	const char *box_provider = vm ? "libvirt" : "container";
	if (asprintf(&file, "%s-%s-%s-%s.box", r.name, r.version, box_provider, box_host_arch()) <
	    0) {
		den_err_set(err, ENOMEM, "cannot build %s", r.name);
		goto out;
	}
	for (char *p = file; *p != '\0'; p++)
		if (*p == '/')
			*p = '-'; /* den/debian-12 -> den-debian-12-... */
	if (asprintf(&cache_dir, "%s/%.16s", o->cache, r.hash) < 0 ||
	    asprintf(&cached, "%s/%s", cache_dir, file) < 0) {
		den_err_set(err, ENOMEM, "cannot build %s", r.name);
		goto out;
	}
	if ((o->output != NULL && den_mkdir_p(o->output, 0755, err) < 0) ||
	    den_mkdir_p(cache_dir, 0755, err) < 0)
		goto out;
	/* One build per recipe at a time: a second den waits, then takes the cache. */
	if (lock_cache(cache_dir, &r, &lock, err) < 0)
		goto out;
	if (!o->no_cache && den_exists(cached)) {
		den_info("%s %s: the recipe is unchanged (hash %.12s); using the cached build",
			 r.name, r.version, r.hash);
		if (o->output == NULL) {
			*path = steal_pointer(&cached);
			rc = 0;
			goto out;
		}
		if (asprintf(&out, "%s/%s", o->output, file) < 0) {
			den_err_set(err, ENOMEM, "cannot build %s", r.name);
			goto out;
		}
		if (copy_file(cached, out, err) < 0)
			goto out;
		*path = steal_pointer(&out);
		rc = 0;
		goto out;
	}
	if (geteuid() != 0) {
		den_err_set(err, 0,
			    "building a box runs debootstrap, which needs root: run `sudo "
			    "den box build %s`",
			    o->recipe);
		goto out;
	}
	work = store_tmp_dir(home, "build", err);
	if (work == NULL)
		goto out;
	/* No output folder: the box file is the cache's (written whole, then copied in). */
	if (asprintf(&out, "%s/%s", o->output ? o->output : work, file) < 0) {
		den_err_set(err, ENOMEM, "cannot build %s", r.name);
		goto out;
	}
	den_info("building %s %s from recipe %s", r.name, r.version, r.id);
	if ((vm ? make_vm_box(&r, work, out, err) : make_container_box(&r, work, out, err)) < 0)
		goto out;
	if (den_mkdir_p(cache_dir, 0755, err) < 0 || copy_file(out, cached, err) < 0)
		goto out;
	den_info("built %s", o->output ? out : cached);
	*path = o->output ? steal_pointer(&out) : steal_pointer(&cached);
	rc = 0;
out:
	if (work != NULL)
		den_rm_rf(work, &ignored);
	recipe_free(&r);
	return rc;
}
