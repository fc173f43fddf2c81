/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for box catalogs: a box server is as untrusted as a box
 * archive. `make fuzz FUZZ_TARGET=catalog`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boxes/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const constraints[] = { NULL, "~> 1.0", ">= 2, != 2.1", "= 0" };
	struct catalog c;
	struct den_err err = { 0 };
	const struct catalog_version *v;
	const struct catalog_provider *p;

	if (catalog_parse((const char *)data, size, "fuzz", &c, &err) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(constraints) / sizeof(constraints[0]); i++) {
		if (catalog_select(&c, constraints[i], NULL, NULL, &v, &p, &err) == 0 &&
		    (p->url == NULL || v->version == NULL))
			abort();
		catalog_select(&c, constraints[i], "container", "amd64", &v, &p, &err);
	}
	catalog_free(&c);
	return 0;
}
