/* SPDX-License-Identifier: MIT */
/* `den init [TEMPLATE]`: writes an Envfile in the current folder from a template. */
#include "cmd/cmd.h"
#include "core/embedded.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/suggest.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

const struct cmd_usage cmd_usage_init = {
	.path = "init",
	.operands = { CMD_VALUE_TEMPLATE },
	.opts = {
		CMD_OPT("box", 'b', CMD_VALUE_BOX, "NAME", "use box NAME instead of den/debian-12"),
		CMD_OPT("force", 'f', CMD_VALUE_NONE, NULL, "overwrite an existing Envfile"),
		CMD_OPT("list", 0, CMD_VALUE_NONE, NULL, "list the templates"),
		CMD_OPT("from", 0, CMD_VALUE_FILE, "VAGRANTFILE",
			"convert a Vagrantfile (or a folder's) instead of using a template"),
	},
};

#define DEFAULT_BOX "den/debian-12"
#define BOX_TOKEN "@BOX@"

static const struct den_embedded *find_template(const char *name, struct den_err *err)
{
	const char *names[32];
	size_t n = 0;

	for (const struct den_embedded *t = den_templates; t->name != NULL; t++) {
		if (strcmp(t->name, name) == 0)
			return t;
		if (n < 31)
			names[n++] = t->name;
	}
	names[n] = NULL;
	const char *near = suggest_nearest(name, names);
	if (near != NULL)
		den_err_usage(err,
			      "no template '%s'; did you mean '%s'? (`den init --list` shows "
			      "them)",
			      name, near);
	else
		den_err_usage(err, "no template '%s'; `den init --list` shows the templates", name);
	return NULL;
}

/* A box name goes into YAML unquoted: allow only what box names use. */
static bool plain_box_name(const char *s)
{
	return s[0] != '\0' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-") ==
		       strlen(s);
}

/* The template with every @BOX@ replaced by box. */
static char *render(const struct den_embedded *t, const char *box)
{
	size_t cap = t->len * 2 + strlen(box) * 8 + 1, o = 0;
	char *out = malloc(cap);
	const char *p = (const char *)t->text, *end = p + t->len;

	if (out == NULL)
		return NULL;
	while (p < end) {
		size_t rest = (size_t)(end - p), tok = strlen(BOX_TOKEN), blen = strlen(box);
		if (rest >= tok && memcmp(p, BOX_TOKEN, tok) == 0) {
			if (o + blen + 1 > cap) {
				free(out);
				return NULL;
			}
			memcpy(out + o, box, blen);
			o += blen;
			p += tok;
		} else {
			if (o + 2 > cap) {
				free(out);
				return NULL;
			}
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

int cmd_init(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "box", required_argument, NULL, 'b' },
					      { "list", no_argument, NULL, 'l' },
					      { "from", required_argument, NULL, 'F' },
					      { NULL, 0, NULL, 0 } };
	const char *box = DEFAULT_BOX, *name = "default", *from = NULL;
	bool box_given = false;
	bool force = false;
	int c;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "fb:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'b':
			box = optarg;
			box_given = true;
			break;
		case 'F':
			from = optarg;
			break;
		case 'l':
			for (const struct den_embedded *t = den_templates; t->name != NULL; t++)
				puts(t->name);
			return 0;
		default:
			return den_err_usage(err,
					     "unknown option '%s' for `den init`; see `den "
					     "init --help`",
					     argv[optind - 1]);
		}
	}
	if (from != NULL && (optind < argc || box_given))
		return den_err_usage(err, "--from converts a Vagrantfile: no template and no --box "
					  "with it");
	if (from != NULL)
		return cmd_init_from_vagrantfile(ctx, from, force, err);
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return den_err_usage(err, "`den init` takes one template, got '%s' too",
				     argv[optind]);
	if (!plain_box_name(box))
		return den_err_usage(
			err, "'%s' is not a box name; expected ORG/NAME such as " DEFAULT_BOX, box);
	const struct den_embedded *t = find_template(name, err);
	if (t == NULL)
		return -1;

	cleanup_free char *path = NULL, *text = NULL;
	if (asprintf(&path, "%s/" ENVFILE_NAME, ctx->cwd) < 0)
		return den_err_set(err, ENOMEM, "cannot write the Envfile");
	if (!force && den_exists(path))
		return den_err_set(err, 0, "%s already exists; use --force to overwrite it", path);
	text = render(t, box);
	if (text == NULL)
		return den_err_set(err, ENOMEM, "cannot write the Envfile");
	if (den_write_file_atomic(path, text, 0644, err) < 0)
		return -1;
	den_info("wrote %s from template '%s'; `den up` brings its machines up", path, t->name);
	return 0;
}
