/* SPDX-License-Identifier: MIT */
/* A machine's supervisor joining its private network's switch (switch_serve.h). */
#include "providers/network/switch_serve.h"
#include "providers/network/switch.h"
#include "core/control.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int switch_join(const char *control_path, const char *name, const uint8_t mac[6],
		const struct switch_dhcp *dhcp, int type, struct den_err *err)
{
	char text[SWITCH_MAC_TEXT];
	int pair[2] = { -1, -1 };
	json_t *reply = NULL;

	switch_mac_text(mac, text);
	json_t *req = json_pack("{s:s, s:s, s:s}", "cmd", "attach", "name", name, "mac", text);
	if (req != NULL && dhcp != NULL &&
	    json_object_set_new(req, "dhcp",
				json_pack("{s:s, s:i}", "server", dhcp->server, "prefix",
					  (int)dhcp->prefix)) < 0)
		json_decref(req), req = NULL;
	if (req == NULL)
		return den_err_set(err, EINVAL, "machine %s: cannot ask the switch", name);
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, pair) < 0) {
		json_decref(req);
		return den_err_set(err, errno, "machine %s: cannot make its network port", name);
	}
	/* The switch's end goes with the request; the machine keeps the other. */
	int rc = control_call_passing(control_path, req, pair[1], 3000, &reply, err);
	json_decref(req);
	close(pair[1]);
	if (rc == 0 && !json_is_true(json_object_get(reply, "ok"))) {
		const char *why = json_string_value(json_object_get(reply, "error"));
		rc = den_err_set(err, 0, "machine %s: the switch at %s refused it: %s", name,
				 control_path, why != NULL ? why : "no reason given");
	}
	json_decref(reply);
	if (rc < 0) {
		close(pair[0]);
		return -1;
	}
	return pair[0];
}
