/* SPDX-License-Identifier: MIT */
/* libcrypto's table (core/lazylib.h): the digests boxes and provisioners need, and base64. */
#include <openssl/evp.h>

#include "core/lazylib-internal.h"

#define DEN_CRYPTO_FUNCS(X, V)                                                                     \
	X(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())                                                \
	X(void, EVP_MD_CTX_free, (EVP_MD_CTX * c), (c))                                            \
	X(const EVP_MD *, EVP_get_digestbyname, (const char *n), (n))                              \
	X(int, EVP_DigestInit_ex, (EVP_MD_CTX * c, const EVP_MD *t, ENGINE *e), (c, t, e))         \
	X(int, EVP_DigestUpdate, (EVP_MD_CTX * c, const void *d, size_t n), (c, d, n))             \
	X(int, EVP_DigestFinal_ex, (EVP_MD_CTX * c, unsigned char *md, unsigned int *s),           \
	  (c, md, s))                                                                              \
	X(int, EVP_EncodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n))

LAZYLIB_DEFINE(lazylib_crypto, DEN_CRYPTO_FUNCS, DEN_SONAME_CRYPTO, DEN_PACKAGE_CRYPTO)
