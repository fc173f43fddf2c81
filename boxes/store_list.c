/* SPDX-License-Identifier: MIT */
/* Listing and removing boxes in the store: the folders are the truth, box.json the names. */
#include "boxes/store.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/userns.h"
#include "core/version.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct list {
	const char *home;
	struct store_entry *e;
	size_t n, cap;
};

/* box.json names the very folder it is in (what store_install wrote). */
static bool names_its_folder(const char *home, const struct store_entry *e)
{
	const struct box_id id = { e->name, e->version, e->provider, e->arch };
	cleanup_free char *want = NULL;

	if (e->name == NULL || e->version == NULL || e->provider == NULL || e->arch == NULL ||
	    e->dir == NULL || !box_name_valid(e->name))
		return false;
	want = store_box_dir(home, &id);
	return want != NULL && strcmp(want, e->dir) == 0;
}

static int add(struct list *l, const char *dir, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	struct den_err ignored = { 0 };
	json_t *j;

	if (asprintf(&path, "%s/box.json", dir) < 0)
		return den_err_set(err, ENOMEM, "cannot list boxes");
	if (den_read_file(path, 1 << 20, &text, NULL, &ignored) < 0)
		return 0; /* not a box folder (or a damaged one): not listed */
	j = json_loads(text, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct store_entry *p = realloc(l->e, cap * sizeof(*p));
		if (p == NULL) {
			json_decref(j);
			return den_err_set(err, ENOMEM, "cannot list boxes");
		}
		l->e = p;
		l->cap = cap;
	}
	struct store_entry *e = &l->e[l->n++];
	const char *f[4] = { "name", "version", "provider", "architecture" };
	char **dst[4] = { &e->name, &e->version, &e->provider, &e->arch };
	for (int i = 0; i < 4; i++) {
		const char *v = json_string_value(json_object_get(j, f[i]));
		*dst[i] = strdup(v ? v : "?");
	}
	e->dir = strdup(dir);
	const char *o[3] = { "url", "checksum_type", "checksum" };
	char **od[3] = { &e->url, &e->checksum_type, &e->checksum };
	for (int i = 0; i < 3; i++) {
		const char *v = json_string_value(json_object_get(j, o[i]));
		*od[i] = v ? strdup(v) : NULL;
	}
	json_decref(j);
	/* A record that names another box (edited, copied, damaged) is not trusted: not listed. */
	if (!names_its_folder(l->home, e)) {
		store_entry_free(e);
		l->n--;
	}
	return 0;
}

/* Calls fn for each sub-folder of dir not starting with '.'. */
static int each_dir(const char *dir, int (*fn)(const char *, void *, struct den_err *), void *arg,
		    struct den_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	/* Nothing there, or a stray file where a folder would be: no boxes. */
	if (d == NULL && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (d == NULL)
		return den_err_set(err, errno, "cannot read %s", dir);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *path = NULL;

		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
			rc = den_err_set(err, ENOMEM, "cannot list boxes");
			break;
		}
		rc = fn(path, arg, err);
		free(path);
	}
	closedir(d);
	return rc;
}

static int level4(const char *dir, void *arg, struct den_err *err)
{
	return add(arg, dir, err);
}

static int level3(const char *dir, void *arg, struct den_err *err)
{
	return each_dir(dir, level4, arg, err);
}

static int level2(const char *dir, void *arg, struct den_err *err)
{
	return each_dir(dir, level3, arg, err);
}

static int level1(const char *dir, void *arg, struct den_err *err)
{
	return each_dir(dir, level2, arg, err);
}

static int by_name_then_newest(const void *a, const void *b)
{
	const struct store_entry *x = a, *y = b;
	struct den_version vx, vy;
	const char *why;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	if (den_version_parse(x->version, &vx, &why) == 0 &&
	    den_version_parse(y->version, &vy, &why) == 0 && (c = den_version_cmp(&vy, &vx)) != 0)
		return c;
	c = strcmp(x->provider, y->provider);
	return c != 0 ? c : strcmp(x->arch, y->arch);
}

int store_list(const char *home, struct store_entry **out, size_t *n, struct den_err *err)
{
	cleanup_free char *root = NULL;
	struct list l = { .home = home };

	if (asprintf(&root, "%s/boxes", home) < 0)
		return den_err_set(err, ENOMEM, "cannot list boxes");
	if (each_dir(root, level1, &l, err) < 0) {
		store_list_free(l.e, l.n);
		return -1;
	}
	if (l.n > 0)
		qsort(l.e, l.n, sizeof(*l.e), by_name_then_newest);
	*out = l.e;
	*n = l.n;
	return 0;
}

void store_entry_free(struct store_entry *e)
{
	free(e->name);
	free(e->version);
	free(e->provider);
	free(e->arch);
	free(e->dir);
	free(e->url);
	free(e->checksum_type);
	free(e->checksum);
	memset(e, 0, sizeof(*e));
}

void store_list_free(struct store_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_entry_free(&e[i]);
	free(e);
}

int store_remove(const char *home, const struct store_entry *e, struct den_err *err)
{
	cleanup_free char *dir = strdup(e->dir);
	size_t home_len = strlen(home);

	if (dir == NULL)
		return den_err_set(err, ENOMEM, "cannot remove box %s", e->name);
	if (userns_rm_rf(dir, err) < 0)
		return -1;
	/* Then the version, name and org folders, while empty. */
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(dir, '/');
		if (slash == NULL || (size_t)(slash - dir) <= home_len)
			break;
		*slash = '\0';
		if (rmdir(dir) < 0)
			break;
	}
	return 0;
}
