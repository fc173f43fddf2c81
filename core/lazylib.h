/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_LAZYLIB_H
#define DEN_CORE_LAZYLIB_H

/*
 * Heavy libraries (libcurl, libarchive, libcrypto, later libssh and
 * libslirp) are loaded on first use, not at start-up: linked normally they
 * cost den ~5 ms on every run (docs/decisions.md), while `den status` has
 * a 5 ms budget in all. Each library gets a stub file (boxes/ or core/lazy_*.c)
 * that defines the library's functions under their own names; the first
 * call loads the library with dlopen and jumps to the real function.
 * Callers write plain libcurl/libarchive code.
 */

struct lazylib {
	const char *soname;  /* "libcurl.so.4" */
	const char *package; /* Debian package shipping it, named in the message */
	void *handle;	     /* dlopen handle once loaded */
};

/*
 * The address of sym in lib, loading lib on first use. A library that
 * cannot be loaded is an installation fault, like a missing library at
 * start-up: den says which package to install and exits 127.
 */
void *lazylib_sym(struct lazylib *lib, const char *sym);

/*
 * Defines `ret name params` as a stub that forwards args to the real
 * function of lib, resolved once.
 */
#define LAZYLIB_STUB(lib, ret, name, params, args)                                                 \
	ret name params                                                                            \
	{                                                                                          \
		static ret(*fp_) params;                                                           \
		ret(*f_) params = __atomic_load_n(&fp_, __ATOMIC_ACQUIRE);                         \
		if (f_ == NULL) {                                                                  \
			f_ = (ret(*) params)lazylib_sym(&(lib), #name);                            \
			__atomic_store_n(&fp_, f_, __ATOMIC_RELEASE);                              \
		}                                                                                  \
		return f_ args;                                                                    \
	}

/* Same for functions returning void. */
#define LAZYLIB_STUB_VOID(lib, name, params, args)                                                 \
	void name params                                                                           \
	{                                                                                          \
		static void(*fp_) params;                                                          \
		void(*f_) params = __atomic_load_n(&fp_, __ATOMIC_ACQUIRE);                        \
		if (f_ == NULL) {                                                                  \
			f_ = (void(*) params)lazylib_sym(&(lib), #name);                           \
			__atomic_store_n(&fp_, f_, __ATOMIC_RELEASE);                              \
		}                                                                                  \
		f_ args;                                                                           \
	}

#endif
