/* SPDX-License-Identifier: MIT */
/*
 * TLS for an LXD over HTTPS (docs/lxd.md, "A remote LXD"): den's client
 * certificate in $DEN_HOME/lxd, made once (EC P-384, self-signed, as lxc
 * makes its own), and each server's certificate pinned in
 * $DEN_HOME/lxd/servers/HOST_PORT.crt by `den lxd trust` (trust.c). A
 * connection trusts that one certificate and its key, nothing else: LXD's
 * certificates are self-signed and name the server's host name, not the
 * address den dials, so the key pin stands in for the name check.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "providers/lxd/lxd-internal.h"
#include "core/base64.h"
#include "core/cleanup.h"
#include "core/digest.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/project.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define CERT_DAYS 3650
#define MAX_PEM (64u << 10)

int lxd_url_parse(const char *url, struct lxd_url *u, struct den_err *err)
{
	const char *p = url, *end;
	size_t n;

	memset(u, 0, sizeof(*u));
	u->port = LXD_DEFAULT_PORT;
	if (strncmp(p, "https://", 8) != 0)
		goto bad;
	p += 8;
	if (*p == '[') { /* [IPv6] */
		end = strchr(p, ']');
		if (end == NULL || (n = (size_t)(end - p - 1)) == 0 || n >= sizeof(u->host) ||
		    strspn(p + 1, "0123456789abcdefABCDEF:.") != n)
			goto bad;
		memcpy(u->host, p + 1, n);
		u->v6 = true;
		p = end + 1;
	} else {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (n == 0 || n >= sizeof(u->host) || p[0] == '-' || p[0] == '.')
			goto bad;
		memcpy(u->host, p, n);
		p += n;
	}
	if (*p == ':') {
		char *stop;
		long port = strtol(p + 1, &stop, 10);
		if (stop == p + 1 || port < 1 || port > 65535)
			goto bad;
		u->port = (int)port;
		p = stop;
	}
	if (strcmp(p, "") != 0 && strcmp(p, "/") != 0)
		goto bad;
	return 0;
bad:
	return den_err_set(err, 0,
			   "lxd remote '%s': give it as https://HOST or https://HOST:PORT (LXD's "
			   "core.https_address; 8443 when no port is given)",
			   url);
}

char *lxd_url_base(const struct lxd_url *u)
{
	char *base = NULL;

	if (asprintf(&base, "https://%s%s%s:%d", u->v6 ? "[" : "", u->host, u->v6 ? "]" : "",
		     u->port) < 0)
		return NULL;
	return base;
}

int lxd_tls_home(char **dir, struct den_err *err)
{
	cleanup_free char *home = NULL;

	*dir = NULL;
	if (den_home(&home, err) < 0)
		return -1;
	if (asprintf(dir, "%s/lxd", home) < 0) {
		*dir = NULL;
		return den_err_set(err, ENOMEM, "LXD certificates");
	}
	if (den_mkdir_p(*dir, 0700, err) < 0) {
		free(*dir);
		*dir = NULL;
		return -1;
	}
	return 0;
}

char *lxd_tls_server_path(const char *dir, const struct lxd_url *u)
{
	char *path = NULL;

	/* The host has letters, digits, '.', '-' and ':' only (lxd_url_parse): a file name. */
	if (asprintf(&path, "%s/servers/%s_%d.crt", dir, u->host, u->port) < 0)
		return NULL;
	for (char *c = strrchr(path, '/') + 1; *c != '\0'; c++)
		if (*c == ':')
			*c = '-';
	return path;
}

/* A new file at tmp with mode (none may be there): its FILE for writing. */
static FILE *create_private(const char *tmp, mode_t mode, struct den_err *err)
{
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (f == NULL) {
		den_err_set(err, errno, "cannot write %s", tmp);
		if (fd >= 0)
			close(fd);
	}
	return f;
}

/* Closes f after its bytes are on disk; false when any write failed. */
static bool close_synced(FILE *f, bool ok)
{
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	return fclose(f) == 0 && ok;
}

/* A new key and its self-signed certificate, CN den@HOST. */
static int make_cert(EVP_PKEY **key, X509 **cert, struct den_err *err)
{
	char host[256] = "host", cn[300];
	uint64_t serial;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

	*key = NULL;
	*cert = NULL;
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(ctx, "P-384") <= 0 || EVP_PKEY_generate(ctx, key) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return den_err_set(err, 0, "cannot make an EC P-384 key (libcrypto)");
	}
	EVP_PKEY_CTX_free(ctx);
	gethostname(host, sizeof(host) - 1);
	snprintf(cn, sizeof(cn), "den@%s", host);
	if (getrandom(&serial, sizeof(serial), 0) != sizeof(serial))
		return den_err_set(err, errno, "cannot make a certificate serial");
	X509 *x = X509_new();
	if (x == NULL || X509_set_version(x, 2) <= 0 ||
	    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1) <= 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * CERT_DAYS) == NULL ||
	    X509_set_pubkey(x, *key) <= 0 ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0) <= 0 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) <= 0 ||
	    X509_sign(x, *key, EVP_sha384()) <= 0) {
		X509_free(x);
		return den_err_set(err, 0, "cannot make den's LXD client certificate (libcrypto)");
	}
	*cert = x;
	return 0;
}

/*
 * Writes the key (0600) and the certificate, each through a temporary
 * file synced before its rename. The certificate is the pair's last
 * part: any old one goes first, so a den stopped in between leaves a key
 * without a certificate, which the next call makes again, never a key
 * beside another key's certificate.
 */
static int write_cert(const char *dir, const char *crt, const char *key, EVP_PKEY *k, X509 *x,
		      struct den_err *err)
{
	cleanup_free char *tmp_key = NULL, *tmp_crt = NULL;
	FILE *f;

	if (asprintf(&tmp_key, "%s.tmp", key) < 0 || asprintf(&tmp_crt, "%s.tmp", crt) < 0)
		return den_err_set(err, ENOMEM, "LXD client certificate");
	if ((f = create_private(tmp_key, 0600, err)) == NULL)
		return -1;
	if (!close_synced(f, PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) > 0)) {
		unlink(tmp_key);
		return den_err_set(err, errno, "cannot write %s", key);
	}
	if ((f = create_private(tmp_crt, 0644, err)) == NULL) {
		unlink(tmp_key);
		return -1;
	}
	if (!close_synced(f, PEM_write_X509(f, x) > 0) || (unlink(crt) < 0 && errno != ENOENT) ||
	    rename(tmp_key, key) < 0 || rename(tmp_crt, crt) < 0) {
		den_err_set(err, errno, "cannot write %s", crt);
		unlink(tmp_key);
		unlink(tmp_crt);
		return -1;
	}
	return den_sync_dir(dir, err);
}

int lxd_tls_client_cert(const char *dir, bool make, char **crt, char **key, struct den_err *err)
{
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	int rc;

	*crt = *key = NULL;
	if (asprintf(crt, "%s/client.crt", dir) < 0 || asprintf(key, "%s/client.key", dir) < 0)
		rc = den_err_set(err, ENOMEM, "LXD client certificate");
	else if (den_exists(*crt) && den_exists(*key))
		return 0;
	else if (!make)
		rc = den_err_set(err, 0, "den has no LXD client certificate yet (%s)", *crt);
	else if ((rc = den_crypto_load(err)) == 0 && (rc = make_cert(&k, &x, err)) == 0)
		rc = write_cert(dir, *crt, *key, k, x, err);
	EVP_PKEY_free(k);
	X509_free(x);
	if (rc < 0) {
		free(*crt);
		free(*key);
		*crt = *key = NULL;
	}
	return rc;
}

/* SHA-256 of len bytes at p: hex (65) and, when raw is not NULL, the 32 bytes. */
static int sha256(const unsigned char *p, size_t len, char hex[DIGEST_HEX_MAX], unsigned char *raw,
		  struct den_err *err)
{
	struct digest *d = digest_new(DIGEST_SHA256);

	if (d == NULL)
		return den_err_set(err, ENOMEM, "SHA-256");
	digest_update(d, p, len);
	digest_final_hex(d, hex);
	digest_free(d);
	for (size_t i = 0; raw != NULL && i < 32; i++) {
		unsigned v = 0;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return den_err_set(err, 0, "SHA-256 gave no digest");
		raw[i] = (unsigned char)v;
	}
	return strlen(hex) == 64 ? 0 : den_err_set(err, 0, "SHA-256 gave no digest");
}

int lxd_tls_cert_pin(const char *pem, size_t len, char fp[65], char **pin, struct den_err *err)
{
	unsigned char *der = NULL, *p, raw[32], b64[64];
	char hex[DIGEST_HEX_MAX];
	int n;

	if (pin != NULL)
		*pin = NULL;
	if (den_crypto_load(err) < 0)
		return -1;
	if (len > MAX_PEM)
		return den_err_set(err, 0, "a certificate of more than %u bytes", MAX_PEM);
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (x == NULL)
		return den_err_set(err, 0, "not a PEM certificate");
	/* The certificate's fingerprint, as LXD gives it: SHA-256 of its DER bytes. */
	n = i2d_X509(x, NULL);
	if (n <= 0 || (der = malloc((size_t)n)) == NULL || (p = der, i2d_X509(x, &p)) != n) {
		free(der);
		X509_free(x);
		return den_err_set(err, 0, "cannot read the certificate");
	}
	int rc = sha256(der, (size_t)n, hex, NULL, err);
	free(der);
	der = NULL;
	if (rc < 0) {
		X509_free(x);
		return -1;
	}
	memcpy(fp, hex, 65); /* 64 hex digits and the NUL (sha256 checked the length) */
	/* Its key's pin, as libcurl takes it: sha256// and base64 of the SubjectPublicKeyInfo's SHA-256. */
	if (pin != NULL) {
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), NULL);
		if (n <= 0 || (der = malloc((size_t)n)) == NULL ||
		    (p = der, i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &p)) != n) {
			free(der);
			X509_free(x);
			return den_err_set(err, 0, "cannot read the certificate's key");
		}
		rc = sha256(der, (size_t)n, hex, raw, err);
		free(der);
		if (rc < 0) {
			X509_free(x);
			return -1;
		}
		EVP_EncodeBlock(b64, raw, sizeof(raw));
		if (asprintf(pin, "sha256//%s", (char *)b64) < 0) {
			*pin = NULL;
			X509_free(x);
			return den_err_set(err, ENOMEM, "certificate pin");
		}
	}
	X509_free(x);
	return 0;
}

int lxd_tls_token_decode(const char *token, struct lxd_token *t, struct den_err *err)
{
	size_t len = strlen(token), n = 0;
	cleanup_free unsigned char *raw = NULL;
	json_error_t jerr;

	memset(t, 0, sizeof(*t));
	int rc = len > 8192 ? 1 : den_base64_decode(token, len, &raw, &n, err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		goto bad;
	json_t *j = json_loadb((const char *)raw, n, 0, &jerr);
	const char *fp = json_string_value(json_object_get(j, "fingerprint"));
	const char *secret = json_string_value(json_object_get(j, "secret"));
	if (fp == NULL || strlen(fp) != 64 || strspn(fp, "0123456789abcdef") != 64 ||
	    secret == NULL || secret[0] == '\0') {
		json_decref(j);
		goto bad;
	}
	memcpy(t->fingerprint, fp, 65);
	json_decref(j);
	return 0;
bad:
	return den_err_set(err, 0,
			   "that is not an LXD trust token (make one on the server with `lxc "
			   "config trust add --name NAME`, and give all of it)");
}
