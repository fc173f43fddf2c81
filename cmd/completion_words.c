/* SPDX-License-Identifier: MIT */
/*
 * The candidates for the word under the cursor: walks the words before it
 * as cmd/main.c would parse them (global options, the command, its
 * sub-command, its options and their values, its operands), then offers
 * what that position takes. Machine names come from the Envfile of the
 * folder the line works in (-C counts), box names from the store,
 * snapshot names from the machine's provider.
 */
#include "cmd/completion.h"
#include "cmd/machines.h"
#include "boxes/recipe.h"
#include "boxes/store.h"
#include "core/cleanup.h"
#include "core/embedded.h"
#include "core/project.h"
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct line {
	struct den_ctx *ctx;
	const struct den_cmd *cmd;   /* the command, once named */
	const struct cmd_usage *use; /* its usage, or its sub-command's */
	const char *operands[3];     /* the first operands given */
	int n_operands;
	const char *chdir_to; /* -C DIR */
	bool after_dashdash;
	bool unknown; /* a word that is no command or sub-command of den's: offer nothing */
	FILE *out;
	const char *cur;    /* the word being completed (after "--opt=") */
	const char *prefix; /* "--opt=" when the value is completed in the same word */
};

static void offer(struct line *l, const char *word)
{
	if (strncmp(word, l->cur, strlen(l->cur)) == 0)
		fprintf(l->out, "%s%s\n", l->prefix, word);
}

/* The option a word names among the usages that apply, or NULL. */
static const struct cmd_opt *find_opt(const struct line *l, const char *w, const char **inline_val)
{
	const struct cmd_usage *in[3] = { &cmd_usage_global, NULL, NULL };
	char name[64];
	const char *eq;

	in[1] = l->use;
	if (l->cmd != NULL && (l->cmd->flags & PARALLEL))
		in[2] = &cmd_usage_parallel;
	*inline_val = NULL;
	if (w[1] == '-') {
		eq = strchr(w, '=');
		size_t len = eq != NULL ? (size_t)(eq - w - 2) : strlen(w + 2);
		if (len == 0 || len >= sizeof(name))
			return NULL;
		memcpy(name, w + 2, len);
		name[len] = '\0';
		if (eq != NULL)
			*inline_val = eq + 1;
	}
	for (size_t i = 0; i < 3; i++) {
		if (in[i] == NULL)
			continue;
		const struct cmd_opt *o = w[1] == '-' ? cmd_usage_opt(in[i], name, 0)
						      : cmd_usage_opt(in[i], NULL, w[1]);
		if (o != NULL) {
			if (w[1] != '-' && w[2] != '\0')
				*inline_val = w + 2; /* -CDIR */
			return o;
		}
	}
	return NULL;
}

/* -C DIR: the folder the rest of the line works in. */
static bool is_chdir(const struct cmd_opt *o)
{
	return o->letter == 'C' && o->name[0] == '\0';
}

static void offer_opts(struct line *l, const struct cmd_usage *u)
{
	char word[80];

	for (cmd_usage_each_opt(o, u)) {
		if (o->name[0] != '\0')
			snprintf(word, sizeof(word), "--%s", o->name);
		else
			snprintf(word, sizeof(word), "-%c", o->letter);
		offer(l, word);
	}
}

/* The project's Envfile, read quietly; NULL when there is none or it is broken. */
static struct envfile *envfile(struct line *l)
{
	struct den_err err = { 0 };

	if (l->ctx->ef != NULL)
		return l->ctx->ef;
	if (l->chdir_to != NULL) {
		cleanup_free char *dir = NULL;
		if (l->chdir_to[0] == '/')
			dir = strdup(l->chdir_to);
		else if (asprintf(&dir, "%s/%s", l->ctx->cwd, l->chdir_to) < 0)
			dir = NULL;
		if (dir == NULL)
			return NULL;
		free(l->ctx->cwd);
		l->ctx->cwd = steal_pointer(&dir);
	}
	if (cmd_load_envfile(l->ctx, &err) < 0)
		return NULL;
	return l->ctx->ef;
}

static void offer_machines(struct line *l)
{
	struct envfile *ef = envfile(l);
	const char *last_matrix = NULL;

	for (size_t i = 0; ef != NULL && i < ef->n_machines; i++) {
		const struct machine *m = &ef->machines[i];
		/* A matrix's name selects all of its machines (envfile_select), where many may go. */
		if (m->matrix_of != NULL && l->use != NULL && l->use->many &&
		    (last_matrix == NULL || strcmp(last_matrix, m->matrix_of) != 0)) {
			offer(l, m->matrix_of);
			last_matrix = m->matrix_of;
		}
		offer(l, m->name);
	}
}

/* Provisioner step names, after the commas of the word so far. */
static void offer_steps(struct line *l)
{
	struct envfile *ef = envfile(l);
	const char *comma = strrchr(l->cur, ',');
	size_t keep = comma != NULL ? (size_t)(comma - l->cur + 1) : 0;
	char word[512];

	for (size_t i = 0; ef != NULL && i < ef->n_machines; i++)
		for (size_t s = 0; s < ef->machines[i].n_steps; s++) {
			const char *name = ef->machines[i].steps[s].name;
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				for (size_t t = 0; t < ef->machines[j].n_steps && !seen; t++)
					seen = strcmp(ef->machines[j].steps[t].name, name) == 0;
			if (!seen && snprintf(word, sizeof(word), "%.*s%s", (int)keep, l->cur,
					      name) < (int)sizeof(word))
				offer(l, word);
		}
}

static void offer_boxes(struct line *l)
{
	cleanup_free char *home = NULL;
	struct store_entry *list = NULL;
	struct den_err err = { 0 };
	size_t n = 0;

	if (den_home(&home, &err) < 0 || store_list(home, &list, &n, &err) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(list[i].name, list[i - 1].name) != 0) /* sorted by name */
			offer(l, list[i].name);
	store_list_free(list, n);
}

/* The snapshots of the machine named before (or the primary one). */
static void offer_snapshots(struct line *l)
{
	const struct machine *cfg = NULL;
	const struct provider_ops *ops;
	struct den_machine dm;
	struct den_err err = { 0 };
	cleanup_free char *names = NULL;

	if (envfile(l) == NULL ||
	    cmd_one_machine(l->ctx, l->n_operands > 0 ? l->operands[0] : NULL, &cfg, &err) < 0 ||
	    machine_open(l->ctx->root, cfg, &dm, &err) < 0)
		return;
	ops = cmd_created_ops(&dm, &err);
	if (ops != NULL && ops->snapshot_list != NULL && ops->snapshot_list(&dm, &names, &err) == 0)
		for (char *save = NULL, *s = strtok_r(names, "\n", &save); s != NULL;
		     s = strtok_r(NULL, "\n", &save))
			offer(l, s);
	machine_close(&dm);
}

/* Offers what a word of kind v takes; returns the directive for the shell. */
static const char *offer_value(struct line *l, enum cmd_value v)
{
	switch (v) {
	case CMD_VALUE_MACHINE:
		offer_machines(l);
		break;
	case CMD_VALUE_BOX:
		offer_boxes(l);
		break;
	case CMD_VALUE_PROVIDER:
		for (const char *const *p = envfile_provider_names; *p != NULL; p++)
			offer(l, *p);
		break;
	case CMD_VALUE_TEMPLATE:
		for (const struct den_embedded *t = den_templates; t->name != NULL; t++)
			offer(l, t->name);
		break;
	case CMD_VALUE_SNAPSHOT:
		offer_snapshots(l);
		break;
	case CMD_VALUE_RECIPE:
		for (const char *const *r = recipe_names(); *r != NULL; r++)
			offer(l, *r);
		return "files";
	case CMD_VALUE_SHELL:
		offer(l, "bash");
		offer(l, "zsh");
		offer(l, "fish");
		break;
	case CMD_VALUE_STEP:
		offer_steps(l);
		break;
	case CMD_VALUE_COMMAND:
		for (const struct den_cmd *c = den_commands; c->name != NULL; c++)
			offer(l, c->name);
		break;
	case CMD_VALUE_FILE:
		return "files";
	case CMD_VALUE_DIR:
		return "dirs";
	case CMD_VALUE_NONE:
	case CMD_VALUE_WORD:
		break;
	}
	return "words";
}

/* Takes one finished word; sets *value to the option whose value comes next. */
static void take_word(struct line *l, const char *w, const struct cmd_opt **value)
{
	const char *inline_val = NULL;

	if (l->after_dashdash) {
		l->n_operands++;
		return;
	}
	if (strcmp(w, "--") == 0) {
		l->after_dashdash = true;
		return;
	}
	if (w[0] == '-' && w[1] != '\0') {
		const struct cmd_opt *o = find_opt(l, w, &inline_val);
		if (o != NULL && o->value != CMD_VALUE_NONE && inline_val == NULL)
			*value = o;
		else if (o != NULL && is_chdir(o))
			l->chdir_to = inline_val;
		return;
	}
	if (l->cmd == NULL) {
		l->cmd = cmd_find(w);
		l->use = l->cmd != NULL ? cmd_usage_find(w) : NULL;
		l->unknown = l->use == NULL;
		return;
	}
	if (l->use != NULL && l->use->subcommands != NULL) {
		char path[64];
		snprintf(path, sizeof(path), "%s %s", l->use->path, w);
		l->use = cmd_usage_find(path);
		l->unknown = l->use == NULL;
		return;
	}
	if (l->n_operands < 3)
		l->operands[l->n_operands] = w;
	l->n_operands++;
}

/* Offers the sub-commands in u's list. */
static void offer_subcommands(struct line *l, const struct cmd_usage *u)
{
	cleanup_free char *list = strdup(u->subcommands);

	for (char *save = NULL, *s = list != NULL ? strtok_r(list, " ", &save) : NULL; s != NULL;
	     s = strtok_r(NULL, " ", &save))
		offer(l, s);
}

void completion_words(struct den_ctx *ctx, char **words, int n, FILE *out)
{
	struct line l = { .ctx = ctx, .cur = n > 0 ? words[n - 1] : "", .prefix = "" };
	const struct cmd_opt *value = NULL;
	const char *directive = "words";
	char prefix[80], *offered = NULL;
	size_t offered_len = 0;

	/* The candidates wait behind the directive, which is known last. */
	l.out = open_memstream(&offered, &offered_len);
	if (l.out == NULL) {
		fputs("words\n", out);
		return;
	}
	for (int i = 0; i + 1 < n && !l.unknown; i++) {
		if (value != NULL) {
			if (is_chdir(value))
				l.chdir_to = words[i];
			value = NULL;
			continue;
		}
		take_word(&l, words[i], &value);
	}
	if (l.unknown) {
		/* nothing to offer */
	} else if (value != NULL) {
		directive = offer_value(&l, value->value);
	} else if (l.after_dashdash) {
		/* ssh's arguments, exec's or a container's command: the shell's business */
		directive = "files";
	} else if (strncmp(l.cur, "--", 2) == 0 && strchr(l.cur, '=') != NULL) {
		/* --provider=q: the value, with "--provider=" before each candidate */
		const char *inline_val = NULL;
		const struct cmd_opt *o = find_opt(&l, l.cur, &inline_val);
		if (o != NULL && o->value != CMD_VALUE_NONE) {
			snprintf(prefix, sizeof(prefix), "%.*s", (int)(inline_val - l.cur), l.cur);
			l.prefix = prefix;
			l.cur = inline_val;
			/* Words only: a path after "=" is not one the shell completes. */
			offer_value(&l, o->value);
		}
	} else if (l.cur[0] == '-') {
		if (l.use != NULL)
			offer_opts(&l, l.use);
		if (l.cmd != NULL && (l.cmd->flags & PARALLEL))
			offer_opts(&l, &cmd_usage_parallel);
		offer_opts(&l, &cmd_usage_global);
	} else if (l.cmd == NULL) {
		for (const struct den_cmd *c = den_commands; c->name != NULL; c++)
			offer(&l, c->name);
	} else if (l.use->subcommands != NULL) {
		offer_subcommands(&l, l.use);
	} else {
		size_t kinds = 0;
		while (kinds < 3 && l.use->operands[kinds] != CMD_VALUE_NONE)
			kinds++;
		if (kinds > 0 && ((size_t)l.n_operands < kinds || l.use->many))
			directive = offer_value(
				&l,
				l.use->operands[(size_t)l.n_operands < kinds ? (size_t)l.n_operands
									     : kinds - 1]);
	}
	fclose(l.out);
	fprintf(out, "%s\n", directive);
	if (offered != NULL)
		fwrite(offered, 1, offered_len, out);
	free(offered);
}
