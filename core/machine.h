/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_MACHINE_H
#define DEN_CORE_MACHINE_H

/*
 * A machine at run time: its Envfile settings, where its state lives, and
 * what state.json recorded. This is what providers and provisioners get.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/envfile.h"
#include "core/err.h"

enum machine_state {
	MACHINE_NOT_CREATED, /* no state for it */
	MACHINE_RUNNING,
	MACHINE_STOPPED,   /* halted; disk and upper layer kept */
	MACHINE_SUSPENDED, /* paused with its memory kept */
	MACHINE_ABORTED,   /* its supervisor died without a halt */
	MACHINE_UNKNOWN,   /* state.json names a provider this den cannot ask */
};

/* What state.json holds (DESIGN.md §4). Strings are malloc'd. */
struct machine_record {
	char *provider; /* provider that created the machine */
	char *id;	/* provider's id for it */
	char *box;	/* box name and version it was made from */
	char *box_version;
	int ssh_port;	   /* host port forwarded to the guest's sshd, 0 when none */
	pid_t supervisor;  /* pid of `den vmm run` / `den container run` / qemu, 0 when none */
	long long created; /* unix time of first up */
	char *ssh_user;	   /* login user inside */
	char *ssh_key; /* a box's own key (Vagrant's insecure key) until den's is in; NULL: den's */
	bool running;  /* up, and not halted since: a dead supervisor then means "aborted" */
	char *ports_json; /* the forwarded ports as started (auto_correct may move them), JSON */
	char *ssh_host; /* address of ssh_port and the ports: NULL is 127.0.0.1 (a remote LXD's) */
};

struct den_machine {
	const struct machine *cfg; /* from the Envfile */
	const char *root;	   /* project root */
	char *dir;		   /* $DEN_HOME/projects/ID/machines/NAME */
	bool exists;		   /* state.json was found */
	struct machine_record rec; /* valid when exists */
};

/* "not created", "running", ... for people; "not_created" ... for --json. */
const char *machine_state_name(enum machine_state s);
const char *machine_state_id(enum machine_state s);

/* Fills dm for cfg; reads state.json when there is one. */
int machine_open(const char *root, const struct machine *cfg, struct den_machine *dm,
		 struct den_err *err);

/*
 * Does path name dm's state folder: where it is, or PROJECT/.den/machines/NAME
 * where an older den kept it (its supervisors' command lines still say so)?
 */
bool machine_is_dir(const struct den_machine *dm, const char *path);

/* A login name den accepts: letters, digits, '_', '.', '-', at most 32, no leading '-'. */
bool machine_is_user_name(const char *s);

/* Writes dm->rec to state.json atomically (creating the machine folder). */
int machine_save(struct den_machine *dm, struct den_err *err);

/* Frees what machine_open allocated. */
void machine_close(struct den_machine *dm);

#endif
