/* SPDX-License-Identifier: MIT */
#include "core/project.h"
#include "core/cleanup.h"
#include "core/envfile.h"
#include "core/fsutil.h"

#include <jansson.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *project_envfile_name(void)
{
	const char *v = getenv("DEN_ENVFILE");

	return v != NULL && v[0] != '\0' ? v : ENVFILE_NAME;
}

int project_find_root(const char *start, const char *name, char **root, struct den_err *err)
{
	cleanup_free char *dir = strdup(start);
	struct stat st;

	if (dir == NULL)
		return den_err_set(err, ENOMEM, "cannot look for the Envfile");
	if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, "..") == 0)
		return den_err_usage(err, "DEN_ENVFILE must be a file name, not '%s'", name);
	for (;;) {
		cleanup_free char *path = NULL;

		if (asprintf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) < 0)
			return den_err_set(err, ENOMEM, "cannot look for the Envfile");
		if (stat(path, &st) == 0) {
			*root = steal_pointer(&dir);
			return 0;
		}
		char *slash = strrchr(dir, '/');
		if (slash == NULL || strcmp(dir, "/") == 0)
			break;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return den_err_usage(err,
			     "no %s in %s or any folder above it; run `den init` to write "
			     "one, or use -C DIR to point at a project",
			     name, start);
}

char *project_shown_path(const char *cwd, const char *path)
{
	size_t n = strlen(cwd);
	char *out;

	if (strncmp(path, cwd, n) == 0 && path[n] == '/')
		out = strdup(path + n + 1);
	else if (strcmp(cwd, "/") == 0 && path[0] == '/')
		out = strdup(path + 1);
	else
		out = strdup(path);
	return out;
}

int den_home(char **out, struct den_err *err)
{
	const char *v = getenv("DEN_HOME");
	char *p = NULL;

	if (v != NULL && v[0] != '\0') {
		if (v[0] != '/')
			return den_err_usage(err, "DEN_HOME must be an absolute path, not '%s'", v);
		p = strdup(v);
	} else if ((v = getenv("XDG_DATA_HOME")) != NULL && v[0] == '/') {
		if (asprintf(&p, "%s/den", v) < 0)
			p = NULL;
	} else {
		const char *home = getenv("HOME");
		struct passwd *pw;

		if ((home == NULL || home[0] != '/') && (pw = getpwuid(getuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL || home[0] != '/')
			return den_err_usage(err, "cannot tell where den keeps its data: set "
						  "DEN_HOME or HOME");
		if (asprintf(&p, "%s/.local/share/den", home) < 0)
			p = NULL;
	}
	if (p == NULL)
		return den_err_set(err, ENOMEM, "cannot find DEN_HOME");
	*out = p;
	return 0;
}

/*
 * The state folder's name: a 64-bit FNV-1a hash of the root path, in hex.
 * Short on purpose: a machine's control socket lives below it, and a unix
 * socket's path has 107 bytes at most. project.json inside names the root.
 */
static void project_id(const char *root, char *out, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = root; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	snprintf(out, n, "%016llx", (unsigned long long)h);
}

int project_state_dir(const char *root, char **out, struct den_err *err)
{
	cleanup_free char *home = NULL;
	char id[64];

	if (den_home(&home, err) < 0)
		return -1;
	project_id(root, id, sizeof(id));
	if (asprintf(out, "%s/projects/%s", home, id) < 0)
		return den_err_set(err, ENOMEM, "cannot find the state of %s", root);
	return 0;
}

int project_machine_dir(const char *root, const char *machine, char **out, struct den_err *err)
{
	cleanup_free char *state = NULL;

	if (project_state_dir(root, &state, err) < 0)
		return -1;
	if (asprintf(out, "%s/machines/%s", state, machine) < 0)
		return den_err_set(err, ENOMEM, "machine %s", machine);
	return 0;
}

int project_state_init(const char *root, struct den_err *err)
{
	cleanup_free char *state = NULL, *machines = NULL, *about = NULL, *text = NULL;
	json_t *j;

	if (project_state_dir(root, &state, err) < 0)
		return -1;
	if (asprintf(&machines, "%s/machines", state) < 0 ||
	    asprintf(&about, "%s/project.json", state) < 0)
		return den_err_set(err, ENOMEM, "cannot set up %s", state);
	if (den_mkdir_p(machines, 0700, err) < 0)
		return -1;
	/* Only den's user looks in: machine keys, disks and upper layers live here. */
	if (chmod(state, 0700) < 0)
		return den_err_set(err, errno, "cannot protect %s", state);
	if (den_exists(about))
		return 0;
	j = json_pack("{s:i, s:s}", "version", 1, "root", root);
	text = j != NULL ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (text == NULL)
		return den_err_set(err, ENOMEM, "cannot set up %s", state);
	return den_write_file_atomic(about, text, 0600, err);
}
