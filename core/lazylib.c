/* SPDX-License-Identifier: MIT */
#include "core/lazylib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static __attribute__((noreturn)) void missing(const struct lazylib *lib, const char *what)
{
	fprintf(stderr,
		"den: error: cannot load %s (%s); install the Debian package %s "
		"(`make deps` does)\n",
		lib->soname, what, lib->package);
	_exit(127);
}

void *lazylib_sym(struct lazylib *lib, const char *sym)
{
	void *p;

	pthread_mutex_lock(&load_lock);
	if (lib->handle == NULL) {
		lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
		if (lib->handle == NULL) {
			const char *e = dlerror();
			missing(lib, e ? e : "not found");
		}
	}
	pthread_mutex_unlock(&load_lock);
	dlerror();
	p = dlsym(lib->handle, sym);
	if (p == NULL)
		missing(lib, sym);
	return p;
}
