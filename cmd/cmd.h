/* SPDX-License-Identifier: MIT */
#ifndef DEN_CMD_CMD_H
#define DEN_CMD_CMD_H

/*
 * What every command gets from cmd/main.c. A command is
 *	int cmd_NAME(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
 * argv[0] is the command's name; global options (-C, -v, -q, --json,
 * --no-color) are already taken out. The table's flags say what main sets
 * up first: NEED_ENVFILE finds and reads the Envfile into ctx->ef;
 * NEED_LOCK also takes the project lock.
 */

#include <jansson.h>
#include <stdbool.h>

#include "core/envfile.h"
#include "cmd/parallel.h"
#include "cmd/usage.h"
#include "core/err.h"
#include "core/log.h"

enum cmd_flags {
	NEED_ENVFILE = 1 << 0, /* find and read the Envfile */
	NEED_LOCK = 1 << 1,    /* take .den/env.lock (implies NEED_ENVFILE) */
	REPORTS = 1 << 2,      /* accepts --json */
	PLUMBING = 1 << 3,     /* for den itself and scripts; listed apart in `den help` */
	PARALLEL = 1 << 4,     /* its machines side by side: --no-parallel, --jobs N (parallel.h) */
};

struct den_ctx {
	const char *self;	       /* path of the running den, for re-exec */
	char *cwd;		       /* working directory after -C */
	bool json;		       /* --json: machine-readable output on stdout */
	bool color;		       /* colour on stdout */
	char *root;		       /* project root (NEED_ENVFILE) */
	char *envfile_path;	       /* absolute path of the Envfile (NEED_ENVFILE) */
	struct envfile *ef;	       /* the Envfile, read and checked (NEED_ENVFILE) */
	int lock_fd;		       /* held project lock (NEED_LOCK), else -1 */
	struct parallel_opts parallel; /* PARALLEL commands: how their machines run */
};

struct den_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
	unsigned flags;	     /* enum cmd_flags */
	const char *summary; /* one line for `den help` */
};

/* The command table (cmd/main.c). */
extern const struct den_cmd den_commands[];
const struct den_cmd *cmd_find(const char *name);

/* Full help of a command (cmd/help.c); NULL when it has none. */
const char *cmd_help_text(const char *name);

/* Finds and reads the Envfile into ctx (what NEED_ENVFILE does), for sub-commands. */
int cmd_load_envfile(struct den_ctx *ctx, struct den_err *err);

/* True when progress bars may be drawn: stderr is a terminal and -q was not given. */
bool cmd_progress(void);

/* Prints j on stdout, indented, and drops the reference. */
int cmd_print_json(json_t *j, struct den_err *err);

/* Getopt wrapper: resets getopt for argv, which starts at the command name. */
void cmd_getopt_reset(void);

int cmd_help(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_version(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_init(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_validate(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_status(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_box_build(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_box_publish(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_box_update(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_box_outdated(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_box_prune(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_box_package(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_box_push(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_box_warm(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
struct store_entry;
/* Records a box just added in the project's Envfile.lock, when a machine uses it. */
int box_record_in_project(struct den_ctx *ctx, const struct store_entry *e, struct den_err *err);
/* `den box add` with no box: every box the Envfile needs, as Envfile.lock says. */
int box_add_project(struct den_ctx *ctx, struct den_err *err);
/* `den init --from VAGRANTFILE` (cmd/init_vagrantfile.c). */
int cmd_init_from_vagrantfile(struct den_ctx *ctx, const char *from, bool force,
			      struct den_err *err);
int cmd_box(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_container(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_net(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_up(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_provision(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_vmm(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_lxd(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_exec(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_upload(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_halt(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_destroy(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_ssh(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_ssh_config(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_port(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_reload(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_suspend(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_resume(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_snapshot(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_rsync(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_global_status(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_completion(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_doctor(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);
int cmd_not_yet(int argc, char **argv, struct den_ctx *ctx, struct den_err *err);

#endif
