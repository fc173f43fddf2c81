/* SPDX-License-Identifier: MIT */
/*
 * The order steps run in: the Envfile's, except that `before: X` puts a
 * step before X and `after: X` after it. A stable topological sort: of
 * the steps free to run, the one listed first goes first.
 */
#include "provisioners/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static long find(const struct machine *m, const char *name)
{
	for (size_t i = 0; i < m->n_steps; i++)
		if (strcmp(m->steps[i].name, name) == 0)
			return (long)i;
	return -1;
}

int prov_order(const struct machine *m, const struct prov_step **out, struct den_err *err)
{
	size_t n = m->n_steps;
	/* before[i][j]: step i must run before step j. */
	unsigned char *before = calloc(n * n + 1, 1);
	bool *done = calloc(n + 1, sizeof(bool));

	if (before == NULL || done == NULL) {
		free(before);
		free(done);
		return den_err_set(err, ENOMEM, "machine %s", m->name);
	}
	for (size_t i = 0; i < n; i++) {
		const struct prov_step *s = &m->steps[i];
		const char *names[2] = { s->before, s->after };
		for (int k = 0; k < 2; k++) {
			if (names[k] == NULL)
				continue;
			long j = find(m, names[k]);
			if (j < 0) {
				free(before);
				free(done);
				return den_err_set(
					err, 0,
					"machine %s: step '%s' is %s '%s', which it does not have",
					m->name, s->name, k ? "after" : "before", names[k]);
			}
			if (k == 0)
				before[i * n + (size_t)j] = 1;
			else
				before[(size_t)j * n + i] = 1;
		}
	}
	for (size_t placed = 0; placed < n; placed++) {
		size_t pick = n;
		for (size_t j = 0; j < n && pick == n; j++) {
			bool free_to_run = !done[j];
			for (size_t i = 0; i < n && free_to_run; i++)
				free_to_run = done[i] || !before[i * n + j];
			if (free_to_run)
				pick = j;
		}
		if (pick == n) {
			free(before);
			free(done);
			return den_err_set(
				err, 0, "machine %s: the steps' before/after settings make a cycle",
				m->name);
		}
		done[pick] = true;
		out[placed] = &m->steps[pick];
	}
	free(before);
	free(done);
	return 0;
}
