/* SPDX-License-Identifier: MIT */
/*
 * libcrypto's table (core/lazylib.h): the digests boxes and provisioners
 * need, base64, and the X.509 calls of den's LXD client certificate and
 * its pinned server certificates (providers/lxd/tls.c).
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/lazylib-internal.h"

#define DEN_CRYPTO_FUNCS(X, V)                                                                     \
	X(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())                                                \
	X(void, EVP_MD_CTX_free, (EVP_MD_CTX * c), (c))                                            \
	X(const EVP_MD *, EVP_get_digestbyname, (const char *n), (n))                              \
	X(int, EVP_DigestInit_ex, (EVP_MD_CTX * c, const EVP_MD *t, ENGINE *e), (c, t, e))         \
	X(int, EVP_DigestUpdate, (EVP_MD_CTX * c, const void *d, size_t n), (c, d, n))             \
	X(int, EVP_DigestFinal_ex, (EVP_MD_CTX * c, unsigned char *md, unsigned int *s),           \
	  (c, md, s))                                                                              \
	X(int, EVP_EncodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n))      \
	X(int, EVP_DecodeBlock, (unsigned char *t, const unsigned char *f, int n), (t, f, n))      \
	X(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name,                                              \
	  (OSSL_LIB_CTX * l, const char *n, const char *q), (l, n, q))                             \
	X(void, EVP_PKEY_CTX_free, (EVP_PKEY_CTX * c), (c))                                        \
	X(int, EVP_PKEY_keygen_init, (EVP_PKEY_CTX * c), (c))                                      \
	X(int, EVP_PKEY_CTX_set_group_name, (EVP_PKEY_CTX * c, const char *n), (c, n))             \
	X(int, EVP_PKEY_generate, (EVP_PKEY_CTX * c, EVP_PKEY * *k), (c, k))                       \
	X(void, EVP_PKEY_free, (EVP_PKEY * k), (k))                                                \
	X(const EVP_MD *, EVP_sha384, (void), ())                                                  \
	X(X509 *, X509_new, (void), ())                                                            \
	X(void, X509_free, (X509 * x), (x))                                                        \
	X(int, X509_set_version, (X509 * x, long v), (x, v))                                       \
	X(ASN1_INTEGER *, X509_get_serialNumber, (X509 * x), (x))                                  \
	X(int, ASN1_INTEGER_set_uint64, (ASN1_INTEGER * a, uint64_t r), (a, r))                    \
	X(ASN1_TIME *, X509_getm_notBefore, (const X509 *x), (x))                                  \
	X(ASN1_TIME *, X509_getm_notAfter, (const X509 *x), (x))                                   \
	X(ASN1_TIME *, X509_gmtime_adj, (ASN1_TIME * t, long adj), (t, adj))                       \
	X(int, X509_set_pubkey, (X509 * x, EVP_PKEY * k), (x, k))                                  \
	X(X509_NAME *, X509_get_subject_name, (const X509 *x), (x))                                \
	X(int, X509_NAME_add_entry_by_txt,                                                         \
	  (X509_NAME * n, const char *f, int t, const unsigned char *b, int l, int loc, int set),  \
	  (n, f, t, b, l, loc, set))                                                               \
	X(int, X509_set_issuer_name, (X509 * x, const X509_NAME *n), (x, n))                       \
	X(int, X509_sign, (X509 * x, EVP_PKEY * k, const EVP_MD *md), (x, k, md))                  \
	X(int, PEM_write_X509, (FILE * f, const X509 *x), (f, x))                                  \
	X(int, PEM_write_PrivateKey,                                                               \
	  (FILE * f, const EVP_PKEY *k, const EVP_CIPHER *e, const unsigned char *s, int l,        \
	   pem_password_cb *cb, void *u),                                                          \
	  (f, k, e, s, l, cb, u))                                                                  \
	X(BIO *, BIO_new_mem_buf, (const void *b, int l), (b, l))                                  \
	X(int, BIO_free, (BIO * b), (b))                                                           \
	X(X509 *, PEM_read_bio_X509, (BIO * b, X509 * *x, pem_password_cb * cb, void *u),          \
	  (b, x, cb, u))                                                                           \
	X(int, i2d_X509, (const X509 *x, unsigned char **o), (x, o))                               \
	X(X509_PUBKEY *, X509_get_X509_PUBKEY, (const X509 *x), (x))                               \
	X(int, i2d_X509_PUBKEY, (const X509_PUBKEY *k, unsigned char **o), (k, o))

LAZYLIB_DEFINE(lazylib_crypto, DEN_CRYPTO_FUNCS, DEN_SONAME_CRYPTO, DEN_PACKAGE_CRYPTO)
