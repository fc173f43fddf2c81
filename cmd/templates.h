/* SPDX-License-Identifier: MIT */
#ifndef DEN_CMD_TEMPLATES_H
#define DEN_CMD_TEMPLATES_H

/* The Envfile templates of templates/, built into den by CMake (templates.c). */

#include <stddef.h>

struct den_template {
	const char *name;	   /* file name without .yml */
	const unsigned char *text; /* the file, with @BOX@ where the box goes */
	size_t len;
};

extern const struct den_template den_templates[]; /* ends with a NULL name */

#endif
