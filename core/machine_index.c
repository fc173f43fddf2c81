/* SPDX-License-Identifier: MIT */
#include "core/machine_index.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"

#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes: a project takes ~150, so this is tens of thousands of projects. */
#define INDEX_MAX (4 << 20)

#define ADVICE "remove it; `den up` in each project records the project again"

static int index_path(const char *home, char **path, struct den_err *err)
{
	if (asprintf(path, "%s/index.json", home) < 0) {
		*path = NULL;
		return den_err_set(err, ENOMEM, "cannot find den's project index");
	}
	return 0;
}

/* Takes $DEN_HOME/locks/index.lock; the kernel drops it when den exits, killed or not. */
static int index_lock(const char *home, int *fd, struct den_err *err)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *path = NULL;

	if (asprintf(&dir, "%s/locks", home) < 0) {
		dir = NULL;
		return den_err_set(err, ENOMEM, "cannot lock den's project index");
	}
	if (asprintf(&path, "%s/index.lock", dir) < 0) {
		path = NULL;
		return den_err_set(err, ENOMEM, "cannot lock den's project index");
	}
	if (den_mkdir_p(dir, 0755, err) < 0)
		return -1;
	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (*fd < 0)
		return den_err_set(err, errno, "cannot lock %s", path);
	while (flock(*fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return den_err_set(err, errno, "cannot lock %s", path);
	}
	return 0;
}

/* s as an entry may hold it: absolute, shorter than PATH_MAX, no NUL or control characters. */
static const char *entry_path(json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (s == NULL || s[0] != '/' || len >= PATH_MAX || strlen(s) != len)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
	return s;
}

/* Fills e with strings borrowed from j; false when j is not a usable entry. */
static bool entry_parse(json_t *j, struct machine_index_entry *e)
{
	json_t *env = json_object_get(j, "envfile");

	e->root = (char *)entry_path(json_object_get(j, "root"));
	e->envfile = json_is_null(env) ? NULL : (char *)entry_path(env);
	return e->root != NULL && (env == NULL || json_is_null(env) || e->envfile != NULL);
}

/* why (n bytes) as text of the file's, with its control characters shown as '?'. */
static void set_why(char *why, size_t n, const char *text)
{
	snprintf(why, n, "%s", text);
	for (char *c = why; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

/*
 * Reads path into *doc (no file: an empty index). Returns -1 with err set
 * when it cannot be read, 1 with why (n bytes) filled when what is there
 * is not an index den wrote.
 */
static int index_load(const char *path, json_t **doc, char *why, size_t n, struct den_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	cleanup_free char *text = NULL;
	json_error_t jerr;
	struct stat st;
	json_t *j;

	*doc = NULL;
	if (fd < 0 && errno == ENOENT) {
		*doc = json_pack("{s:[]}", "projects");
		return *doc != NULL ? 0 : den_err_set(err, ENOMEM, "cannot read %s", path);
	}
	if (fd < 0 && errno == ELOOP) {
		snprintf(why, n, "a link, and den never makes one there");
		return 1;
	}
	if (fd < 0 || fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(why, n, "%s", !S_ISREG(st.st_mode) ? "not a plain file" : "another owner");
		return 1;
	}
	if ((size_t)st.st_size > INDEX_MAX) {
		snprintf(why, n, "larger than %d bytes", INDEX_MAX);
		return 1;
	}
	if (den_read_fd(fd, path, INDEX_MAX, &text, NULL, err) < 0)
		return -1;
	j = json_loads(text, 0, &jerr);
	if (!json_is_array(json_object_get(j, "projects"))) {
		set_why(why, n, j != NULL ? "no \"projects\" list" : jerr.text);
		json_decref(j);
		return 1;
	}
	*doc = j;
	return 0;
}

/* index_load for a reader: what is not an index is an error saying what to do. */
static int index_read(const char *path, json_t **doc, struct den_err *err)
{
	char why[256];
	int r = index_load(path, doc, why, sizeof(why), err);

	return r > 0 ? den_err_set(err, 0, "%s is damaged (%s): " ADVICE, path, why) : r;
}

static int index_store(const char *path, json_t *doc, struct den_err *err)
{
	cleanup_free char *text = json_dumps(doc, JSON_INDENT(2));

	if (text == NULL)
		return den_err_set(err, ENOMEM, "cannot write %s", path);
	return den_write_file_atomic(path, text, 0644, err);
}

int machine_index_list(const char *home, struct machine_index *idx, struct den_err *err)
{
	cleanup_free char *path = NULL;
	json_t *doc = NULL, *p;
	size_t i, cap = 0;

	memset(idx, 0, sizeof(*idx));
	if (index_path(home, &path, err) < 0)
		return -1;
	if (index_read(path, &doc, err) < 0)
		return -1;
	json_array_foreach(json_object_get(doc, "projects"), i, p)
	{
		struct machine_index_entry e, *v;

		if (!entry_parse(p, &e)) {
			idx->skipped++;
			continue;
		}
		if (idx->n == cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(idx->v, cap * sizeof(*v));
			if (v == NULL)
				goto oom;
			idx->v = v;
		}
		v = &idx->v[idx->n++];
		v->root = strdup(e.root);
		v->envfile = e.envfile ? strdup(e.envfile) : NULL;
		if (v->root == NULL || (e.envfile != NULL && v->envfile == NULL))
			goto oom;
	}
	json_decref(doc);
	return 0;
oom:
	json_decref(doc);
	machine_index_free(idx);
	return den_err_set(err, ENOMEM, "cannot read %s", path);
}

void machine_index_free(struct machine_index *idx)
{
	for (size_t i = 0; i < idx->n; i++) {
		free(idx->v[i].root);
		free(idx->v[i].envfile);
	}
	free(idx->v);
	memset(idx, 0, sizeof(*idx));
}

/* Moves a damaged index aside, so that what it held can still be read by hand. */
static int set_aside(const char *path, const char *why, struct den_err *err)
{
	cleanup_free char *aside = NULL;

	if (asprintf(&aside, "%s.damaged", path) < 0) {
		aside = NULL;
		return den_err_set(err, ENOMEM, "cannot move %s aside", path);
	}
	if (rename(path, aside) < 0)
		return den_err_set(err, errno, "%s is damaged (%s), and cannot be moved to %s",
				   path, why, aside);
	den_warn("%s was damaged (%s): moved it to %s and began a new one; `den up` in each other "
		 "project records that project again",
		 path, why, aside);
	return 0;
}

int machine_index_add(const char *home, const char *root, const char *envfile, struct den_err *err)
{
	cleanup_free char *path = NULL;
	cleanup_close int lock = -1;
	struct machine_index_entry e;
	json_t *entry, *doc = NULL, *projects, *p;
	char why[256];
	size_t i;
	int r;

	BUG_ON(root == NULL);
	entry = json_pack("{s:s}", "root", root);
	if (entry != NULL && envfile != NULL &&
	    json_object_set_new(entry, "envfile", json_string(envfile)) < 0) {
		json_decref(entry);
		entry = NULL;
	}
	if (entry == NULL || !entry_parse(entry, &e)) {
		/* Not UTF-8, or control characters: list would skip it. Not worth failing `den up`. */
		json_decref(entry);
		den_warn("this project's folder cannot be recorded in %s/index.json (an absolute "
			 "UTF-8 path without control characters can): `den global-status` will not "
			 "list its machines",
			 home);
		return 0;
	}
	if (index_path(home, &path, err) < 0 || index_lock(home, &lock, err) < 0)
		goto fail;
	r = index_load(path, &doc, why, sizeof(why), err);
	if (r > 0 &&
	    (set_aside(path, why, err) < 0 || (doc = json_pack("{s:[]}", "projects")) == NULL))
		r = -1;
	if (r < 0)
		goto fail;
	projects = json_object_get(doc, "projects");
	json_array_foreach(projects, i, p)
	{
		struct machine_index_entry old;

		if (entry_parse(p, &old) && strcmp(old.root, root) == 0) {
			json_decref(doc);
			json_decref(entry);
			return 0;
		}
	}
	if (json_array_append_new(projects, entry) < 0) {
		entry = NULL;
		den_err_set(err, ENOMEM, "cannot write %s", path);
		goto fail;
	}
	r = index_store(path, doc, err);
	json_decref(doc);
	return r;
fail:
	json_decref(doc);
	json_decref(entry);
	if (!den_err_is_set(err))
		den_err_set(err, ENOMEM, "cannot record %s in den's project index", root);
	return -1;
}

int machine_index_prune(const char *home, machine_index_keep_fn keep, void *arg, size_t *dropped,
			struct den_err *err)
{
	cleanup_free char *path = NULL;
	cleanup_close int lock = -1;
	json_t *doc = NULL, *kept = NULL, *p;
	size_t i, n = 0;
	int r = 0;

	if (dropped != NULL)
		*dropped = 0;
	if (index_path(home, &path, err) < 0)
		return -1;
	/* No index: nothing to forget, and no reason to create DEN_HOME for the lock. */
	if (!den_exists(path))
		return 0;
	if (index_lock(home, &lock, err) < 0)
		return -1;
	if (index_read(path, &doc, err) < 0)
		return -1;
	kept = json_array();
	json_array_foreach(json_object_get(doc, "projects"), i, p)
	{
		struct machine_index_entry e;

		if (kept == NULL || r < 0)
			break;
		if (!entry_parse(p, &e) || !keep(&e, arg))
			n++;
		else if (json_array_append(kept, p) < 0)
			r = -1;
	}
	if (kept == NULL || r < 0 || (n > 0 && json_object_set(doc, "projects", kept) < 0))
		r = den_err_set(err, ENOMEM, "cannot write %s", path);
	else if (n > 0)
		r = index_store(path, doc, err);
	json_decref(kept);
	json_decref(doc);
	if (r == 0 && dropped != NULL)
		*dropped = n;
	return r;
}
