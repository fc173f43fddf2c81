/* SPDX-License-Identifier: MIT */
#include "boxes/lock.h"
#include "boxes/store.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS 8
static const char *const keys[FIELDS] = {
	"name",		"constraint", "version",       "provider",
	"architecture", "url",	      "checksum_type", "checksum"
};

static char **field(struct lock_entry *e, int i)
{
	char **f[FIELDS] = { &e->name, &e->constraint, &e->version,	  &e->provider,
			     &e->arch, &e->url,	       &e->checksum_type, &e->checksum };
	return f[i];
}

/*
 * The first of name, version, provider and architecture that is not a
 * plain name (its field number), or -1. They become folder names in the
 * box store, and a lock that came with a clone is input like any other.
 */
static int bad_field(struct lock_entry *e)
{
	static const int parts[] = { 2, 3, 4 }; /* version, provider, architecture */

	if (!box_name_valid(e->name))
		return 0;
	for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
		if (!box_part_valid(*field(e, parts[k])))
			return parts[k];
	return -1;
}

static void entry_free(struct lock_entry *e)
{
	for (int i = 0; i < FIELDS; i++)
		free(*field(e, i));
	memset(e, 0, sizeof(*e));
}

/* The entries of the JSON text into l (l->path set). */
static int parse(const char *text, struct boxlock *l, struct den_err *err)
{
	json_error_t jerr;
	json_t *j, *boxes, *b;
	size_t i;
	int bad;

	j = json_loads(text, 0, &jerr);
	boxes = json_object_get(j, "boxes");
	if (!json_is_array(boxes)) {
		json_decref(j);
		return den_err_set(err, 0,
				   "%s is damaged (%s); restore it from version control, or delete "
				   "it to resolve the boxes afresh",
				   l->path, j ? "no \"boxes\" list" : jerr.text);
	}
	l->e = calloc(json_array_size(boxes) + 1, sizeof(*l->e));
	if (l->e == NULL) {
		json_decref(j);
		return den_err_set(err, ENOMEM, "cannot read %s", l->path);
	}
	json_array_foreach(boxes, i, b)
	{
		struct lock_entry *e = &l->e[l->n++];
		for (int f = 0; f < FIELDS; f++) {
			const char *v = json_string_value(json_object_get(b, keys[f]));
			if (v != NULL && (*field(e, f) = strdup(v)) == NULL) {
				json_decref(j);
				return den_err_set(err, ENOMEM, "cannot read %s", l->path);
			}
		}
		if (e->name == NULL || e->version == NULL || e->provider == NULL ||
		    e->arch == NULL) {
			json_decref(j);
			return den_err_set(err, 0,
					   "%s: entry %zu lacks name, version, provider or "
					   "architecture; restore the file or delete it",
					   l->path, i + 1);
		}
		if ((bad = bad_field(e)) >= 0) {
			den_err_set(
				err, 0,
				"%s: entry %zu: %s '%.64s' is not a plain name (letters, digits, "
				"'.', '_', '-'); restore the file or delete it",
				l->path, i + 1, keys[bad], *field(e, bad));
			json_decref(j);
			return -1;
		}
	}
	json_decref(j);
	return 0;
}

int boxlock_read(const char *envfile, struct boxlock *l, struct den_err *err)
{
	cleanup_free char *text = NULL;

	memset(l, 0, sizeof(*l));
	if (asprintf(&l->path, "%s.lock", envfile) < 0) {
		l->path = NULL;
		return den_err_set(err, ENOMEM, "cannot read " LOCK_FILE);
	}
	if (den_read_file(l->path, 16 << 20, &text, NULL, err) < 0) {
		if (err->errno_ == ENOENT) {
			den_err_clear(err);
			return 0;
		}
		boxlock_free(l);
		return -1;
	}
	if (parse(text, l, err) < 0) {
		boxlock_free(l); /* nothing half read is left to use, nor to free */
		return -1;
	}
	return 0;
}

static int cmp_entries(const void *a, const void *b)
{
	const struct lock_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c == 0)
		c = strcmp(x->provider, y->provider);
	return c != 0 ? c : strcmp(x->arch, y->arch);
}

int boxlock_write(struct boxlock *l, struct den_err *err)
{
	cleanup_free char *text = NULL;
	json_t *j, *arr;

	if (!l->changed)
		return 0;
	arr = json_array();
	if (l->n > 0)
		qsort(l->e, l->n, sizeof(*l->e), cmp_entries);
	for (size_t i = 0; arr != NULL && i < l->n; i++) {
		json_t *o = json_object();
		for (int f = 0; o != NULL && f < FIELDS; f++) {
			const char *v = *field(&l->e[i], f);
			if (v != NULL)
				json_object_set_new(o, keys[f], json_string(v));
		}
		json_array_append_new(arr, o);
	}
	j = json_pack("{s:s, s:i, s:o}", "comment",
		      "den's resolved boxes: commit this file with the Envfile", "version", 1,
		      "boxes", arr);
	if (j == NULL || (text = json_dumps(j, JSON_INDENT(2))) == NULL) {
		json_decref(j);
		return den_err_set(err, ENOMEM, "cannot write %s", l->path);
	}
	json_decref(j);
	size_t len = strlen(text);
	char *nl = realloc(text, len + 2);
	if (nl == NULL)
		return den_err_set(err, ENOMEM, "cannot write %s", l->path);
	text = nl;
	memcpy(text + len, "\n", 2);
	if (den_write_file_atomic(l->path, text, 0644, err) < 0)
		return -1;
	l->changed = false;
	return 0;
}

struct lock_entry *boxlock_find(struct boxlock *l, const char *name, const char *provider,
				const char *arch)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0 && strcmp(l->e[i].provider, provider) == 0 &&
		    strcmp(l->e[i].arch, arch) == 0)
			return &l->e[i];
	return NULL;
}

int boxlock_set(struct boxlock *l, const struct lock_entry *e, struct den_err *err)
{
	struct lock_entry *slot = boxlock_find(l, e->name, e->provider, e->arch), copy = { 0 };

	for (int f = 0; f < FIELDS; f++) {
		const char *v = *field((struct lock_entry *)e, f);
		if (v != NULL && (*field(&copy, f) = strdup(v)) == NULL) {
			entry_free(&copy);
			return den_err_set(err, ENOMEM, "cannot update %s", l->path);
		}
	}
	if (slot != NULL) {
		bool same = true;
		for (int f = 0; f < FIELDS; f++) {
			const char *a = *field(slot, f), *b = *field(&copy, f);
			same &= (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
		}
		entry_free(slot);
		*slot = copy;
		l->changed |= !same;
		return 0;
	}
	struct lock_entry *p = realloc(l->e, (l->n + 1) * sizeof(*p));
	if (p == NULL) {
		entry_free(&copy);
		return den_err_set(err, ENOMEM, "cannot update %s", l->path);
	}
	l->e = p;
	l->e[l->n++] = copy;
	l->changed = true;
	return 0;
}

void boxlock_free(struct boxlock *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_free(&l->e[i]);
	free(l->e);
	free(l->path);
	memset(l, 0, sizeof(*l));
}
