/* SPDX-License-Identifier: MIT */
/* libcurl's table (core/lazylib.h): box and catalog downloads, LXD's REST API. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <stdarg.h>

#include "core/lazylib-internal.h"

#define DEN_CURL_FUNCS(X, V)                                                                       \
	X(CURLcode, curl_global_init, (long flags), (flags))                                       \
	X(CURL *, curl_easy_init, (void), ())                                                      \
	X(CURLcode, curl_easy_perform, (CURL * c), (c))                                            \
	X(void, curl_easy_cleanup, (CURL * c), (c))                                                \
	X(void, curl_easy_reset, (CURL * c), (c))                                                  \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s))  \
	X(void, curl_slist_free_all, (struct curl_slist * l), (l))                                 \
	X(const char *, curl_easy_strerror, (CURLcode rc), (rc))                                   \
	X(char *, curl_easy_escape, (CURL * c, const char *s, int n), (c, s, n))                   \
	X(void, curl_free, (void *p), (p))                                                         \
	V(curl_easy_setopt)                                                                        \
	V(curl_easy_getinfo)

LAZYLIB_DEFINE(lazylib_curl, DEN_CURL_FUNCS, DEN_SONAME_CURL, DEN_PACKAGE_CURL)

typedef CURLcode (*setopt_fn)(CURL *, CURLoption, ...);
typedef CURLcode (*getinfo_fn)(CURL *, CURLINFO, ...);

/*
 * The variadic two: setopt takes one argument whose type the option's
 * number range gives (long, pointer, curl_off_t, blob pointer); getinfo
 * always takes a pointer.
 */
CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	setopt_fn f = (setopt_fn)LAZYLIB_FN(curl_easy_setopt);
	va_list ap;
	CURLcode rc;

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
	getinfo_fn f = (getinfo_fn)LAZYLIB_FN(curl_easy_getinfo);
	va_list ap;
	CURLcode rc;

	va_start(ap, info);
	rc = f(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
