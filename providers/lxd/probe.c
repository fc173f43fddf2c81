/* SPDX-License-Identifier: MIT */
/* Is there a local LXD, and which? For `den doctor`. */
#include "providers/lxd/lxd-internal.h"
#include "providers/lxd/lxd.h"

#include <stdio.h>
#include <string.h>

int lxd_probe(char *version, size_t vlen, char *where, size_t wlen, struct den_err *err)
{
	struct lxd_settings s = { 0 };
	struct lxd_client c;
	json_t *md = NULL;
	int rc;

	if (lxd_open(&s, &c, err) < 0)
		return -1;
	snprintf(where, wlen, "%s", c.socket != NULL ? c.socket : c.where);
	rc = lxd_call(&c, "GET", "/1.0", NULL, &md, "no LXD answers", err);
	if (rc == 0) {
		const char *v = json_string_value(
			json_object_get(json_object_get(md, "environment"), "server_version"));
		snprintf(version, vlen, "%s", v != NULL ? v : "(version not said)");
	}
	json_decref(md);
	lxd_close(&c);
	return rc;
}
