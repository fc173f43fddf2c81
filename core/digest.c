/* SPDX-License-Identifier: MIT */
#include "core/digest.h"
#include "core/cleanup.h"
#include "core/lazylib.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const names[] = { "md5", "sha1", "sha256", "sha384", "sha512" };

struct digest {
	EVP_MD_CTX *ctx;
};

int digest_kind_parse(const char *name, enum digest_kind *out)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i]) == 0) {
			*out = (enum digest_kind)i;
			return 0;
		}
	}
	return -1;
}

const char *digest_kind_name(enum digest_kind k)
{
	return names[k];
}

struct digest *digest_new(enum digest_kind k)
{
	struct digest *d = calloc(1, sizeof(*d));
	const EVP_MD *md = EVP_get_digestbyname(names[k]);

	if (d == NULL || md == NULL || (d->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d->ctx, md, NULL) != 1) {
		digest_free(d);
		return NULL;
	}
	return d;
}

void digest_update(struct digest *d, const void *data, size_t len)
{
	EVP_DigestUpdate(d->ctx, data, len);
}

void digest_final_hex(struct digest *d, char hex[DIGEST_HEX_MAX])
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	hex[0] = '\0';
	if (EVP_DigestFinal_ex(d->ctx, raw, &n) != 1)
		return;
	for (unsigned int i = 0; i < n && 2 * i + 2 < DIGEST_HEX_MAX; i++) {
		hex[2 * i] = "0123456789abcdef"[raw[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[raw[i] & 15];
		hex[2 * i + 2] = '\0';
	}
}

void digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	if (d->ctx != NULL)
		EVP_MD_CTX_free(d->ctx);
	free(d);
}

int digest_file(const char *path, enum digest_kind k, char hex[DIGEST_HEX_MAX], struct den_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct digest *d;
	char buf[1 << 16];
	ssize_t n;

	if (fd < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	if (den_crypto_load(err) < 0)
		return -1;
	d = digest_new(k);
	if (d == NULL)
		return den_err_set(err, ENOMEM, "cannot compute %s of %s", names[k], path);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			digest_free(d);
			return den_err_set(err, errno, "cannot read %s", path);
		}
		digest_update(d, buf, (size_t)n);
	}
	digest_final_hex(d, hex);
	digest_free(d);
	return 0;
}
