/* SPDX-License-Identifier: MIT */
/* The end of every provider's destroy, by the rule provider.h states. */
#include "core/log.h"
#include "providers/provider.h"

int provider_destroy(struct den_machine *dm,
		     int (*halt)(struct den_machine *dm, bool force, struct den_err *err),
		     int (*state)(struct den_machine *dm, enum machine_state *out,
				  struct den_err *err),
		     int (*remove)(const char *dir, struct den_err *err), struct den_err *err)
{
	if (dm->exists && halt(dm, true, err) < 0) {
		enum machine_state st = MACHINE_UNKNOWN;
		struct den_err ignored = { 0 };
		/* Stopped but not recorded (a full disk, say): nothing of it runs, its files may go. */
		if (state(dm, &st, &ignored) < 0 ||
		    (st != MACHINE_STOPPED && st != MACHINE_ABORTED && st != MACHINE_NOT_CREATED))
			return den_err_wrap(err, "cannot destroy it");
		den_warn("machine %s is stopped, though %s; removing it", dm->cfg->name, err->msg);
		den_err_clear(err);
	}
	den_crash_point("destroy:after-halt");
	if (remove(dm->dir, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	dm->exists = false;
	return 0;
}
