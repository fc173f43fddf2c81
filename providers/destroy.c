/* SPDX-License-Identifier: MIT */
/* The end of every provider's destroy, by the rule provider.h states. */
#include "core/log.h"
#include "providers/provider.h"

int provider_destroy(struct den_machine *dm,
		     int (*halt)(struct den_machine *dm, bool force, struct den_err *err),
		     int (*remove)(const char *dir, struct den_err *err), struct den_err *err)
{
	if (dm->exists && halt(dm, true, err) < 0)
		return den_err_wrap(err, "cannot destroy it");
	den_crash_point("destroy:after-halt");
	if (remove(dm->dir, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	dm->exists = false;
	return 0;
}
