/* SPDX-License-Identifier: MIT */
#include "core/yamlout.h"

#include <stdint.h>
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
