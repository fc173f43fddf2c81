/* SPDX-License-Identifier: MIT */
/* Whether a machine up has its private networks' addresses (network.h). */
#include "providers/network/network.h"
#include "core/cleanup.h"
#include "core/envfile.h"
#include "core/ssh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int network_check_addresses(struct den_ssh *ssh, const struct machine *cfg, struct den_err *err)
{
	char *cmd = NULL;
	size_t len = 0;
	int status = -1;
	FILE *f;

	if (cfg->n_networks == 0)
		return 0;
	if ((f = open_memstream(&cmd, &len)) == NULL)
		return den_err_set(err, ENOMEM, "machine %s", cfg->name);
	/*
	 * /proc/net/fib_trie names each local address ("|-- ADDRESS"), in any
	 * guest, with no program of its own; networkd may set them just after sshd starts.
	 */
	fputs("i=0; while [ $i -lt 100 ]; do ok=1;", f);
	for (size_t i = 0; i < cfg->n_networks; i++)
		fprintf(f, " grep -q '|-- %s$' /proc/net/fib_trie || ok=;", cfg->networks[i].ip);
	fputs(" [ -n \"$ok\" ] && exit 0; i=$((i + 1)); sleep 0.1; done; exit 1", f);
	if (fclose(f) != 0) {
		free(cmd);
		return den_err_set(err, ENOMEM, "machine %s", cfg->name);
	}
	int rc = den_ssh_exec(ssh, cmd, NULL, NULL, &status, err);
	free(cmd);
	if (rc < 0)
		return den_err_wrap(err, "machine %s: cannot look at its private network addresses",
				    cfg->name);
	if (status != 0)
		return den_err_set(
			err, 0,
			"machine %s: its private network address %s%s did not appear in "
			"10 s; den sets it in den's containers and in VMs whose box has "
			"den's seed hook (`den box build`); other boxes need it set by a "
			"provisioner",
			cfg->name, cfg->networks[0].ip, cfg->n_networks > 1 ? " (or another)" : "");
	return 0;
}
