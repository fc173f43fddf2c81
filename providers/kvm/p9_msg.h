/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_P9_MSG_H
#define DEN_PROVIDERS_KVM_P9_MSG_H

/*
 * 9P fields, little-endian, read and written with bounds checks: a reader
 * that runs off the end of its message sets `bad` and yields zeros from
 * then on, and a writer that runs out of room sets `full` and writes
 * nothing more, so a handler parses every field first and checks once.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct p9_in {
	const uint8_t *p;
	size_t len, at;
	bool bad; /* a field ran past the end */
};

struct p9_out {
	uint8_t *p;
	size_t cap, at;
	bool full; /* a field did not fit */
};

/* A string as it lies in the message: not NUL-terminated, may hold NULs. */
struct p9_str {
	const uint8_t *p;
	uint16_t len;
};

struct p9_qid {
	uint8_t type; /* P9_QT_* */
	uint32_t version;
	uint64_t path;
};

#define P9_QT_DIR 0x80
#define P9_QT_SYMLINK 0x02
#define P9_QT_FILE 0x00
#define P9_QID_SIZE 13

uint8_t p9_get8(struct p9_in *m);
uint16_t p9_get16(struct p9_in *m);
uint32_t p9_get32(struct p9_in *m);
uint64_t p9_get64(struct p9_in *m);
/* A u16 length and its bytes; an empty string when they run past the end. */
struct p9_str p9_get_str(struct p9_in *m);
/* n raw bytes in place (Twrite's data), or NULL when fewer remain. */
const uint8_t *p9_get_bytes(struct p9_in *m, size_t n);

void p9_put8(struct p9_out *m, uint8_t v);
void p9_put16(struct p9_out *m, uint16_t v);
void p9_put32(struct p9_out *m, uint32_t v);
void p9_put64(struct p9_out *m, uint64_t v);
/* A u16 length and the bytes (len <= 65535, else the writer is marked full). */
void p9_put_str(struct p9_out *m, const char *s, size_t len);
void p9_put_qid(struct p9_out *m, const struct p9_qid *q);
/* Room for n bytes the caller fills (Rread's data), or NULL when it does not fit. */
uint8_t *p9_put_room(struct p9_out *m, size_t n);
/* Bytes left for the caller to fill. */
size_t p9_out_left(const struct p9_out *m);

/* Little-endian at a fixed place (a reply's header, a length filled in later). */
void p9_le32_put(uint8_t *p, uint32_t v);
void p9_le16_put(uint8_t *p, uint16_t v);

#endif
