/* SPDX-License-Identifier: MIT */
#include "core/base64.h"
#include "core/lazylib.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int den_base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len,
		      struct den_err *err)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
	unsigned char *raw;

	*out = NULL;
	*out_len = 0;
	if (len == 0 || len % 4 != 0 || len > (size_t)1 << 30 || strspn(text, alphabet) < len)
		return 1;
	if (den_crypto_load(err) < 0)
		return -1;
	raw = malloc(len / 4 * 3 + 1);
	if (raw == NULL)
		return den_err_set(err, ENOMEM, "cannot decode base64");
	int n = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len);
	if (n < 0) {
		free(raw);
		return 1;
	}
	/* EVP_DecodeBlock counts the padding's zero bytes too. */
	for (size_t i = len; i > 0 && text[i - 1] == '='; i--)
		n--;
	raw[n] = '\0';
	*out = raw;
	*out_len = (size_t)n;
	return 0;
}

int den_base64_encode(const void *data, size_t len, char **out, struct den_err *err)
{
	unsigned char *text;

	*out = NULL;
	if (len > (size_t)1 << 29)
		return den_err_set(err, EINVAL, "cannot encode base64: too long");
	if (den_crypto_load(err) < 0)
		return -1;
	text = malloc((len + 2) / 3 * 4 + 1);
	if (text == NULL)
		return den_err_set(err, ENOMEM, "cannot encode base64");
	EVP_EncodeBlock(text, data, (int)len); /* NUL-terminates */
	*out = (char *)text;
	return 0;
}
