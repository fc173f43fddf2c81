/* SPDX-License-Identifier: MIT */
/* Synced folders with `create: true`, made at up for every provider. */
#include "providers/provider.h"
#include "core/fsutil.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

int provider_create_folder(const struct den_machine *dm, const struct synced_folder *f,
			   struct den_err *err)
{
	struct stat st;

	if (!f->create || f->disabled || den_exists(f->host_path))
		return 0;
	if (den_mkdir_p(f->host_path, 0755, err) < 0)
		return -1;
	/*
	 * den as root gives it to the project's owner: a folder of root's is
	 * mapped to no one inside a container (docs/decisions.md).
	 */
	if (geteuid() == 0 && stat(dm->root, &st) == 0 && st.st_uid != 0 &&
	    lchown(f->host_path, st.st_uid, st.st_gid) < 0)
		return den_err_set(err, errno, "cannot give %s to the project's owner",
				   f->host_path);
	return 0;
}
