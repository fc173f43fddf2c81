/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_EMBEDDED_H
#define DEN_CORE_EMBEDDED_H

/*
 * Text files built into den by CMake (cmake/embed.cmake): Envfile
 * templates (templates/NAME.yml), box recipes (boxes/recipes/NAME.yml) and
 * the files of den's VM boxes (boxes/vm-guest/), so
 * den needs no data files at run time.
 */

#include <stddef.h>

struct den_embedded {
	const char *name;	   /* file name without .yml */
	const unsigned char *text; /* the file's bytes, NUL-terminated */
	size_t len;
};

extern const struct den_embedded den_templates[]; /* ends with a NULL name */
extern const struct den_embedded den_recipes[];	  /* ends with a NULL name */
/* Files den installs into the VM boxes it builds (boxes/vm-guest/, full names). */
extern const struct den_embedded den_vm_guest[];
/* den's Ruby stand-in for Vagrant's configuration (vagrantfile/recorder.rb). */
extern const struct den_embedded den_vagrantfile[];

#endif
