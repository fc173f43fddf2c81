/* SPDX-License-Identifier: MIT */
/* Finding machines by name, matrix name or pattern, as commands name them. */
#include "core/envfile.h"
#include "core/suggest.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

struct machine *envfile_machine(struct envfile *ef, const char *name)
{
	for (size_t i = 0; i < ef->n_machines; i++)
		if (strcmp(ef->machines[i].name, name) == 0)
			return &ef->machines[i];
	return NULL;
}

static int unknown_machine(struct envfile *ef, const char *name, struct den_err *err)
{
	const char **names = calloc(ef->n_machines + 1, sizeof(*names));
	const char *near = NULL;

	if (names != NULL) {
		for (size_t i = 0; i < ef->n_machines; i++)
			names[i] = ef->machines[i].name;
		near = suggest_nearest(name, names);
		free(names);
	}
	if (near != NULL)
		return den_err_usage(err, "no machine '%s' in %s; did you mean '%s'?", name,
				     ef->path, near);
	return den_err_usage(err, "no machine '%s' in %s (see `den status` for the machines)", name,
			     ef->path);
}

int envfile_select(struct envfile *ef, char **names, size_t n_names, struct machine ***out,
		   size_t *n_out, struct den_err *err)
{
	struct machine **sel = calloc(ef->n_machines + 1, sizeof(*sel));
	size_t n = 0;

	if (sel == NULL)
		return den_err_set(err, ENOMEM, "cannot select machines");
	for (size_t i = 0; i < ef->n_machines; i++) {
		struct machine *m = &ef->machines[i];
		bool take = n_names == 0;

		for (size_t j = 0; j < n_names && !take; j++)
			take = strcmp(names[j], m->name) == 0 ||
			       (m->matrix_of != NULL && strcmp(names[j], m->matrix_of) == 0) ||
			       fnmatch(names[j], m->name, 0) == 0;
		if (take)
			sel[n++] = m;
	}
	/* Every name given must match something. */
	for (size_t j = 0; j < n_names; j++) {
		bool hit = false;
		for (size_t i = 0; i < n && !hit; i++)
			hit = strcmp(names[j], sel[i]->name) == 0 ||
			      (sel[i]->matrix_of && strcmp(names[j], sel[i]->matrix_of) == 0) ||
			      fnmatch(names[j], sel[i]->name, 0) == 0;
		if (!hit) {
			free(sel);
			return unknown_machine(ef, names[j], err);
		}
	}
	*out = sel;
	*n_out = n;
	return 0;
}
