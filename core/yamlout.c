/* SPDX-License-Identifier: MIT */
#include "core/yamlout.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int append(void *arg, unsigned char *data, size_t size)
{
	struct yamlout *y = arg;

	if (size > 0 && den_membuf_write((char *)data, 1, size, &y->out) != size) {
		y->failed = true;
		return 0;
	}
	return 1;
}

void yamlout_event(struct yamlout *y, yaml_event_t *event, int made)
{
	if (!made) {
		y->failed = true;
		return;
	}
	if (y->failed) {
		yaml_event_delete(event);
		return;
	}
	if (!yaml_emitter_emit(&y->e, event))
		y->failed = true;
}

bool yamlout_begin(struct yamlout *y, const char *header)
{
	yaml_event_t e;

	memset(y, 0, sizeof(*y));
	y->out.max = SIZE_MAX;
	if (header != NULL && !append(y, (unsigned char *)header, strlen(header)))
		return false;
	if (!yaml_emitter_initialize(&y->e)) {
		free(y->out.data);
		return false;
	}
	yaml_emitter_set_output(&y->e, append, y);
	yaml_emitter_set_unicode(&y->e, 1);
	yaml_emitter_set_width(&y->e, -1); /* no folded lines */
	yamlout_event(y, &e, yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING));
	yamlout_event(y, &e, yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 1));
	return true;
}

char *yamlout_finish(struct yamlout *y)
{
	yaml_event_t e;

	yamlout_event(y, &e, yaml_document_end_event_initialize(&e, 1));
	yamlout_event(y, &e, yaml_stream_end_event_initialize(&e));
	yaml_emitter_delete(&y->e);
	if (y->failed || y->out.data == NULL) {
		free(y->out.data);
		y->out.data = NULL;
		return NULL;
	}
	return y->out.data;
}

/* Whether YAML 1.1 would read s, written plain, as a bool, null or number. */
static bool looks_typed(const char *s)
{
	static const char *const words[] = { "y",    "n",     "yes",   "no",   "on",
					     "off",  "true",  "false", "null", "~",
					     ".inf", "-.inf", ".nan",  "" };
	char low[8];
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	if (strlen(s) < sizeof(low))
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strcmp(low, words[i]) == 0)
				return true;
	/* A number: [-+]digits[.digits][e[-+]digits], 0x.., 0o..; or 1:20 (YAML 1.1's base 60). */
	const char *p = s + (*s == '-' || *s == '+');
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o'))
		return true;
	size_t digits = strspn(p, "0123456789_");
	if (digits == 0 && !(*p == '.' && isdigit((unsigned char)p[1])))
		return false;
	p += digits;
	if (*p == ':')
		return strspn(p, "0123456789:") == strlen(p);
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789_");
	if (*p == 'e' || *p == 'E') {
		p++;
		p += (*p == '-' || *p == '+');
		p += strspn(p, "0123456789");
	}
	return *p == '\0';
}

static void scalar(struct yamlout *y, const char *text, yaml_scalar_style_t style)
{
	yaml_event_t e;

	yamlout_event(y, &e,
		      yaml_scalar_event_initialize(&e, NULL, NULL, (yaml_char_t *)text,
						   (int)strlen(text), 1, 1, style));
}

static bool is_scalar(const json_t *j)
{
	return !json_is_object(j) && !json_is_array(j);
}

void yamlout_json(struct yamlout *y, const json_t *j)
{
	yaml_event_t e;
	char num[64];

	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		yamlout_event(y, &e,
			      yaml_mapping_start_event_initialize(&e, NULL, NULL, 1,
								  YAML_BLOCK_MAPPING_STYLE));
		json_object_foreach((json_t *)j, k, v)
		{
			if (json_is_null(v))
				continue;
			scalar(y, k, YAML_PLAIN_SCALAR_STYLE);
			yamlout_json(y, v);
		}
		yamlout_event(y, &e, yaml_mapping_end_event_initialize(&e));
	} else if (json_is_array(j)) {
		bool flow = true;
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) flow &=
			is_scalar(v) && !(json_is_string(v) && strchr(json_string_value(v), '\n'));
		yamlout_event(y, &e,
			      yaml_sequence_start_event_initialize(
				      &e, NULL, NULL, 1,
				      flow && json_array_size(j) > 0 ? YAML_FLOW_SEQUENCE_STYLE
								     : YAML_BLOCK_SEQUENCE_STYLE));
		json_array_foreach(j, i, v) yamlout_json(y, v);
		yamlout_event(y, &e, yaml_sequence_end_event_initialize(&e));
	} else if (json_is_string(j)) {
		const char *s = json_string_value(j);
		scalar(y, s,
		       strchr(s, '\n') != NULL ? YAML_LITERAL_SCALAR_STYLE
		       : looks_typed(s)	       ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
					       : YAML_ANY_SCALAR_STYLE);
	} else if (json_is_integer(j)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(j));
		scalar(y, num, YAML_PLAIN_SCALAR_STYLE);
	} else if (json_is_real(j)) {
		snprintf(num, sizeof(num), "%.17g", json_real_value(j));
		scalar(y, num, YAML_PLAIN_SCALAR_STYLE);
	} else if (json_is_boolean(j)) {
		scalar(y, json_is_true(j) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
	} else {
		scalar(y, "null", YAML_PLAIN_SCALAR_STYLE);
	}
}
