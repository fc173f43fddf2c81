/* SPDX-License-Identifier: MIT */
#include "core/lazylib-internal.h"
#include "core/cleanup.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static int load_locked(struct lazylib *lib, struct den_err *err)
{
	void *handle;

	if (lib->handle != NULL)
		return 0;
	handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		const char *why = dlerror();
		return den_err_set(err, 0,
				   "cannot load %s (%s); install the Debian package %s "
				   "(`make deps` does)",
				   lib->soname, why ? why : "not found", lib->package);
	}
	/* Every name first: no stub may see an entry of a library that then goes away. */
	for (size_t i = 0; i < lib->n; i++) {
		if (dlsym(handle, lib->names[i]) == NULL) {
			dlclose(handle);
			return den_err_set(err, 0,
					   "cannot load %s: it has no %s (too old?); install the "
					   "Debian package %s (`make deps` does)",
					   lib->soname, lib->names[i], lib->package);
		}
	}
	for (size_t i = 0; i < lib->n; i++)
		__atomic_store_n(&lib->fns[i], dlsym(handle, lib->names[i]), __ATOMIC_RELEASE);
	__atomic_store_n(&lib->handle, handle, __ATOMIC_RELEASE);
	return 0;
}

int lazylib_load(struct lazylib *lib, struct den_err *err)
{
	int rc;

	if (__atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE) != NULL)
		return 0;
	pthread_mutex_lock(&load_lock);
	rc = load_locked(lib, err);
	pthread_mutex_unlock(&load_lock);
	return rc;
}

void *lazylib_fn_slow(struct lazylib *lib, size_t i)
{
	static struct den_err err; /* under the lock: 16 KiB is much for a thread's stack */
	static char what[sizeof(err.msg) + 128];

	pthread_mutex_lock(&load_lock);
	if (load_locked(lib, &err) < 0) {
		/* Every entry point loads first (den_curl_load() ...): one did not. */
		snprintf(what, sizeof(what), "%s() ran before its library was loaded: %s",
			 lib->names[i], err.msg);
		den_bug(__FILE__, __LINE__, what);
	}
	pthread_mutex_unlock(&load_lock);
	return lib->fns[i];
}
