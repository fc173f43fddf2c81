/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_YAMLOUT_H
#define DEN_CORE_YAMLOUT_H

/*
 * One YAML document written into memory with libyaml's emitter, for what
 * den writes for other programs (the cloud-init seed, the Ansible
 * inventory): the caller emits events between yamlout_begin and
 * yamlout_finish; the first failure sticks, so no event needs checking.
 */

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <yaml.h>

#include "core/membuf.h"

struct yamlout {
	yaml_emitter_t e;
	struct den_membuf out; /* the text so far */
	bool failed;	       /* an event libyaml refused, or no memory */
};

/* Starts the stream and the document, after header (a comment line, or NULL). */
bool yamlout_begin(struct yamlout *y, const char *header);

/* Emits the event that made (an *_event_initialize result) filled in. */
void yamlout_event(struct yamlout *y, yaml_event_t *event, int made);

/*
 * Emits a JSON value as YAML: objects as block mappings in their keys'
 * order, arrays of scalars in flow style ([a, b]) and others as blocks,
 * strings plain unless YAML would read them as another type (then
 * quoted), multi-line strings literal (|). null is skipped in mappings.
 */
void yamlout_json(struct yamlout *y, const json_t *j);

/* Ends the document and the stream: the text (malloc'd), or NULL when anything failed. */
char *yamlout_finish(struct yamlout *y);

#endif
