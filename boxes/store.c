/* SPDX-License-Identifier: MIT */
#include "boxes/store.h"
#include "boxes/unpack.h"
#include "boxes/vm_import.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/userns.h"
#include "core/version.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define META_MAX (1 << 20)

static bool name_part(const char *s, size_t n)
{
	if (n == 0 || n > 100 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

bool box_part_valid(const char *s)
{
	return s != NULL && name_part(s, strlen(s));
}

bool box_name_valid(const char *name)
{
	const char *slash = strchr(name, '/');

	if (slash == NULL)
		return name_part(name, strlen(name));
	return name_part(name, (size_t)(slash - name)) && name_part(slash + 1, strlen(slash + 1));
}

/* ORG/NAME as folders; a name without an org goes under "_". */
static char *name_dir(const char *home, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/boxes/%s%s", home, strchr(name, '/') ? "" : "_/", name) < 0)
		return NULL;
	return p;
}

char *store_box_dir(const char *home, const struct box_id *id)
{
	cleanup_free char *base = name_dir(home, id->name);
	char *p = NULL;

	/* Each part becomes one folder name: none may hold a '/' or start with '.'. */
	if (base == NULL || !box_part_valid(id->version) || !box_part_valid(id->provider) ||
	    !box_part_valid(id->arch) ||
	    asprintf(&p, "%s/%s/%s-%s", base, id->version, id->provider, id->arch) < 0)
		return NULL;
	return p;
}

int store_lock(const char *home, const char *name, int *out, struct den_err *err)
{
	cleanup_free char *dir = NULL, *path = NULL;
	cleanup_close int fd = -1;

	if (asprintf(&dir, "%s/locks", home) < 0)
		return den_err_set(err, ENOMEM, "box %s", name);
	if (den_mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (asprintf(&path, "%s/%s.lock", dir, name) < 0)
		return den_err_set(err, ENOMEM, "box %s", name);
	for (char *p = path + strlen(dir) + 1; *p != '\0'; p++)
		if (*p == '/')
			*p = '+';
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return den_err_set(err, errno, "cannot open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return den_err_set(err, errno, "cannot lock %s", path);
		den_info("waiting for another den that is adding box %s...", name);
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return den_err_set(err, errno, "cannot lock %s", path);
	}
	*out = steal_fd(&fd);
	return 0;
}

/* Removes what a killed den left in .tmp: folders named after dead pids. */
static void sweep_tmp(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	struct den_err ignored = { 0 };

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int pid = 0;
		char path[4096];

		if (sscanf(e->d_name, "%*[a-z]-%d-", &pid) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno == EPERM)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
		userns_rm_rf(path, &ignored);
	}
	closedir(d);
}

char *store_tmp_dir(const char *home, const char *what, struct den_err *err)
{
	cleanup_free char *tmp = NULL;
	char *p = NULL;

	if (asprintf(&tmp, "%s/tmp", home) < 0)
		goto oom;
	if (den_mkdir_p(tmp, 0755, err) < 0)
		return NULL;
	sweep_tmp(tmp);
	if (asprintf(&p, "%s/%s-%d-XXXXXX", tmp, what, (int)getpid()) < 0)
		goto oom;
	if (mkdtemp(p) == NULL) {
		den_err_set(err, errno, "cannot create %s", p);
		free(p);
		return NULL;
	}
	return p;
oom:
	den_err_set(err, ENOMEM, "cannot prepare the box store");
	return NULL;
}

/* Reads metadata.json: the box's provider and architecture ("" when unsaid). */
static int read_metadata(const char *dir, const struct box_id *id, char **provider, char **arch,
			 struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	json_error_t jerr;
	json_t *j;
	const char *p, *a;

	if (asprintf(&path, "%s/metadata.json", dir) < 0)
		return den_err_set(err, ENOMEM, "box %s", id->name);
	if (den_read_file(path, META_MAX, &text, NULL, err) < 0) {
		den_err_clear(err);
		return den_err_set(err, 0, "not a box: it has no metadata.json at its top");
	}
	j = json_loads(text, 0, &jerr);
	if (!json_is_object(j)) {
		json_decref(j);
		return den_err_set(err, 0, "not a box: its metadata.json is not a JSON object");
	}
	p = json_string_value(json_object_get(j, "provider"));
	a = json_string_value(json_object_get(j, "architecture"));
	if (p == NULL || !box_name_valid(p) || strchr(p, '/')) {
		json_decref(j);
		return den_err_set(err, 0, "not a box: its metadata.json names no provider");
	}
	/* A VirtualBox, VMware or Hyper-V box becomes a libvirt box (boxes/vm_import.h). */
	if (id->provider != NULL && strcmp(id->provider, p) != 0 &&
	    !(strcmp(id->provider, "libvirt") == 0 && vm_import_provider(p))) {
		den_err_set(err, 0, "the box file is for provider %s, but %s was expected", p,
			    id->provider);
		json_decref(j);
		return -1;
	}
	*provider = strdup(p);
	*arch = strdup(a && box_name_valid(a) && !strchr(a, '/') ? a : "");
	json_decref(j);
	if (*provider == NULL || *arch == NULL)
		return den_err_set(err, ENOMEM, "box %s", id->name);
	return 0;
}

struct rootfs_job {
	const char *tar, *root;
	uint64_t max;
};

static int unpack_job(void *arg, struct den_err *err)
{
	const struct rootfs_job *j = arg;

	return unpack_archive(j->tar, j->root, UNPACK_ROOTFS, j->max, NULL, err);
}

/*
 * A container box carries rootfs.tar (or a rootfs/ tree): unpack it in
 * place. Without root, inside the user's namespace, so every file keeps
 * its owner (as the namespace's id; core/userns.h).
 */
static int unpack_rootfs(const char *dir, uint64_t max, struct den_err *err)
{
	cleanup_free char *tar = NULL, *root = NULL;
	struct stat st;

	if (asprintf(&tar, "%s/rootfs.tar", dir) < 0 || asprintf(&root, "%s/rootfs", dir) < 0)
		return den_err_set(err, ENOMEM, "cannot unpack the root file system");
	if (stat(tar, &st) < 0)
		return lstat(root, &st) == 0 && S_ISDIR(st.st_mode)
			       ? 0
			       : den_err_set(err, 0,
					     "not a container box: it has neither "
					     "rootfs.tar nor a rootfs/ folder");
	struct rootfs_job job = { tar, root, max };
	struct userns_map m;
	if (mkdir(root, 0755) < 0)
		return den_err_set(err, errno, "cannot unpack the root file system");
	if (userns_rootless()
		    ? userns_map_for_user(&m, err) < 0 || userns_run(&m, unpack_job, &job, err) < 0
		    : unpack_job(&job, err) < 0)
		return den_err_wrap(err, "rootfs.tar");
	if (unlink(tar) < 0)
		return den_err_set(err, errno, "cannot remove %s", tar);
	return 0;
}

static int write_record(const char *dir, const struct box_id *id, const struct box_origin *o,
			struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:I}", "name", id->name,
			      "version", id->version, "provider", id->provider, "architecture",
			      id->arch, "url", o->url, "checksum", o->checksum, "checksum_type",
			      o->checksum_type, "added", (json_int_t)time(NULL));

	if (j == NULL || asprintf(&path, "%s/box.json", dir) < 0 ||
	    (text = json_dumps(j, JSON_INDENT(2))) == NULL) {
		json_decref(j);
		return den_err_set(err, ENOMEM, "box %s", id->name);
	}
	json_decref(j);
	return den_write_file_atomic(path, text, 0644, err);
}

/* Renames tmp to final, replacing an old box only when force. 1: it was there. */
static int move_into_place(const char *home, const char *tmp, const char *final, bool force,
			   struct den_err *err)
{
	cleanup_free char *parent = strdup(final);
	char *slash = parent ? strrchr(parent, '/') : NULL;

	if (slash == NULL)
		return den_err_set(err, ENOMEM, "cannot add the box");
	*slash = '\0';
	if (den_mkdir_p(parent, 0755, err) < 0)
		return -1;
	if (rename(tmp, final) == 0)
		return 0;
	if (errno != EEXIST && errno != ENOTEMPTY)
		return den_err_set(err, errno, "cannot move the box into %s", final);
	if (!force)
		return 1;
	cleanup_free char *old = store_tmp_dir(home, "old", err);
	if (old == NULL)
		return -1;
	if (rmdir(old) < 0 || rename(final, old) < 0)
		return den_err_set(err, errno, "cannot replace the box in %s", final);
	if (rename(tmp, final) < 0) {
		int e = errno;
		rename(old, final); /* put the old box back */
		return den_err_set(err, e, "cannot replace the box in %s", final);
	}
	return userns_rm_rf(old, err);
}

/* tmp (a whole box) into the store as id, with its record; on failure tmp is removed. */
static int finish_install(const char *home, const struct box_id *id, const char *tmp,
			  const struct box_origin *origin, bool force, struct store_entry *out,
			  struct den_err *err)
{
	cleanup_free char *final = NULL;
	struct den_err ignored = { 0 };
	int r;

	if (write_record(tmp, id, origin, err) < 0)
		goto fail;
	final = store_box_dir(home, id);
	if (final == NULL) {
		den_err_set(err, 0,
			    "refused: version '%s', provider '%s' or architecture '%s' of box "
			    "%s is not a plain name",
			    id->version, id->provider, id->arch, id->name);
		goto fail;
	}
	r = move_into_place(home, tmp, final, force, err);
	if (r < 0)
		goto fail;
	if (r == 1)
		userns_rm_rf(tmp, &ignored); /* already there, and kept */
	out->name = strdup(id->name);
	out->version = strdup(id->version);
	out->provider = strdup(id->provider);
	out->arch = strdup(id->arch);
	out->dir = steal_pointer(&final);
	out->url = origin->url ? strdup(origin->url) : NULL;
	out->checksum_type = origin->checksum_type ? strdup(origin->checksum_type) : NULL;
	out->checksum = origin->checksum ? strdup(origin->checksum) : NULL;
	return r;
fail:
	userns_rm_rf(tmp, &ignored);
	return -1;
}

/* A box unpacked in tmp (taken: gone after, either way) into the store. */
static int install_unpacked(const char *home, const struct box_id *want, char *tmp_in,
			    uint64_t left, const struct box_origin *origin, bool force,
			    struct store_entry *out, struct den_err *err)
{
	cleanup_free char *tmp = tmp_in, *provider = NULL, *arch = NULL;
	struct box_id id = *want;
	struct den_err ignored = { 0 };

	memset(out, 0, sizeof(*out));
	if (read_metadata(tmp, &id, &provider, &arch, err) < 0)
		goto fail;
	if (vm_import_provider(provider)) {
		if (vm_import(tmp, provider, err) < 0)
			goto fail;
		free(provider);
		provider = strdup("libvirt");
		if (provider == NULL) {
			den_err_set(err, ENOMEM, "box %s", id.name);
			goto fail;
		}
	}
	id.provider = provider;
	if (id.arch == NULL)
		id.arch = arch[0] ? arch : "unknown";
	/* The rootfs counts against what is left of the cap, not a fresh one. */
	if (strcmp(id.provider, "container") == 0 && unpack_rootfs(tmp, left, err) < 0)
		goto fail;
	return finish_install(home, &id, tmp, origin, force, out, err);
fail:
	userns_rm_rf(tmp, &ignored);
	return -1;
}

int store_install(const char *home, const struct box_id *want, const char *path,
		  const struct box_origin *origin, bool force, struct store_entry *out,
		  struct den_err *err)
{
	cleanup_free char *tmp = NULL;
	struct den_err ignored = { 0 };
	uint64_t max, used = 0;

	memset(out, 0, sizeof(*out));
	if (unpack_max_bytes(&max, err) < 0)
		return -1;
	tmp = store_tmp_dir(home, "add", err);
	if (tmp == NULL)
		return -1;
	if (unpack_archive(path, tmp, UNPACK_BOX, max, &used, err) < 0)
		goto fail;
	return install_unpacked(home, want, steal_pointer(&tmp), max - used, origin, force, out,
				err);
fail:
	userns_rm_rf(tmp, &ignored);
	return -1;
}

int store_install_unpacked(const char *home, const struct box_id *id, char *tmp,
			   const struct box_origin *origin, bool force, struct store_entry *out,
			   struct den_err *err)
{
	uint64_t max;

	if (unpack_max_bytes(&max, err) < 0) {
		struct den_err ignored = { 0 };
		userns_rm_rf(tmp, &ignored);
		free(tmp);
		return -1;
	}
	return install_unpacked(home, id, tmp, max, origin, force, out, err);
}

int store_install_dir(const char *home, const struct box_id *id, const char *tmp,
		      const struct box_origin *origin, bool force, struct store_entry *out,
		      struct den_err *err)
{
	memset(out, 0, sizeof(*out));
	return finish_install(home, id, tmp, origin, force, out, err);
}

int store_find(const char *home, const struct box_id *id, struct store_entry *out,
	       struct den_err *err)
{
	struct store_entry *list = NULL;
	size_t n = 0;
	bool found = false;

	if (store_list(home, &list, &n, err) < 0)
		return den_err_wrap(err, "cannot read the box store");
	for (size_t i = 0; i < n && !found; i++) {
		struct store_entry *e = &list[i];
		if (strcmp(e->name, id->name) == 0 && strcmp(e->version, id->version) == 0 &&
		    strcmp(e->provider, id->provider) == 0 && strcmp(e->arch, id->arch) == 0) {
			*out = *e;
			memset(e, 0, sizeof(*e));
			found = true;
		}
	}
	store_list_free(list, n);
	return found ? 1 : 0;
}
