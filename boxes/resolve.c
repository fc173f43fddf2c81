/* SPDX-License-Identifier: MIT */
#include "boxes/resolve.h"
#include "boxes/box.h"
#include "boxes/catalog.h"
#include "boxes/image.h"
#include "core/log.h"
#include "core/version.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The newest installed box of want's name and provider that the constraint
 * allows: 1 and *out filled, 0 when there is none, -1 when the store
 * cannot be read (an error, never "not installed").
 */
static int newest_installed(const char *home, const struct box_want *w, const char *exact,
			    struct store_entry *out, struct den_err *err)
{
	struct store_entry *list = NULL;
	size_t n = 0;
	struct den_constraints c = { 0 };
	const char *why;
	bool found = false;

	if (w->constraint != NULL && den_constraints_parse(w->constraint, &c, &why) < 0)
		return den_err_set(err, 0, "box %s: box_version '%s' is not a constraint: %s",
				   w->name, w->constraint, why);
	if (store_list(home, &list, &n, err) < 0)
		return den_err_wrap(err, "cannot read the box store");
	/* store_list sorts newest first within a name. */
	for (size_t i = 0; i < n && !found; i++) {
		struct den_version v;
		struct store_entry *e = &list[i];

		if (strcmp(e->name, w->name) != 0 || strcmp(e->provider, w->provider) != 0 ||
		    (strcmp(e->arch, box_host_arch()) != 0 && strcmp(e->arch, "unknown") != 0))
			continue;
		if (exact != NULL ? strcmp(e->version, exact) != 0
				  : (den_version_parse(e->version, &v, &why) < 0 ||
				     !den_constraints_match(&c, &v)))
			continue;
		*out = *e;
		memset(e, 0, sizeof(*e));
		found = true;
	}
	store_list_free(list, n);
	return found ? 1 : 0;
}

static int record(struct boxlock *lock, const struct box_want *w, const struct store_entry *e,
		  struct den_err *err)
{
	char *path = NULL, *tag = NULL;
	/* An image box_url names is locked as the Envfile names it: relative to it, for the team. */
	bool image =
		w->server != NULL && image_ref_parse(w->server, NULL, &path, &tag) != IMAGE_NONE;
	struct lock_entry le = { (char *)w->name,  (char *)w->constraint,
				 e->version,	   e->provider,
				 e->arch,	   image ? (char *)w->server : e->url,
				 e->checksum_type, e->checksum };

	free(path);
	free(tag);

	return lock ? boxlock_set(lock, &le, err) : 0;
}

static int from_lock(const struct resolve_opts *o, const struct box_want *w,
		     const struct lock_entry *le, struct store_entry *out, struct den_err *err)
{
	int have = newest_installed(o->home, w, le->version, out, err);

	if (have < 0)
		return -1;
	if (have) {
		if (le->checksum != NULL && out->checksum != NULL &&
		    strcasecmp(le->checksum, out->checksum) != 0) {
			den_err_set(err, 0,
				    "box %s %s in the store is not the one Envfile.lock names "
				    "(checksum %.16s..., locked %.16s...); `den box remove %s "
				    "--box-version %s` and run again to fetch the locked one",
				    w->name, le->version, out->checksum, le->checksum, w->name,
				    le->version);
			store_entry_free(out);
			return -1;
		}
		return 0;
	}
	if (o->offline)
		return den_err_set(err, 0, "box %s %s (locked) is not in the store", w->name,
				   le->version);
	if (le->url == NULL)
		return den_err_set(err, 0, "Envfile.lock names %s %s but no URL to fetch it from",
				   w->name, le->version);
	struct box_add_opts a = { .source = le->url,
				  .name = w->name,
				  .version = le->version,
				  .provider = w->provider,
				  .arch = le->arch,
				  .checksum = le->checksum,
				  .checksum_type = le->checksum_type,
				  .base_dir = w->base_dir,
				  .progress = o->progress };
	den_info("fetching %s %s, as Envfile.lock says", w->name, le->version);
	if (box_add(o->home, &a, out, err) < 0)
		return den_err_wrap(err, "Envfile.lock");
	return 0;
}

int box_resolve(const struct resolve_opts *o, const struct box_want *w, struct boxlock *lock,
		struct store_entry *out, struct den_err *err)
{
	struct lock_entry *le =
		lock ? boxlock_find(lock, w->name, w->provider, box_host_arch()) : NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (le == NULL && lock != NULL)
		le = boxlock_find(lock, w->name, w->provider, "unknown");
	if (le != NULL && !o->update) {
		/* A lock that the Envfile's constraint no longer allows is stale. */
		struct den_constraints c = { 0 };
		struct den_version v;
		const char *why;
		bool allowed = w->constraint == NULL ||
			       (den_constraints_parse(w->constraint, &c, &why) == 0 &&
				den_version_parse(le->version, &v, &why) == 0 &&
				den_constraints_match(&c, &v));
		if (allowed)
			return from_lock(o, w, le, out, err);
		den_info("Envfile.lock has %s %s, which box_version '%s' no longer allows: "
			 "resolving again",
			 w->name, le->version, w->constraint);
	}
	if (!o->update) {
		int have = newest_installed(o->home, w, NULL, out, err);
		if (have < 0)
			return -1;
		if (have)
			return record(lock, w, out, err);
	}
	if (o->offline)
		return den_err_set(err, 0,
				   "no box %s%s%s for provider %s in the store; add it with `den "
				   "box add %s` or build it with `den box build`",
				   w->name, w->constraint ? " " : "",
				   w->constraint ? w->constraint : "", w->provider, w->name);
	struct box_add_opts a = { .source = w->name,
				  .version = w->constraint,
				  .provider = w->provider,
				  .server = w->server,
				  .base_dir = w->base_dir,
				  .progress = o->progress };
	r = box_add(o->home, &a, out, err);
	if (r < 0)
		return -1;
	return record(lock, w, out, err);
}
