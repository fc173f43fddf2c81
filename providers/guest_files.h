/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_GUEST_FILES_H
#define DEN_PROVIDERS_GUEST_FILES_H

/*
 * Files den writes into a machine before it boots, the same whichever
 * provider starts it (container, lxd): sshd's settings for a box whose
 * init starts sshd, and /etc/hosts.
 */

/* sshd_config.d/den.conf: a comment, then the machine's listen lines (if any), then these. */
#define GUEST_SSHD_HEADER "# Written by den at each up: the machine's SSH as den reaches it.\n"
#define GUEST_SSHD_SETTINGS                                                                        \
	"HostKey /etc/ssh/ssh_host_ed25519_key\nUsePAM no\nPermitRootLogin prohibit-password\n"

/* /etc/hosts: printf format, the machine's host name for %s; other machines may follow. */
#define GUEST_HOSTS_FORMAT "127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost\n"

#endif
