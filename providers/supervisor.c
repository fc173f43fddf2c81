/* SPDX-License-Identifier: MIT */
/* Waiting for a machine's detached supervisor (a container's or den's VMM) to come up. */
#include "providers/provider.h"
#include "core/cleanup.h"
#include "core/control.h"
#include "core/fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int provider_wait_control(struct den_machine *dm, pid_t pid, const char *log_name, int timeout_ms,
			  struct den_err *err)
{
	cleanup_free char *sock = provider_path(dm, "control.sock");
	char tail[2048];

	if (sock == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	for (int waited = 0; waited < timeout_ms; waited += 5) {
		json_t *reply = NULL;
		int st;
		if (control_request(sock, "status", &reply, err) == 0) {
			json_decref(reply);
			return 0;
		}
		den_err_clear(err);
		if (waitpid(pid, &st, WNOHANG) == pid) {
			cleanup_free char *log = provider_path(dm, log_name);
			tail[0] = '\0';
			if (log != NULL)
				den_read_tail(log, 8, tail, sizeof(tail));
			return den_err_set(err, 0,
					   "machine %s did not start; the end of %s/%s:\n%s",
					   dm->cfg->name, dm->dir, log_name, tail);
		}
		usleep(5000);
	}
	kill(pid, SIGKILL);
	return den_err_set(err, 0, "machine %s: its supervisor did not answer on %s within %d s",
			   dm->cfg->name, sock, timeout_ms / 1000);
}
