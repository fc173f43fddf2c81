/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_SIZE_H
#define DEN_CORE_SIZE_H

/*
 * Sizes as people write them in an Envfile or on a command line: "1G",
 * "512M", "1536MiB", "2GB", or a bare number in a default unit (Vagrant
 * gives memory in MiB, so `memory: 1024` is 1 GiB). Units are powers of
 * 1024 whichever way they are spelled.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEN_KIB ((uint64_t)1 << 10)
#define DEN_MIB ((uint64_t)1 << 20)
#define DEN_GIB ((uint64_t)1 << 30)
#define DEN_TIB ((uint64_t)1 << 40)

/*
 * Parses s into bytes; a bare number is multiplied by bare_unit. On failure
 * returns -1 and points *why at a sentence saying what was expected.
 */
int den_size_parse(const char *s, uint64_t bare_unit, uint64_t *out, const char **why);

/* Shortest exact spelling: 1073741824 -> "1G", 1610612736 -> "1536M". */
void den_size_format(uint64_t bytes, char *buf, size_t n);

/* Strict unsigned decimal ("0" .. "18446744073709551615", no sign, no spaces). */
bool den_parse_u64(const char *s, uint64_t *out);

#endif
