/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_SSH_INTERNAL_H
#define DEN_CORE_SSH_INTERNAL_H

/* The session behind struct den_ssh, shared by core/ssh.c and core/ssh_sftp.c. */

#include <libssh/libssh.h>
#include <stdbool.h>
#include <libssh/sftp.h>

#include "core/ssh.h"

struct den_ssh {
	ssh_session session;
	sftp_session sftp; /* opened on the first upload */
	bool sftp_broken;  /* it failed in a way that may have broken it: open anew */
	char *home;	   /* the login user's home, once asked */
};

#endif
