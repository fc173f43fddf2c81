/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_ENVFILE_DUMP_H
#define DEN_CORE_ENVFILE_DUMP_H

#include <jansson.h>
#include "core/envfile.h"

/* The whole model as JSON (a new reference), or NULL when out of memory. */
json_t *envfile_to_json(const struct envfile *ef);

/* One provision step as JSON (a new reference): its kind and every setting. */
json_t *envfile_step_to_json(const struct prov_step *s);

#endif
