/* SPDX-License-Identifier: MIT */
/*
 * The manual pages, made from what `den help` shows: den(1) from the
 * command table and the global options, den-CMD(1) from each command's
 * help text (its usage lines become the SYNOPSIS, the rest the
 * DESCRIPTION) and its usage's options (cmd/usage.h). `den help --man DIR`
 * writes them; the build runs it, so a page cannot drift from den.
 */
#include "cmd/manual.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Text as roff reads it: backslashes and hyphens escaped, no line taken for a request. */
static void roff_text(FILE *f, const char *s, size_t len)
{
	bool line_start = true;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (line_start && (c == '.' || c == '\''))
			fputs("\\&", f);
		if (c == '\\')
			fputs("\\e", f);
		else if (c == '-')
			fputs("\\-", f);
		else
			fputc(c, f);
		line_start = c == '\n';
	}
}

static void roff_line(FILE *f, const char *s)
{
	roff_text(f, s, strlen(s));
	fputc('\n', f);
}

/* "-p, --provider P" in bold and italics. */
static void roff_opt_tag(FILE *f, const struct cmd_opt *o)
{
	if (o->letter != 0)
		fprintf(f, "\\fB\\-%c\\fR%s", o->letter, o->name[0] != '\0' ? ", " : "");
	if (o->name[0] != '\0') {
		fputs("\\fB\\-\\-", f);
		roff_text(f, o->name, strlen(o->name));
		fputs("\\fR", f);
	}
	if (o->meta != NULL) {
		fputs(" \\fI", f);
		roff_text(f, o->meta, strlen(o->meta));
		fputs("\\fR", f);
	}
	fputc('\n', f);
}

static void roff_opts(FILE *f, const struct cmd_usage *u)
{
	for (cmd_usage_each_opt(o, u)) {
		fputs(".TP\n", f);
		roff_opt_tag(f, o);
		roff_line(f, o->help);
	}
}

/* One paragraph of help text: filled prose, then any indented lines as they are. */
static void roff_paragraph(FILE *f, const char *p, size_t len)
{
	const char *indented = NULL;

	/* The first line that starts with a space. */
	for (size_t at = 0; at < len && indented == NULL;) {
		if (p[at] == ' ')
			indented = p + at;
		const char *nl = memchr(p + at, '\n', len - at);
		at = nl != NULL ? (size_t)(nl - p) + 1 : len;
	}
	if (indented != p) {
		fputs(".PP\n", f);
		roff_text(f, p, (size_t)((indented != NULL ? indented : p + len) - p));
		if ((indented != NULL ? indented : p + len)[-1] != '\n')
			fputc('\n', f);
	}
	if (indented != NULL) {
		fputs(".PP\n.nf\n", f);
		roff_text(f, indented, (size_t)(p + len - indented));
		if (p[len - 1] != '\n')
			fputc('\n', f);
		fputs(".fi\n", f);
	}
}

/* The help text split at blank lines: "usage:" paragraphs to SYNOPSIS, others to DESCRIPTION. */
static void roff_help(FILE *f, const char *text, bool synopsis)
{
	const char *p = text;

	while (*p != '\0') {
		const char *end = strstr(p, "\n\n");
		size_t len = end != NULL ? (size_t)(end - p + 1) : strlen(p);
		bool usage = strncmp(p, "usage: ", 7) == 0;
		if (usage && synopsis) {
			/* "usage: den up ..." and its continuation lines, as they are */
			const char *body = p + 7;
			fputs(".nf\n", f);
			roff_text(f, body, len - 7);
			if (body[len - 8] != '\n')
				fputc('\n', f);
			fputs(".fi\n", f);
		} else if (!usage && !synopsis && len > 0) {
			roff_paragraph(f, p, len);
		}
		p += len;
		while (*p == '\n')
			p++;
	}
}

static void roff_header(FILE *f, const char *page, int section, const char *name,
			const char *summary)
{
	char upper[64];
	size_t i;

	for (i = 0; page[i] != '\0' && i + 1 < sizeof(upper); i++)
		upper[i] = (char)(page[i] >= 'a' && page[i] <= 'z' ? page[i] - 'a' + 'A' : page[i]);
	upper[i] = '\0';
	fprintf(f, ".\\\" made by `den help --man`, from den's own help; do not edit\n");
	fputs(".TH ", f);
	roff_text(f, upper, strlen(upper));
	fprintf(f, " %d \"\" \"den %s\" \"den Manual\"\n.SH NAME\n", section, DEN_VERSION);
	roff_text(f, name, strlen(name));
	fputs(" \\- ", f);
	roff_line(f, summary);
}

static void roff_see_also(FILE *f)
{
	fputs(".SH SEE ALSO\n\\fBden\\fR(1), \\fBEnvfile\\fR(5), \\fBden\\-box\\fR(5)\n", f);
}

static const char parallel_text[] =
	"Several machines go side by side, each line prefixed with its name; one failing\n"
	"stops none of the others, and the end says ok or the error for each.\n";

static void write_command_page(FILE *f, const struct den_cmd *c, const char *text)
{
	const struct cmd_usage *u = cmd_usage_find(c->name);
	char page[64];

	snprintf(page, sizeof(page), "den-%s", c->name);
	roff_header(f, page, 1, page, c->summary);
	fputs(".SH SYNOPSIS\n", f);
	roff_help(f, text, true);
	fputs(".SH DESCRIPTION\n", f);
	roff_help(f, text, false);
	if (c->flags & PARALLEL) {
		fputs(".PP\n", f);
		roff_text(f, parallel_text, strlen(parallel_text));
	}
	size_t at = 0;
	const struct cmd_usage *sub = cmd_usage_next_sub_with_opts(c->name, &at);
	if (cmd_usage_has_opts(u) || (c->flags & PARALLEL) || sub != NULL)
		fputs(".SH OPTIONS\n", f);
	if (cmd_usage_has_opts(u))
		roff_opts(f, u);
	if (c->flags & PARALLEL)
		roff_opts(f, &cmd_usage_parallel);
	for (; sub != NULL; sub = cmd_usage_next_sub_with_opts(c->name, &at)) {
		fputs(".SS \"den ", f);
		roff_text(f, sub->path, strlen(sub->path));
		fputs("\"\n", f);
		roff_opts(f, sub);
	}
	fputs(".PP\nThe options every command takes are in \\fBden\\fR(1).\n", f);
	fputs(".SH EXIT STATUS\n0 when it worked, 1 when it failed, 2 for bad usage or a bad "
	      "Envfile.\n",
	      f);
	roff_see_also(f);
}

static const char *const environment[][2] = {
	{ "DEN_HOME",
	  "Where boxes, keys and the index of projects live (default $XDG_DATA_HOME/den, "
	  "that is ~/.local/share/den)." },
	{ "DEN_ENVFILE", "The name of the Envfile to look for (default Envfile)." },
	{ "DEN_BOX_SERVER",
	  "The server `den box add ORG/NAME` and an Envfile's box: ORG/NAME look the box's "
	  "catalog up on, as SERVER/ORG/NAME." },
	{ "DEN_BUILD_CACHE",
	  "Where `den box build` caches boxes (default $DEN_HOME/build-cache)." },
	{ "DEN_BOX_MAX_SIZE", "The most a box may unpack to (default 64G)." },
	{ "DEN_DOWNLOAD_STALL_SECONDS",
	  "Seconds a download may go without a byte before den gives up on it and resumes." },
	{ "LXD_DIR", "The LXD to talk to, for provider: lxd (as lxc reads it)." },
	{ "NO_COLOR", "Set and not empty: no colour." },
};

static void write_den_page(FILE *f)
{
	roff_header(f, "den", 1, "den", "declarative development machines from an Envfile");
	fputs(".SH SYNOPSIS\n.B den\n[\\fB\\-C\\fR \\fIDIR\\fR] [\\fB\\-v\\fR | \\fB\\-q\\fR] "
	      "[\\fB\\-\\-json\\fR] [\\fB\\-\\-no\\-color\\fR]\n.I COMMAND\n[\\fIARGS\\fR...]\n",
	      f);
	fputs(".SH DESCRIPTION\n.B den\nreads the project's\n.I Envfile\n"
	      "(YAML), fetches the versioned boxes its machines start from, starts every\n"
	      "machine through a provider (den's own KVM monitor, QEMU, den's own container\n"
	      "runtime, or LXD), waits for SSH and runs shell, file and Ansible provisioners.\n"
	      "Each command has its own page: \\fBden\\-up\\fR(1) for \\fBden up\\fR.\n",
	      f);
	fputs(".SH COMMANDS\n", f);
	for (int plumbing = 0; plumbing <= 1; plumbing++) {
		if (plumbing)
			fputs(".SS \"Plumbing (for den itself and scripts)\"\n", f);
		for (const struct den_cmd *c = den_commands; c->name != NULL; c++) {
			if (!!(c->flags & PLUMBING) != plumbing)
				continue;
			fputs(".TP\n\\fBden\\-", f);
			roff_text(f, c->name, strlen(c->name));
			fputs("\\fR(1)\n", f);
			roff_line(f, c->summary);
		}
	}
	fputs(".SH OPTIONS\nThese go before the command or after it.\n", f);
	roff_opts(f, &cmd_usage_global);
	fputs(".SH ENVIRONMENT\n", f);
	for (size_t i = 0; i < sizeof(environment) / sizeof(environment[0]); i++) {
		fputs(".TP\n.B ", f);
		roff_line(f, environment[i][0]);
		roff_line(f, environment[i][1]);
	}
	fputs(".SH FILES\n.TP\n.I Envfile\nThe project's machines (\\fBEnvfile\\fR(5)).\n"
	      ".TP\n.I Envfile.lock\nThe boxes the project resolved: committed, so a team gets "
	      "the same.\n"
	      ".TP\n.I .den/\nThe machines' state; never committed.\n"
	      ".TP\n.I $DEN_HOME/boxes/\nThe box store (\\fBden\\-box\\fR(5)).\n",
	      f);
	fputs(".SH EXIT STATUS\n0 when it worked, 1 when it failed, 2 for bad usage or a bad "
	      "Envfile.\n",
	      f);
	fputs(".SH SEE ALSO\n\\fBEnvfile\\fR(5), \\fBden\\-box\\fR(5)", f);
	for (const struct den_cmd *c = den_commands; c->name != NULL; c++) {
		fputs(", \\fBden\\-", f);
		roff_text(f, c->name, strlen(c->name));
		fputs("\\fR(1)", f);
	}
	fputs("\n", f);
}

/* Writes DIR/NAME whole (den_write_atomic): a half-written page is never left. */
static int write_page(const char *dir, const char *name, const struct den_cmd *c,
		      struct den_err *err)
{
	cleanup_free char *path = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return den_err_set(err, ENOMEM, "cannot make the manual page %s", name);
	if (c == NULL)
		write_den_page(f);
	else
		write_command_page(f, c, cmd_help_text(c->name));
	if (fclose(f) != 0) {
		free(text);
		return den_err_set(err, ENOMEM, "cannot make the manual page %s", name);
	}
	int rc = asprintf(&path, "%s/%s", dir, name) < 0
			 ? den_err_set(err, ENOMEM, "cannot make the manual page %s", name)
			 : den_write_atomic(path, text, len, 0644, err);
	free(text);
	return rc;
}

int manual_write_all(const char *dir, struct den_err *err)
{
	char name[64];

	if (den_mkdir_p(dir, 0755, err) < 0 || write_page(dir, "den.1", NULL, err) < 0)
		return -1;
	for (const struct den_cmd *c = den_commands; c->name != NULL; c++) {
		if (cmd_help_text(c->name) == NULL)
			return den_err_set(err, 0, "`den %s` has no help text for its manual page",
					   c->name);
		snprintf(name, sizeof(name), "den-%s.1", c->name);
		if (write_page(dir, name, c, err) < 0)
			return -1;
	}
	return 0;
}
