/* SPDX-License-Identifier: MIT */
/* libcrypto, loaded on first use (core/lazylib.h): the digests boxes need. */
#include <openssl/evp.h>

#include "core/lazylib.h"

static struct lazylib crypto = { "libcrypto.so.3", "libssl3", NULL };

LAZYLIB_STUB(crypto, EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
LAZYLIB_STUB_VOID(crypto, EVP_MD_CTX_free, (EVP_MD_CTX * c), (c))
LAZYLIB_STUB(crypto, const EVP_MD *, EVP_get_digestbyname, (const char *n), (n))
LAZYLIB_STUB(crypto, int, EVP_DigestInit_ex, (EVP_MD_CTX * c, const EVP_MD *t, ENGINE *e),
	     (c, t, e))
LAZYLIB_STUB(crypto, int, EVP_DigestUpdate, (EVP_MD_CTX * c, const void *d, size_t n), (c, d, n))
LAZYLIB_STUB(crypto, int, EVP_DigestFinal_ex, (EVP_MD_CTX * c, unsigned char *md, unsigned int *s),
	     (c, md, s))
