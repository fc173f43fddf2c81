/* SPDX-License-Identifier: MIT */
/* libcurl, loaded on first use (core/lazylib.h). */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <stdarg.h>

#include "core/lazylib.h"

static struct lazylib curl = { "libcurl.so.4", "libcurl4", NULL };

LAZYLIB_STUB(curl, CURLcode, curl_global_init, (long flags), (flags))
LAZYLIB_STUB(curl, CURL *, curl_easy_init, (void), ())
LAZYLIB_STUB(curl, CURLcode, curl_easy_perform, (CURL * c), (c))
LAZYLIB_STUB_VOID(curl, curl_easy_cleanup, (CURL * c), (c))
LAZYLIB_STUB(curl, const char *, curl_easy_strerror, (CURLcode rc), (rc))

/*
 * The variadic two: setopt takes one argument whose type the option's
 * number range gives (long, pointer, curl_off_t, blob pointer); getinfo
 * always takes a pointer.
 */
CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	static CURLcode (*fp)(CURL *, CURLoption, ...);
	CURLcode (*f)(CURL *, CURLoption, ...) = __atomic_load_n(&fp, __ATOMIC_ACQUIRE);
	va_list ap;
	CURLcode rc;

	if (f == NULL) {
		f = (CURLcode(*)(CURL *, CURLoption, ...))lazylib_sym(&curl, "curl_easy_setopt");
		__atomic_store_n(&fp, f, __ATOMIC_RELEASE);
	}
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		rc = f(c, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_OFF_T)
		rc = f(c, opt, va_arg(ap, void *)); /* data and function pointers */
	else if (opt < CURLOPTTYPE_BLOB)
		rc = f(c, opt, va_arg(ap, curl_off_t));
	else
		rc = f(c, opt, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	static CURLcode (*fp)(CURL *, CURLINFO, ...);
	CURLcode (*f)(CURL *, CURLINFO, ...) = __atomic_load_n(&fp, __ATOMIC_ACQUIRE);
	va_list ap;
	CURLcode rc;

	if (f == NULL) {
		f = (CURLcode(*)(CURL *, CURLINFO, ...))lazylib_sym(&curl, "curl_easy_getinfo");
		__atomic_store_n(&fp, f, __ATOMIC_RELEASE);
	}
	va_start(ap, info);
	rc = f(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
