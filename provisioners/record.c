/* SPDX-License-Identifier: MIT */
#include "provisioners/record.h"
#include "core/cleanup.h"
#include "core/envfile_dump.h"
#include "core/fsutil.h"
#include "core/hostpath.h"
#include "core/lazylib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	if (den_read_own_file(path, 1 << 22, &text, NULL, err) < 0)
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

/* sha256 of what is left of fd, added to d in hex (as digest_file() gives it). */
static int hash_contents(struct digest *d, int fd, const char *shown, struct den_err *err)
{
	struct digest *f = digest_new(DIGEST_SHA256);
	char buf[1 << 16], hex[DIGEST_HEX_MAX];
	ssize_t n;

	if (f == NULL)
		return den_err_set(err, ENOMEM, "cannot read %s", shown);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			digest_free(f);
			return den_err_set(err, e, "cannot read %s", shown);
		}
		digest_update(f, buf, (size_t)n);
	}
	digest_final_hex(f, hex);
	digest_free(f);
	digest_update(d, hex, strlen(hex));
	return 0;
}

/* A symlink as its target's text: what it points at is never read. */
static int hash_link(struct digest *d, int dir_fd, const char *name, const char *shown,
		     struct den_err *err)
{
	char target[4096];
	mode_t type = S_IFLNK;
	ssize_t n = readlinkat(dir_fd, name, target, sizeof(target));

	if (n < 0)
		return den_err_set(err, errno, "cannot read the symlink %s", shown);
	if ((size_t)n == sizeof(target))
		return den_err_set(err, ENAMETOOLONG, "cannot read the symlink %s", shown);
	digest_update(d, &type, sizeof(type));
	digest_update(d, target, (size_t)n);
	return 0;
}

static int hash_at(struct digest *d, int dir_fd, const char *name, const char *shown, int depth,
		   struct den_err *err);

/* A folder's names and what each holds, in a stable order; fd is the folder's. */
static int hash_dir(struct digest *d, int fd, const char *shown, int depth, struct den_err *err)
{
	struct dirent **names;
	int n, rc = 0;

	/* No link is followed, so only bind mounts could loop: a depth limit is enough. */
	if (depth == MAX_DEPTH)
		return den_err_set(err, ELOOP, "%s: nested too deep", shown);
	n = scandirat(fd, ".", &names, NULL, alphasort);
	if (n < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	for (int i = 0; i < n; i++) {
		cleanup_free char *sub = NULL;
		const char *nm = names[i]->d_name;
		if (rc == 0 && strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
			digest_update(d, nm, strlen(nm) + 1);
			rc = asprintf(&sub, "%s/%s", shown, nm) < 0
				     ? den_err_set(err, ENOMEM, "cannot read %s", shown)
				     : hash_at(d, fd, nm, sub, depth + 1, err);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/*
 * A file's or folder's names, modes and contents, following no symlink:
 * code in a machine may have planted links (to /root, to /) or fifos in
 * the synced project. A link counts as its target's text; a fifo, socket
 * or device as its type alone, never opened.
 */
static int hash_at(struct digest *d, int dir_fd, const char *name, const char *shown, int depth,
		   struct den_err *err)
{
	cleanup_close int fd = -1;
	struct stat st, got;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	if (S_ISLNK(st.st_mode))
		return hash_link(d, dir_fd, name, shown, err);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		mode_t type = st.st_mode & S_IFMT;
		digest_update(d, &type, sizeof(type));
		return 0;
	}
	/* O_NONBLOCK: a fifo swapped in since the fstatat must not hang den. */
	fd = openat(dir_fd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
			    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0 || fstat(fd, &got) < 0)
		return den_err_set(err, errno, "cannot read %s", shown);
	if (got.st_dev != st.st_dev || got.st_ino != st.st_ino ||
	    (got.st_mode & S_IFMT) != (st.st_mode & S_IFMT))
		return den_err_set(err, 0, "cannot read %s: it changed while being read", shown);
	digest_update(d, &got.st_mode, sizeof(got.st_mode));
	if (S_ISREG(got.st_mode))
		return hash_contents(d, fd, shown, err);
	return hash_dir(d, fd, shown, depth, err);
}

/* The host file a step reads: as written, and resolved against the project root. */
static void step_file(const struct prov_step *step, const char **written, const char **abs)
{
	*written = *abs = NULL;
	if (step->kind == PROV_SHELL && step->shell.inline_script == NULL) {
		*written = step->shell.path;
		*abs = step->shell.path_abs;
	} else if (step->kind == PROV_FILE) {
		*written = step->file.source;
		*abs = step->file.source_abs;
	} else if (step->kind == PROV_ANSIBLE) {
		*written = step->ansible.playbook;
		*abs = step->ansible.playbook_abs;
	}
}

int prov_step_checksum(const char *root, const struct prov_step *step, char hex[DIGEST_HEX_MAX],
		       struct den_err *err)
{
	json_t *j = envfile_step_to_json(step);
	cleanup_free char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	cleanup_hostpath struct hostpath hp = { .dir_fd = -1 };
	struct digest *d;
	const char *written, *abs;
	int rc = 0;

	json_decref(j);
	if (den_crypto_load(err) < 0)
		return -1;
	d = digest_new(DIGEST_SHA256);
	if (text == NULL || d == NULL) {
		digest_free(d);
		return den_err_set(err, ENOMEM, "step '%s'", step->name);
	}
	digest_update(d, text, strlen(text));
	step_file(step, &written, &abs);
	if (abs != NULL && written != NULL) {
		/* Relative as written (beneath the project), so that messages name it as the Envfile does. */
		const char *path =
			written[0] == '/' || written[0] == '~' || root == NULL ? abs : written;
		rc = hostpath_resolve(root, path, root ? 0 : HOSTPATH_FROM_CWD, &hp, err);
		if (rc == 0)
			rc = hash_at(d, hp.dir_fd, hp.name, written, 0, err);
	}
	digest_final_hex(d, hex);
	digest_free(d);
	return rc;
}
