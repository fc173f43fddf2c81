/* SPDX-License-Identifier: MIT */
/*
 * The order steps run in: the Envfile's, except that a step with
 * `before: X` goes just before X and one with `after: X` just after X
 * and the steps already placed around X's followers, as in Vagrant. Steps are placed
 * in list order; a step whose X is not placed yet waits for it; steps
 * that can never be placed make a cycle.
 */
#include "provisioners/engine.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static long find(const struct machine *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_steps; i++)
		if (strcmp(cfg->steps[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Is step i anchored, through any chain of before/after, to step x? */
static bool anchored_to(const long *target, size_t n, size_t i, size_t x)
{
	for (size_t hops = 0; hops < n && target[i] >= 0; hops++) {
		i = (size_t)target[i];
		if (i == x)
			return true;
	}
	return false;
}

static size_t position(const size_t *placed, size_t n, size_t step)
{
	for (size_t i = 0; i < n; i++)
		if (placed[i] == step)
			return i;
	return n;
}

int prov_order(const struct machine *cfg, const struct prov_step **out, struct den_err *err)
{
	size_t n = cfg->n_steps, n_placed = 0;
	size_t *placed = calloc(n + 1, sizeof(size_t));
	long *target = calloc(n + 1, sizeof(long));
	int rc = 0;

	if (placed == NULL || target == NULL) {
		rc = den_err_set(err, ENOMEM, "machine %s", cfg->name);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct prov_step *s = &cfg->steps[i];
		const char *t = s->before ? s->before : s->after;
		if (s->before != NULL && s->after != NULL) {
			rc = den_err_set(err, 0,
					 "machine %s: step '%s' has both before and after; give it "
					 "one",
					 cfg->name, s->name);
			goto out;
		}
		target[i] = t ? find(cfg, t) : -1;
		if (t != NULL && target[i] < 0) {
			rc = den_err_set(err, 0,
					 "machine %s: step '%s' is %s '%s', which it does not have",
					 cfg->name, s->name, s->before ? "before" : "after", t);
			goto out;
		}
		if (t == NULL)
			placed[n_placed++] = i;
	}
	for (bool progress = true; n_placed < n && progress;) {
		progress = false;
		for (size_t i = 0; i < n; i++) {
			if (target[i] < 0 || position(placed, n_placed, i) < n_placed)
				continue;
			size_t at = position(placed, n_placed, (size_t)target[i]);
			if (at == n_placed)
				continue; /* its anchor is not placed yet */
			/* After its anchor and whatever is already placed around the anchor's followers. */
			if (cfg->steps[i].after != NULL)
				for (at++; at < n_placed &&
					   anchored_to(target, n, placed[at], (size_t)target[i]);
				     at++)
					;
			memmove(placed + at + 1, placed + at, (n_placed - at) * sizeof(size_t));
			placed[at] = i;
			n_placed++;
			progress = true;
		}
	}
	if (n_placed < n) {
		rc = den_err_set(err, 0,
				 "machine %s: the steps' before/after settings make a cycle",
				 cfg->name);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = &cfg->steps[placed[i]];
out:
	free(placed);
	free(target);
	return rc;
}
