/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_LAZYLIB_INTERNAL_H
#define DEN_CORE_LAZYLIB_INTERNAL_H

/* For the stub files only (core/lazy_*.c, boxes/lazy_*.c): see core/lazylib.h. */

#include "core/lazylib.h"

/* Entry i of lib's table for a stub: loads lib, or stops den as a bug. */
void *lazylib_fn_slow(struct lazylib *lib, size_t i);

static inline void *lazylib_fn(struct lazylib *lib, size_t i)
{
	void *f = __atomic_load_n(&lib->fns[i], __ATOMIC_ACQUIRE);

	return __builtin_expect(f != NULL, 1) ? f : lazylib_fn_slow(lib, i);
}

/*
 * In a stub file, after its list FUNCS(X, V): the table `lib` and the
 * stubs. X(ret, name, (params), (args)) entries get a generated stub; V(name)
 * entries (variadic functions) a table entry only, and the file writes
 * their stub with LAZYLIB_FN(name). GNU C lets a void stub return its
 * void call.
 */
#define LAZYLIB_DEFINE(lib, FUNCS, soname_, package_)                                              \
	enum { FUNCS(LAZYLIB_INDEX_, LAZYLIB_VINDEX_) LAZYLIB_N_ };                                \
	static const char *const lazylib_names_[] = { FUNCS(LAZYLIB_NAME_, LAZYLIB_VNAME_) };      \
	static void *lazylib_fns_[LAZYLIB_N_];                                                     \
	struct lazylib lib = { .soname = soname_,                                                  \
			       .package = package_,                                                \
			       .names = lazylib_names_,                                            \
			       .fns = lazylib_fns_,                                                \
			       .n = LAZYLIB_N_ };                                                  \
	static struct lazylib *const lazylib_self_ = &lib;                                         \
	FUNCS(LAZYLIB_STUB_, LAZYLIB_NONE_)

/* The address of name (a V entry) in this file's table, as a void *. */
#define LAZYLIB_FN(name) lazylib_fn(lazylib_self_, LAZYLIB_I_##name)

#define LAZYLIB_INDEX_(ret, name, params, args) LAZYLIB_I_##name,
#define LAZYLIB_VINDEX_(name) LAZYLIB_I_##name,
#define LAZYLIB_NAME_(ret, name, params, args) #name,
#define LAZYLIB_VNAME_(name) #name,
#define LAZYLIB_NONE_(name)
#define LAZYLIB_STUB_(ret, name, params, args)                                                     \
	ret name params                                                                            \
	{                                                                                          \
		return ((ret(*) params)lazylib_fn(lazylib_self_, LAZYLIB_I_##name))args;           \
	}

#endif
