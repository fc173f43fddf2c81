/* SPDX-License-Identifier: MIT */
/* A box's warm images (warm.h) for `den box list` and `den box prune`: read from their records. */
#include "providers/kvm/warm.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "providers/kvm/snapshot_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The room the files of folder dir take (they are sparse: blocks, not sizes). */
static uint64_t room(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t total = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			total += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	return total;
}

/* w from dir/warm.json; false when it is not a warm image's record. */
static bool read_info(const char *root, const char *name, const char *cpu, struct warm_info *w)
{
	cleanup_free char *dir = NULL, *path = NULL, *text = NULL;
	struct den_err ignored = { 0 };
	size_t len = 0;

	if (asprintf(&dir, "%s/%s", root, name) < 0 || asprintf(&path, "%s/warm.json", dir) < 0 ||
	    den_read_own_file(path, 64 << 10, &text, &len, &ignored) < 0)
		return false;
	json_t *j = json_loads(text, 0, NULL);
	const char *den = json_string_value(json_object_get(j, "den"));
	const char *made_on = json_string_value(json_object_get(j, "cpu"));
	memset(w, 0, sizeof(*w));
	w->name = strdup(name);
	w->cpus = (unsigned)json_integer_value(json_object_get(j, "cpus"));
	w->memory = (uint64_t)json_integer_value(json_object_get(j, "memory"));
	w->disk_size = (uint64_t)json_integer_value(json_object_get(j, "disk_size"));
	w->shares = (size_t)json_integer_value(json_object_get(j, "shares"));
	w->usable = den != NULL && strcmp(den, DEN_VERSION) == 0 && made_on != NULL &&
		    cpu != NULL && strcmp(made_on, cpu) == 0 &&
		    json_integer_value(json_object_get(j, "snapshot_format")) == SNAP_FORMAT;
	w->bytes = room(dir);
	json_decref(j);
	return w->name != NULL;
}

int warm_list(const char *box_dir, struct warm_info **out, size_t *n, struct den_err *err)
{
	cleanup_free char *root = NULL;
	DIR *d;
	struct dirent *e;
	char cpu[129];
	struct den_err ignored = { 0 };
	bool known;

	*out = NULL;
	*n = 0;
	if (asprintf(&root, "%s/kvm/warm", box_dir) < 0)
		return den_err_set(err, ENOMEM, "box %s", box_dir);
	if ((d = opendir(root)) == NULL)
		return 0; /* no warm image yet */
	/* Without /dev/kvm here no warm image is usable on this host. */
	known = warm_host_cpu(cpu, &ignored) == 0;
	while ((e = readdir(d)) != NULL) {
		struct warm_info w;
		if (e->d_name[0] == '.' || e->d_type != DT_DIR ||
		    !read_info(root, e->d_name, known ? cpu : NULL, &w))
			continue;
		struct warm_info *grown = realloc(*out, (*n + 1) * sizeof(**out));
		if (grown == NULL) {
			free(w.name);
			closedir(d);
			warm_list_free(*out, *n);
			*out = NULL;
			*n = 0;
			return den_err_set(err, ENOMEM, "box %s", box_dir);
		}
		*out = grown;
		(*out)[(*n)++] = w;
	}
	closedir(d);
	return 0;
}

void warm_list_free(struct warm_info *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].name);
	free(w);
}

int warm_remove(const char *box_dir, bool unusable_only, size_t *removed, struct den_err *err)
{
	struct warm_info *w = NULL;
	size_t n = 0;
	int rc = 0;

	*removed = 0;
	if (warm_list(box_dir, &w, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		cleanup_free char *dir = NULL;
		if (unusable_only && w[i].usable)
			continue;
		if (asprintf(&dir, "%s/kvm/warm/%s", box_dir, w[i].name) < 0)
			rc = den_err_set(err, ENOMEM, "box %s", box_dir);
		else if ((rc = den_rm_rf(dir, err)) == 0)
			(*removed)++;
	}
	warm_list_free(w, n);
	return rc;
}
