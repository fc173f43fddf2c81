/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_SSHCFG_H
#define DEN_CORE_SSHCFG_H

/*
 * Values den writes into an ssh_config Host block (`den ssh-config`) or
 * onto OpenSSH's command line (`den ssh`): the login user, the host, the
 * key and known_hosts paths, read back from a machine's state. OpenSSH
 * splits config lines on whitespace and parses quotes and backslashes,
 * so a newline in a user name is a new config line (a ProxyCommand run
 * on the host). Such values are refused, never quoted.
 */

#include "core/err.h"

enum sshcfg_kind {
	SSHCFG_WORD, /* a user or host name: letters, digits, '.', '_', '-', ':' */
	SSHCFG_PATH, /* an absolute path: no whitespace, quotes, '\\', '$' or '%' */
};

/*
 * 0 when value may go into an ssh_config line or an ssh argument as it
 * is; else err names the machine and the field ("SSH user") and why. A
 * value holding a control character (C0, DEL, C1) or invalid UTF-8 is
 * not shown in the message; a path with a space says to move it.
 */
int sshcfg_value_check(const char *machine, const char *field, const char *value,
		       enum sshcfg_kind kind, struct den_err *err);

#endif
