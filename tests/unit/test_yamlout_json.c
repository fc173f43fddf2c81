/* SPDX-License-Identifier: MIT */
/*
 * yamlout_json (core/yamlout.c): JSON written as YAML that reads back, by
 * libyaml's parser, as the same values: strings YAML would take for
 * another type are quoted, multi-line text stays whole.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/yamlout.h"

static char *to_yaml(const char *json)
{
	struct yamlout y;
	json_t *j = json_loads(json, 0, NULL);

	cr_assert_not_null(j, "%s", json);
	cr_assert(yamlout_begin(&y, "# head\n"));
	yamlout_json(&y, j);
	json_decref(j);
	char *text = yamlout_finish(&y);
	cr_assert_not_null(text);
	return text;
}

/* The style libyaml's parser reads the first scalar value of key in text with. */
static yaml_scalar_style_t style_of(const char *text, const char *key, char *value, size_t n)
{
	yaml_parser_t p;
	yaml_event_t e;
	bool next = false, done = false;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	cr_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	while (!done && yaml_parser_parse(&p, &e)) {
		if (e.type == YAML_SCALAR_EVENT) {
			if (next) {
				style = e.data.scalar.style;
				snprintf(value, n, "%s", (const char *)e.data.scalar.value);
				done = true;
			}
			next = strcmp((const char *)e.data.scalar.value, key) == 0;
		}
		done |= e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	cr_assert(done, "no %s in %s", key, text);
	return style;
}

Test(yamlout_json, strings_that_look_typed_are_quoted_others_plain)
{
	static const struct {
		const char *key, *json_value;
		bool quoted;
	} cases[] = {
		{ "version", "\"1.0\"", true },
		{ "yes", "\"yes\"", true },
		{ "off", "\"Off\"", true },
		{ "null", "\"null\"", true },
		{ "int", "\"8080\"", true },
		{ "exp", "\"1e3\"", true },
		{ "hex", "\"0x1f\"", true },
		{ "sexa", "\"1:20\"", true },
		{ "ip", "\"192.168.56.10\"", false },
		{ "size", "\"1024M\"", false },
		{ "box", "\"debian/bookworm64\"", false },
		{ "word", "\"web\"", false },
	};
	char value[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char json[256];
		snprintf(json, sizeof(json), "{\"%s\": %s}", cases[i].key, cases[i].json_value);
		char *text = to_yaml(json);
		yaml_scalar_style_t st = style_of(text, cases[i].key, value, sizeof(value));
		cr_expect_eq(st != YAML_PLAIN_SCALAR_STYLE, cases[i].quoted, "%s: %s", cases[i].key,
			     text);
		char want[256];
		snprintf(want, sizeof(want), "%.*s", (int)strlen(cases[i].json_value) - 2,
			 cases[i].json_value + 1);
		cr_expect_str_eq(value, want, "%s reads back as itself", cases[i].key);
		free(text);
	}
}

Test(yamlout_json, numbers_and_booleans_are_plain_nulls_skipped_text_literal)
{
	char value[256];
	char *text =
		to_yaml("{\"n\": 42, \"b\": true, \"gone\": null, \"script\": "
			"\"apt-get update\\napt-get install -y nginx\\n\", \"l\": [1, \"a\"]}");

	cr_expect(strncmp(text, "# head\n", 7) == 0, "the header comes first: %s", text);
	cr_expect_eq(style_of(text, "n", value, sizeof(value)), YAML_PLAIN_SCALAR_STYLE);
	cr_expect_str_eq(value, "42");
	cr_expect_eq(style_of(text, "b", value, sizeof(value)), YAML_PLAIN_SCALAR_STYLE);
	cr_expect_str_eq(value, "true");
	cr_expect(strstr(text, "gone") == NULL, "null values are left out: %s", text);
	cr_expect_eq(style_of(text, "script", value, sizeof(value)), YAML_LITERAL_SCALAR_STYLE);
	cr_expect_str_eq(value, "apt-get update\napt-get install -y nginx\n");
	cr_expect(strstr(text, "l: [1, a]") != NULL, "scalar lists in flow style: %s", text);
	free(text);
}
