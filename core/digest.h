/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_DIGEST_H
#define DEN_CORE_DIGEST_H

/* Checksums (libcrypto's EVP): of box files while they stream in, of provisioners' inputs. */

#include <stddef.h>
#include "core/err.h"

enum digest_kind { DIGEST_MD5, DIGEST_SHA1, DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512 };

#define DIGEST_HEX_MAX 129 /* sha512 in hex, and the NUL */

struct digest;

/* "sha256" -> DIGEST_SHA256 (case-insensitive). Returns -1 for an unknown name. */
int digest_kind_parse(const char *name, enum digest_kind *out);
const char *digest_kind_name(enum digest_kind k);

struct digest *digest_new(enum digest_kind k);
void digest_update(struct digest *d, const void *data, size_t len);
/* Lower-case hex of the digest; d can take no more data after. */
void digest_final_hex(struct digest *d, char hex[DIGEST_HEX_MAX]);
void digest_free(struct digest *d);

/* The digest of a whole file, in hex. */
int digest_file(const char *path, enum digest_kind k, char hex[DIGEST_HEX_MAX],
		struct den_err *err);

#endif
