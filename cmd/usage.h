/* SPDX-License-Identifier: MIT */
#ifndef DEN_CMD_USAGE_H
#define DEN_CMD_USAGE_H

/*
 * What each command and sub-command takes: its options with a line of
 * help each, and what its words are. It lives beside the command's parser
 * (cmd/up.c defines cmd_usage_up), so the two are read together; the
 * lint tests/lint/usage.sh fails when a file parses an option its usage
 * does not name, or names one it does not parse. Shell completion
 * (`den completion`) and the manual pages (`den help --man`) are made
 * from it, so neither drifts from what den accepts.
 */

#include <stdbool.h>
#include <stddef.h>

/* What a word is: how it completes, and what a manual calls it. */
enum cmd_value {
	CMD_VALUE_NONE,	    /* an option without a value; no operands */
	CMD_VALUE_WORD,	    /* free text: nothing to complete */
	CMD_VALUE_FILE,	    /* a host file */
	CMD_VALUE_DIR,	    /* a host folder */
	CMD_VALUE_MACHINE,  /* a machine (or matrix) name of the Envfile */
	CMD_VALUE_BOX,	    /* a box name in the store */
	CMD_VALUE_PROVIDER, /* container, qemu, kvm, lxd */
	CMD_VALUE_TEMPLATE, /* a `den init` template */
	CMD_VALUE_SNAPSHOT, /* a snapshot of the machine named before it */
	CMD_VALUE_RECIPE,   /* a `den box build` recipe, or a recipe file */
	CMD_VALUE_SHELL,    /* bash, zsh, fish */
	CMD_VALUE_STEP,	    /* provisioner steps of the Envfile, comma-separated */
	CMD_VALUE_COMMAND,  /* a den command */
};

struct cmd_opt {
	const char *name;     /* long form, without "--"; NULL ends a list */
	char letter;	      /* short form, or 0 */
	enum cmd_value value; /* CMD_VALUE_NONE: a flag */
	const char *meta;     /* the value's name in help and manuals ("P") */
	const char *help;     /* one line for the manual */
};

/* One option, in a usage's opts (the lint finds its name right after the parenthesis). */
#define CMD_OPT(name, letter, value, meta, help)                                                   \
	{                                                                                          \
		(name), (letter), (value), (meta), (help)                                          \
	}

#define CMD_MAX_OPTS 24

struct cmd_usage {
	const char *path;	    /* "up", "box add" */
	const char *subcommands;    /* "add list ..." for a command made of them, else NULL */
	enum cmd_value operands[3]; /* its words in order; the last repeats when many */
	bool many;
	struct cmd_opt opts[CMD_MAX_OPTS];
};

/* Every usage, commands and sub-commands, ended by NULL (cmd/usages.c). */
extern const struct cmd_usage *const cmd_usages[];

/* Options every command takes (-C, -v, -q, --json, --no-color, --help). */
extern const struct cmd_usage cmd_usage_global;

/* Options of the commands whose machines go side by side (--no-parallel, --jobs). */
extern const struct cmd_usage cmd_usage_parallel;

/* The usage of "up" or "box add"; NULL when there is none. */
const struct cmd_usage *cmd_usage_find(const char *path);

/* Each option of u, in order: for (cmd_usage_each_opt(o, u)) ... */
#define cmd_usage_each_opt(o, u)                                                                   \
	const struct cmd_opt *o = (u)->opts;                                                       \
	o < (u)->opts + CMD_MAX_OPTS && o->name != NULL;                                           \
	o++

/* Whether u has any option. */
bool cmd_usage_has_opts(const struct cmd_usage *u);

/*
 * The sub-command usages of command cmd that have options ("box add" for
 * "box"), one per call: *at starts at 0 and is advanced; NULL after the last.
 */
const struct cmd_usage *cmd_usage_next_sub_with_opts(const char *cmd, size_t *at);

/* The option of u named name (long form), or with that letter when name is NULL. */
const struct cmd_opt *cmd_usage_opt(const struct cmd_usage *u, const char *name, char letter);

#endif
