/* SPDX-License-Identifier: MIT */
#include "core/project.h"
#include "core/cleanup.h"
#include "core/envfile.h"
#include "core/fsutil.h"

#include <pwd.h>
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

char *project_machine_dir(const char *root, const char *machine)
{
	char *p = NULL;

	if (asprintf(&p, "%s/" DEN_DIR "/machines/%s", root, machine) < 0)
		return NULL;
	return p;
}

int project_state_init(const char *root, struct den_err *err)
{
	cleanup_free char *dir = NULL, *machines = NULL, *ignore = NULL;
	struct stat st;

	if (asprintf(&dir, "%s/" DEN_DIR, root) < 0 ||
	    asprintf(&machines, "%s/machines", dir) < 0 ||
	    asprintf(&ignore, "%s/.gitignore", dir) < 0)
		return den_err_set(err, ENOMEM, "cannot set up %s/" DEN_DIR, root);
	if (den_mkdir_p(machines, 0755, err) < 0)
		return -1;
	if (stat(ignore, &st) < 0 &&
	    den_write_file_atomic(ignore, "# den's machine state: never commit it\n*\n", 0644,
				  err) < 0)
		return -1;
	return 0;
}
