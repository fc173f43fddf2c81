/* SPDX-License-Identifier: MIT */
/*
 * The Envfile a Vagrantfile's record makes: defaults: from the settings
 * outside any define, one machine per define (or "default", Vagrant's
 * name for the one machine of a Vagrantfile without any), written with
 * libyaml's emitter under a comment listing what was not converted.
 */
#include "vagrantfile/convert-internal.h"
#include "vagrantfile/vagrantfile.h"
#include "core/yamlout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A define's options: primary and autostart are den's too. */
static void machine_options(struct conv *c, const json_t *def, json_t *m)
{
	static const char *const known[] = { "primary", "autostart", NULL };
	const json_t *o = json_object_get(def, "options");
	json_int_t line = json_integer_value(json_object_get(def, "line"));

	for (const char *const *k = known; *k != NULL; k++) {
		const json_t *v = json_object_get(o, *k);
		if (json_is_boolean(v))
			json_object_set(m, *k, (json_t *)v);
		else if (v != NULL)
			conv_left(c, line, "define's %s: not true or false", *k);
	}
	conv_left_keys(c, "define", o, NULL, line, known, "den has no such option");
}

/* A note for each box named by a Vagrant Cloud name, once. */
static void box_note(struct conv *c, const json_t *cfg, json_t *seen)
{
	const json_t *values = json_object_get(json_object_get(cfg, "vm"), "values");
	const char *box = json_string_value(conv_value(values, "box"));

	if (box == NULL || json_object_get(seen, box) != NULL)
		return;
	json_object_set_new(seen, box, json_true());
	conv_note(c, conv_line(values, "box"),
		  "box %s keeps its name, but den does not fetch boxes from Vagrant Cloud: serve "
		  "a catalog for it (den box publish) and set DEN_BOX_SERVER, or add the box once "
		  "with `den box add FILE --name %s`",
		  box, box);
}

/* One comment line per entry; control characters made '?' so none ends the comment. */
static void comment_lines(FILE *b, const char *title, const json_t *lines)
{
	size_t i;
	json_t *l;

	if (json_array_size(lines) == 0)
		return;
	fprintf(b, "# %s\n", title);
	json_array_foreach(lines, i, l)
	{
		char *text = strdup(json_string_value(l));
		if (text == NULL)
			continue;
		for (char *p = text; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		fprintf(b, "#   %s\n", text);
		free(text);
	}
}

/* "Vagrantfile:12: ..." before "Vagrantfile:100: ...": by line, then as they came. */
static int by_line(const void *a, const void *b)
{
	const char *x = json_string_value(*(json_t *const *)a),
		   *y = json_string_value(*(json_t *const *)b);
	const char *cx = strchr(x, ':'), *cy = strchr(y, ':');
	long lx = cx != NULL ? strtol(cx + 1, NULL, 10) : 0,
	     ly = cy != NULL ? strtol(cy + 1, NULL, 10) : 0;

	return lx < ly ? -1 : lx > ly ? 1 : (x < y ? -1 : x > y);
}

static void sort_lines(json_t *lines)
{
	size_t n = json_array_size(lines), i;
	json_t **items = calloc(n + 1, sizeof(*items)), *v;

	if (items == NULL)
		return;
	json_array_foreach(lines, i, v) items[i] = json_incref(v);
	qsort(items, n, sizeof(*items), by_line);
	json_array_clear(lines);
	for (i = 0; i < n; i++)
		json_array_append_new(lines, items[i]);
	free(items);
}

static char *emit(const json_t *doc, struct conv *c, struct den_err *err)
{
	char *head = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&head, &len);
	struct yamlout y;

	if (f == NULL) {
		den_err_set(err, ENOMEM, "cannot write the Envfile");
		return NULL;
	}
	fprintf(f,
		"# Made from %s by `den init --from` (den %s); docs/envfile.md\n"
		"# says what each key does.\n",
		c->shown, DEN_VERSION);
	comment_lines(f, "den could not convert these, and left them out:", c->left);
	comment_lines(f, "Worth knowing:", c->notes);
	if (fclose(f) != 0 || !yamlout_begin(&y, head)) {
		free(head);
		den_err_set(err, ENOMEM, "cannot write the Envfile");
		return NULL;
	}
	free(head);
	yamlout_json(&y, doc);
	char *text = yamlout_finish(&y);
	if (text == NULL)
		den_err_set(err, ENOMEM, "cannot write the Envfile (libyaml's emitter refused it)");
	return text;
}

int vagrantfile_convert(const json_t *record, const char *shown, const char *rebase,
			struct vagrantfile_result *out, struct den_err *err)
{
	struct conv c = { shown, rebase, json_array(), json_array() };
	const json_t *global = json_object_get(record, "global");
	const json_t *defines = json_object_get(record, "machines");
	json_t *doc = json_pack("{s:i}", "den", 1), *machines = json_object(),
	       *seen = json_object();
	json_t *hostname = NULL, *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	json_array_foreach(json_object_get(record, "notes"), i, v)
		conv_note(&c, json_integer_value(json_object_get(v, "line")), "%s",
			  json_string_value(json_object_get(v, "what")));
	box_note(&c, global, seen);
	if (json_array_size(defines) == 0) {
		json_object_set_new(machines, "default", conv_config(&c, global, false, &hostname));
	} else {
		json_t *d = conv_config(&c, global, true, &hostname);
		if (json_object_size(d) > 0)
			json_object_set(doc, "defaults", d);
		json_decref(d);
		json_array_foreach(defines, i, v)
		{
			const json_t *cfg = json_object_get(v, "config");
			json_t *unused = NULL;
			box_note(&c, cfg, seen);
			json_t *m = conv_config(&c, cfg, false, &unused);
			json_decref(unused);
			if (hostname != NULL && json_object_get(m, "hostname") == NULL)
				json_object_set(m, "hostname", hostname);
			machine_options(&c, v, m);
			json_object_set_new(machines, json_string_value(json_object_get(v, "name")),
					    m);
		}
	}
	json_object_set(doc, "machines", machines);
	out->n_machines = json_object_size(machines);
	sort_lines(c.left);
	sort_lines(c.notes);
	out->envfile = emit(doc, &c, err);
	json_decref(doc), json_decref(machines), json_decref(seen), json_decref(hostname);
	if (out->envfile == NULL) {
		json_decref(c.left);
		json_decref(c.notes);
		return -1;
	}
	out->left = c.left;
	out->notes = c.notes;
	return 0;
}

void vagrantfile_result_free(struct vagrantfile_result *r)
{
	free(r->envfile);
	json_decref(r->left);
	json_decref(r->notes);
	memset(r, 0, sizeof(*r));
}
