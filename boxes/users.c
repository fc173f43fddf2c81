/* SPDX-License-Identifier: MIT */
#include "boxes/users.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/machine_index.h"
#include "core/project.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct acc {
	char **v;
	size_t n;
};

static int push(struct acc *a, char *s, struct den_err *err)
{
	char **p = realloc(a->v, (a->n + 1) * sizeof(*p));

	if (p == NULL || s == NULL) {
		free(s);
		return den_err_set(err, ENOMEM, "cannot list the users of a box");
	}
	a->v = p;
	a->v[a->n++] = s;
	return 0;
}

/* Machines in dir (a project's machines/ folder) that use e. */
static int scan_machines(const char *root, const char *dir, const struct store_entry *e,
			 struct acc *a, struct den_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		cleanup_free char *path = NULL, *text = NULL;
		struct den_err ignored = { 0 };
		json_t *j;

		if (de->d_name[0] == '.' ||
		    asprintf(&path, "%s/%s/state.json", dir, de->d_name) < 0)
			continue;
		if (den_read_own_file(path, 1 << 16, &text, NULL, &ignored) < 0)
			continue;
		j = json_loads(text, 0, NULL);
		const char *box = json_string_value(json_object_get(j, "box"));
		const char *ver = json_string_value(json_object_get(j, "box_version"));
		if (box && ver && strcmp(box, e->name) == 0 && strcmp(ver, e->version) == 0) {
			char *s = NULL;
			rc = push(a,
				  asprintf(&s, "%s: machine %s", root, de->d_name) < 0 ? NULL : s,
				  err);
		}
		json_decref(j);
	}
	closedir(d);
	return rc;
}

/*
 * The project's state folder, and its old PROJECT/.den of an older den not
 * moved yet: a box is kept for those machines too.
 */
static int scan_project(const char *root, const struct store_entry *e, struct acc *a,
			struct den_err *err)
{
	cleanup_free char *state = NULL, *dir = NULL, *legacy = NULL;

	if (project_state_dir(root, &state, err) < 0)
		return -1;
	if (asprintf(&dir, "%s/machines", state) < 0 ||
	    asprintf(&legacy, "%s/" DEN_LEGACY_DIR "/machines", root) < 0)
		return den_err_set(err, ENOMEM, "cannot list the users of a box");
	if (scan_machines(root, dir, e, a, err) < 0)
		return -1;
	return project_has_legacy_state(root) ? scan_machines(root, legacy, e, a, err) : 0;
}

int box_users(const char *home, const char *extra_root, const struct store_entry *e, char ***users,
	      size_t *n, struct den_err *err)
{
	struct machine_index idx;
	struct acc a = { 0 };
	int rc = 0;

	if (machine_index_list(home, &idx, err) < 0)
		return den_err_wrap(err, "cannot tell which machines use box %s %s", e->name,
				    e->version);
	for (size_t i = 0; i < idx.n && rc == 0; i++) {
		const char *root = idx.v[i].root;
		if (extra_root == NULL || strcmp(root, extra_root) != 0)
			rc = scan_project(root, e, &a, err);
	}
	machine_index_free(&idx);
	if (rc == 0 && extra_root != NULL)
		rc = scan_project(extra_root, e, &a, err);
	if (rc < 0) {
		box_users_free(a.v, a.n);
		return -1;
	}
	*users = a.v;
	*n = a.n;
	return 0;
}

void box_users_free(char **users, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(users[i]);
	free(users);
}
