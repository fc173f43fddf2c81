/* SPDX-License-Identifier: MIT */
/*
 * den's entry point: global options, the command table (git-style: the
 * flags drive the shared setup), and the only place that prints errors
 * and picks exit codes: 0 ok, 1 failed, 2 bad usage or bad Envfile.
 */
#include "cmd/cmd.h"
#include "core/cleanup.h"
#include "core/lock.h"
#include "core/project.h"
#include "core/suggest.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_usage cmd_usage_global = {
	.path = "",
	.opts = {
		CMD_OPT("", 'C', CMD_VALUE_DIR, "DIR", "act as if den was started in DIR"),
		CMD_OPT("verbose", 'v', CMD_VALUE_NONE, NULL, "say more; -vv says what den does"),
		CMD_OPT("quiet", 'q', CMD_VALUE_NONE, NULL, "say only errors"),
		CMD_OPT("json", 0, CMD_VALUE_NONE, NULL,
			"machine-readable output on stdout, for commands that report"),
		CMD_OPT("no-color", 0, CMD_VALUE_NONE, NULL, "no colour (NO_COLOR=1 does the same)"),
		CMD_OPT("help", 'h', CMD_VALUE_NONE, NULL, "show the command's help"),
		CMD_OPT("version", 0, CMD_VALUE_NONE, NULL, "print den's version"),
	},
};

const struct cmd_usage cmd_usage_parallel = {
	.path = "",
	.opts = {
		CMD_OPT("no-parallel", 0, CMD_VALUE_NONE, NULL,
			"one machine after another, not side by side"),
		CMD_OPT("jobs", 0, CMD_VALUE_WORD, "N", "at most N machines at once"),
	},
};

const struct den_cmd den_commands[] = {
	/* Machines */
	{ "up", cmd_up, NEED_LOCK | PARALLEL, "create and start machines, then provision them" },
	{ "halt", cmd_halt, NEED_LOCK | PARALLEL, "stop machines" },
	{ "reload", cmd_reload, NEED_LOCK | PARALLEL, "halt and start machines again" },
	{ "destroy", cmd_destroy, NEED_LOCK | PARALLEL,
	  "stop machines and delete all their state" },
	{ "suspend", cmd_suspend, NEED_LOCK | PARALLEL, "pause machines, keeping their memory" },
	{ "resume", cmd_resume, NEED_LOCK | PARALLEL, "continue suspended machines" },
	{ "snapshot", cmd_snapshot, NEED_LOCK, "save, restore, list and delete snapshots" },
	{ "status", cmd_status, NEED_ENVFILE | REPORTS,
	  "show the state of this project's machines" },
	{ "global-status", cmd_global_status, REPORTS, "show every machine of every project" },
	{ "port", cmd_port, NEED_ENVFILE | REPORTS, "show a machine's forwarded ports" },
	/* Access */
	{ "ssh", cmd_ssh, NEED_ENVFILE, "log in to a machine, or run a command there" },
	{ "ssh-config", cmd_ssh_config, NEED_ENVFILE, "print OpenSSH settings for a machine" },
	{ "exec", cmd_exec, NEED_ENVFILE | REPORTS,
	  "run a command on machines in parallel, with a summary" },
	{ "upload", cmd_upload, NEED_ENVFILE, "copy files from the host into a machine" },
	{ "rsync", cmd_rsync, NEED_LOCK | PARALLEL, "sync rsync-type folders into machines" },
	{ "provision", cmd_provision, NEED_LOCK, "run provisioners on running machines" },
	/* Boxes */
	{ "box", cmd_box, REPORTS,
	  "add, list, remove, update, prune, build, publish and package boxes" },
	/* Providers */
	{ "lxd", cmd_lxd, 0, "make den and a remote LXD trust each other (provider: lxd)" },
	/* Project */
	{ "init", cmd_init, 0, "write an Envfile from a template" },
	{ "validate", cmd_validate, NEED_ENVFILE | REPORTS,
	  "check the Envfile and show any mistakes" },
	{ "version", cmd_version, REPORTS, "print den's version" },
	{ "help", cmd_help, 0, "show help for den or for a command" },
	{ "completion", cmd_completion, 0,
	  "print the shell completion script for bash, zsh or fish" },
	{ "doctor", cmd_doctor, REPORTS,
	  "say what this host can run, and what to do about the rest" },
	/* Plumbing */
	{ "vmm", cmd_vmm, PLUMBING, "run a VM in the foreground (den's own VMM)" },
	{ "container", cmd_container, PLUMBING,
	  "run a container in the foreground (den's own runtime)" },
	{ "net", cmd_net, PLUMBING, "serve den's user-mode network to a QEMU machine" },
	{ NULL, NULL, 0, NULL },
};

const struct den_cmd *cmd_find(const char *name)
{
	for (const struct den_cmd *c = den_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cmd_not_yet(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	(void)argc;
	(void)ctx;
	return den_err_set(err, 0,
			   "`den %s` is not implemented yet; see `den help` for the commands that "
			   "work in this version",
			   argv[0]);
}

int cmd_print_json(json_t *j, struct den_err *err)
{
	int rc;

	if (j == NULL)
		return den_err_set(err, ENOMEM, "cannot build the JSON output");
	rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	json_decref(j);
	if (rc < 0 || fputc('\n', stdout) == EOF)
		return den_err_set(err, errno, "cannot write to standard output");
	return 0;
}

bool cmd_progress(void)
{
	return isatty(STDERR_FILENO) && den_log_level() >= DEN_LOG_INFO;
}

void cmd_getopt_reset(void)
{
	optind = 0; /* glibc: 0 re-initialises getopt, for a fresh argv */
	opterr = 0; /* commands report unknown options themselves */
}

static const char *const global_usage =
	"usage: den [-C DIR] [-v | -q] [--json] [--no-color] COMMAND [ARGS...]\n";

struct global_opts {
	const char *chdir_to;
	int verbosity;
	bool json;
	bool no_color;
	bool help;
	bool version;
};

/* Options that may come before or after the command name. Returns 1 when taken. */
static int take_common(const char *a, struct global_opts *g)
{
	if (strcmp(a, "--json") == 0)
		g->json = true;
	else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
		g->verbosity = DEN_LOG_QUIET;
	else if (strcmp(a, "--verbose") == 0)
		g->verbosity = g->verbosity < DEN_LOG_DEBUG ? g->verbosity + 1 : DEN_LOG_DEBUG;
	else if (a[0] == '-' && a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1))
		g->verbosity = (int)strlen(a + 1) + 1 > DEN_LOG_DEBUG ? DEN_LOG_DEBUG
								      : (int)strlen(a + 1) + 1;
	else if (strcmp(a, "--no-color") == 0)
		g->no_color = true;
	else
		return 0;
	return 1;
}

static int parse_global(int argc, char **argv, struct global_opts *g, int *cmd_index,
			struct den_err *err)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (take_common(a, g))
			continue;
		if (strcmp(a, "-C") == 0) {
			if (++i == argc)
				return den_err_usage(err, "-C needs a folder\n%s", global_usage);
			g->chdir_to = argv[i];
		} else if (strncmp(a, "-C", 2) == 0) {
			g->chdir_to = a + 2;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			g->help = true;
		} else if (strcmp(a, "--version") == 0) {
			g->version = true;
		} else {
			return den_err_usage(err, "unknown option '%s'\n%s", a, global_usage);
		}
	}
	*cmd_index = i;
	return 0;
}

static int unknown_command(const char *name, struct den_err *err)
{
	const char *names[64];
	size_t n = 0;

	for (const struct den_cmd *c = den_commands; c->name != NULL && n < 63; c++)
		names[n++] = c->name;
	names[n] = NULL;
	const char *near = suggest_nearest(name, names);
	if (near != NULL)
		return den_err_usage(err, "'%s' is not a den command; did you mean '%s'?", name,
				     near);
	return den_err_usage(err, "'%s' is not a den command; see `den help`", name);
}

/*
 * Takes the common options out of the command's arguments (up to "--"),
 * so `den status --json` and `den up -v` work. Sets *help for -h/--help.
 */
static int strip_common(int *argc, char **argv, struct global_opts *g)
{
	int out = 1;
	bool after_dashdash = false;

	for (int i = 1; i < *argc; i++) {
		if (!after_dashdash && strcmp(argv[i], "--") == 0)
			after_dashdash = true;
		if (!after_dashdash && take_common(argv[i], g))
			continue;
		if (!after_dashdash &&
		    (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0))
			g->help = true;
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

/*
 * Takes --no-parallel and --jobs N (--jobs=N) out of a PARALLEL command's
 * arguments (up to "--") into ctx->parallel.
 */
static int strip_parallel(int *argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	int out = 1;
	bool after_dashdash = false;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *n = NULL;
		if (!after_dashdash && strcmp(a, "--") == 0)
			after_dashdash = true;
		if (!after_dashdash && strcmp(a, "--no-parallel") == 0) {
			ctx->parallel.serial = true;
			continue;
		}
		if (!after_dashdash && strcmp(a, "--jobs") == 0) {
			if (++i == *argc)
				return den_err_usage(err, "--jobs needs a number of machines");
			n = argv[i];
		} else if (!after_dashdash && strncmp(a, "--jobs=", 7) == 0) {
			n = a + 7;
		}
		if (n != NULL) {
			char *end;
			long v = strtol(n, &end, 10);
			if (*n == '\0' || *end != '\0' || v < 1 || v > 1024)
				return den_err_usage(err,
						     "--jobs takes a number of machines from 1 "
						     "to 1024, not '%s'",
						     n);
			ctx->parallel.jobs = (unsigned)v;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

int cmd_load_envfile(struct den_ctx *ctx, struct den_err *err)
{
	cleanup_free char *shown = NULL;
	const char *name = project_envfile_name();

	if (ctx->ef != NULL)
		return 0;
	if (project_find_root(ctx->cwd, name, &ctx->root, err) < 0)
		return -1;
	if (asprintf(&ctx->envfile_path, "%s/%s", strcmp(ctx->root, "/") == 0 ? "" : ctx->root,
		     name) < 0) {
		ctx->envfile_path = NULL;
		return den_err_set(err, ENOMEM, "cannot read the Envfile");
	}
	shown = project_shown_path(ctx->cwd, ctx->envfile_path);
	if (shown == NULL)
		return den_err_set(err, ENOMEM, "cannot read the Envfile");
	return envfile_load(ctx->envfile_path, shown, ctx->root, &ctx->ef, err);
}

static int run(int argc, char **argv, struct den_ctx *ctx, struct global_opts *g,
	       struct den_err *err)
{
	int cmd_index = 0;
	char cwd[PATH_MAX];

	if (parse_global(argc, argv, g, &cmd_index, err) < 0)
		return -1;
	ctx->json = g->json;
	if (g->version) {
		char *v[] = { "version", NULL };
		return cmd_version(1, v, ctx, err);
	}
	if (g->help) {
		char *v[] = { "help", cmd_index < argc ? argv[cmd_index] : NULL, NULL };
		return cmd_help(cmd_index < argc ? 2 : 1, v, ctx, err);
	}
	if (cmd_index == argc)
		return den_err_usage(err, "no command given\n%sRun `den help` to see the commands.",
				     global_usage);

	const struct den_cmd *cmd = cmd_find(argv[cmd_index]);
	if (cmd == NULL)
		return unknown_command(argv[cmd_index], err);
	argc -= cmd_index;
	argv += cmd_index;
	strip_common(&argc, argv, g);
	if ((cmd->flags & PARALLEL) && strip_parallel(&argc, argv, ctx, err) < 0)
		return -1;
	ctx->json = g->json;
	ctx->color = ctx->color && !g->no_color;
	den_log_setup((enum den_log_level)g->verbosity, den_log_color() && !g->no_color);
	ctx->parallel.color = den_log_color() && !g->no_color;
	if (g->help) {
		char *v[] = { "help", (char *)cmd->name, NULL };
		return cmd_help(2, v, ctx, err);
	}
	if (g->json && !(cmd->flags & REPORTS))
		return den_err_usage(err, "`den %s` has no --json output", cmd->name);
	if (g->chdir_to != NULL && chdir(g->chdir_to) < 0)
		return den_err_usage(err, "cannot change to folder %s: %s", g->chdir_to,
				     strerror(errno));
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return den_err_set(err, errno, "cannot tell the current folder");
	ctx->cwd = strdup(cwd);
	if (ctx->cwd == NULL)
		return den_err_set(err, ENOMEM, "out of memory");
	if ((cmd->flags & (NEED_ENVFILE | NEED_LOCK)) && cmd_load_envfile(ctx, err) < 0)
		return -1;
	if ((cmd->flags & NEED_LOCK) && project_lock(ctx->root, cmd->name, &ctx->lock_fd, err) < 0)
		return -1;
	return cmd->fn(argc, argv, ctx, err);
}

static void print_error(const struct den_err *err, bool color, bool json)
{
	static const char *const kinds[] = { "", "failed", "usage", "envfile" };
	const char *red = color ? "\033[1;31m" : "", *off = color ? "\033[0m" : "";

	if (json && !err->in_report) {
		json_t *j = json_pack("{s:{s:s,s:s}}", "error", "kind", kinds[err->kind], "message",
				      err->msg);
		if (j != NULL) {
			json_dumpf(j, stdout, JSON_INDENT(2));
			fputc('\n', stdout);
			json_decref(j);
		}
	}
	fflush(stdout);
	if (err->kind == DEN_ERR_ENVFILE) {
		/* Compiler-style lines: "Envfile:12:5: message". */
		fprintf(stderr, "%s%s\n", err->msg, off);
		return;
	}
	fprintf(stderr, "den: %serror:%s %s\n", red, off, err->msg);
}

int main(int argc, char **argv)
{
	struct den_ctx ctx = { .self = argv[0], .lock_fd = -1 };
	struct global_opts g = { .verbosity = DEN_LOG_INFO };
	struct den_err err = { 0 };
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	bool plain = (no_color != NULL && no_color[0] != '\0') || (term && !strcmp(term, "dumb"));
	int rc;

	ctx.color = !plain && isatty(STDOUT_FILENO);
	den_log_setup(DEN_LOG_INFO, !plain && isatty(STDERR_FILENO));
	rc = run(argc, argv, &ctx, &g, &err);
	if (fflush(stdout) == EOF && rc == 0)
		rc = den_err_set(&err, errno, "cannot write to standard output");
	if (rc < 0)
		print_error(&err, den_log_color() && !g.no_color, ctx.json);

	project_unlock(&ctx.lock_fd);
	envfile_free(ctx.ef);
	free(ctx.root);
	free(ctx.envfile_path);
	free(ctx.cwd);
	if (rc >= 0)
		return 0;
	return err.kind == DEN_ERR_FAILED ? 1 : 2;
}
