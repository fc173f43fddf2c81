/* SPDX-License-Identifier: MIT */
#include "provisioners/record.h"
#include "core/cleanup.h"
#include "core/envfile_dump.h"
#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define RECORD "provisioned.json"

int prov_record_load(const char *machine_dir, json_t **out, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	json_t *j;

	if (asprintf(&path, "%s/" RECORD, machine_dir) < 0)
		return den_err_set(err, ENOMEM, "cannot read %s", RECORD);
	if (!den_exists(path)) {
		*out = json_pack("{s:{}}", "steps");
		return *out ? 0 : den_err_set(err, ENOMEM, "cannot read %s", path);
	}
	if (den_read_file(path, 1 << 22, &text, NULL, err) < 0)
		return -1;
	j = json_loads(text, 0, NULL);
	/* A damaged record is forgotten: at worst `once` steps run again. */
	if (!json_is_object(json_object_get(j, "steps"))) {
		json_decref(j);
		j = json_pack("{s:{}}", "steps");
	}
	*out = j;
	return j ? 0 : den_err_set(err, ENOMEM, "cannot read %s", path);
}

int prov_record_save(const char *machine_dir, json_t *rec, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (text == NULL || asprintf(&path, "%s/" RECORD, machine_dir) < 0)
		return den_err_set(err, ENOMEM, "cannot write %s", RECORD);
	return den_write_file_atomic(path, text, 0644, err);
}

static json_t *entry(json_t *rec, const char *name)
{
	return json_object_get(json_object_get(rec, "steps"), name);
}

bool prov_record_succeeded(json_t *rec, const char *name)
{
	const char *r = json_string_value(json_object_get(entry(rec, name), "result"));
	return r != NULL && strcmp(r, "ok") == 0;
}

const char *prov_record_checksum(json_t *rec, const char *name)
{
	return json_string_value(json_object_get(entry(rec, name), "checksum"));
}

void prov_record_set(json_t *rec, const struct prov_step *step, const char *checksum, bool ok,
		     int exit_code, double seconds)
{
	json_object_set_new(json_object_get(rec, "steps"), step->name,
			    json_pack("{s:s, s:s, s:I, s:f, s:s, s:i}", "type",
				      envfile_prov_kind_name(step->kind), "checksum", checksum,
				      "time", (json_int_t)time(NULL), "seconds", seconds, "result",
				      ok ? "ok" : "failed", "exit_code", exit_code));
}

#define MAX_DEPTH 64

/* The folders being read, outermost first: a symlink back to one of them is a loop. */
struct tree_path {
	dev_t dev[MAX_DEPTH];
	ino_t ino[MAX_DEPTH];
};

/* A file's or folder's names, modes and contents, in a stable order. */
static int hash_tree(struct digest *d, const char *path, struct tree_path *tp, int depth,
		     struct den_err *err)
{
	struct stat st;
	char hex[DIGEST_HEX_MAX];

	if (stat(path, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	digest_update(d, &st.st_mode, sizeof(st.st_mode));
	if (S_ISREG(st.st_mode)) {
		if (digest_file(path, DIGEST_SHA256, hex, err) < 0)
			return -1;
		digest_update(d, hex, strlen(hex));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	for (int i = 0; i < depth; i++)
		if (tp->dev[i] == st.st_dev && tp->ino[i] == st.st_ino)
			return den_err_set(err, ELOOP, "%s: a symlink loops back", path);
	if (depth == MAX_DEPTH)
		return den_err_set(err, ELOOP, "%s: nested too deep", path);
	tp->dev[depth] = st.st_dev;
	tp->ino[depth] = st.st_ino;
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort), rc = 0;
	if (n < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	for (int i = 0; i < n; i++) {
		cleanup_free char *sub = NULL;
		const char *nm = names[i]->d_name;
		if (rc == 0 && strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
			digest_update(d, nm, strlen(nm) + 1);
			rc = asprintf(&sub, "%s/%s", path, nm) < 0
				     ? den_err_set(err, ENOMEM, "cannot read %s", path)
				     : hash_tree(d, sub, tp, depth + 1, err);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int prov_step_checksum(const struct prov_step *step, char hex[DIGEST_HEX_MAX], struct den_err *err)
{
	json_t *j = envfile_step_to_json(step);
	cleanup_free char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct digest *d = digest_new(DIGEST_SHA256);
	const char *file = NULL;
	int rc = 0;

	json_decref(j);
	if (text == NULL || d == NULL) {
		digest_free(d);
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	}
	digest_update(d, text, strlen(text));
	if (step->kind == PROV_SHELL)
		file = step->shell.path_abs;
	else if (step->kind == PROV_FILE)
		file = step->file.source_abs;
	else if (step->kind == PROV_ANSIBLE)
		file = step->ansible.playbook_abs;
	struct tree_path tp;
	if (file != NULL)
		rc = hash_tree(d, file, &tp, 0, err);
	digest_final_hex(d, hex);
	digest_free(d);
	return rc;
}
