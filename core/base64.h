/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_BASE64_H
#define DEN_CORE_BASE64_H

/* Base64 text made and decoded with libcrypto (EVP_EncodeBlock, EVP_DecodeBlock). */

#include <stddef.h>

#include "core/err.h"

/*
 * Decodes len bytes of standard base64 (A-Z a-z 0-9 + /, '=' padding, a
 * whole number of 4-character groups). 0: *out (malloc'd, a NUL after its
 * *out_len bytes) is the data; 1: text is not such base64 (err untouched);
 * -1: libcrypto could not be loaded, or no memory (err says which).
 */
int den_base64_decode(const char *text, size_t len, unsigned char **out, size_t *out_len,
		      struct den_err *err);

/* len bytes as standard base64 with padding (*out malloc'd, NUL-terminated). */
int den_base64_encode(const void *data, size_t len, char **out, struct den_err *err);

#endif
