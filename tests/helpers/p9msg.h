/* SPDX-License-Identifier: MIT */
#ifndef DEN_TESTS_P9MSG_H
#define DEN_TESTS_P9MSG_H

/*
 * A test-side 9P2000.L encoder and reply reader, written apart from the
 * server's own (providers/kvm/p9_msg.c) so a mistake there is not
 * mirrored here: messages are built as Linux's client lays them out.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define P9M_MAX (80u << 10)

enum {
	P9M_RLERROR = 7,
	P9M_TSTATFS = 8,
	P9M_TLOPEN = 12,
	P9M_TLCREATE = 14,
	P9M_TSYMLINK = 16,
	P9M_TMKNOD = 18,
	P9M_TRENAME = 20,
	P9M_TREADLINK = 22,
	P9M_TGETATTR = 24,
	P9M_TSETATTR = 26,
	P9M_TXATTRWALK = 30,
	P9M_TXATTRCREATE = 32,
	P9M_TREADDIR = 40,
	P9M_TFSYNC = 50,
	P9M_TLOCK = 52,
	P9M_TGETLOCK = 54,
	P9M_TLINK = 70,
	P9M_TMKDIR = 72,
	P9M_TRENAMEAT = 74,
	P9M_TUNLINKAT = 76,
	P9M_TVERSION = 100,
	P9M_TATTACH = 104,
	P9M_TFLUSH = 108,
	P9M_TWALK = 110,
	P9M_TREAD = 116,
	P9M_TWRITE = 118,
	P9M_TCLUNK = 120,
	P9M_TREMOVE = 122,
};

struct p9m {
	uint8_t b[P9M_MAX];
	size_t n;
};

static inline void p9m_bytes(struct p9m *m, const void *p, size_t n)
{
	if (m->n + n <= sizeof(m->b)) {
		memcpy(m->b + m->n, p, n);
		m->n += n;
	}
}

static inline void p9m_le(struct p9m *m, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	p9m_bytes(m, b, n);
}

static inline void p9m_u8(struct p9m *m, uint8_t v)
{
	p9m_le(m, v, 1);
}

static inline void p9m_u16(struct p9m *m, uint16_t v)
{
	p9m_le(m, v, 2);
}

static inline void p9m_u32(struct p9m *m, uint32_t v)
{
	p9m_le(m, v, 4);
}

static inline void p9m_u64(struct p9m *m, uint64_t v)
{
	p9m_le(m, v, 8);
}

static inline void p9m_str(struct p9m *m, const char *s)
{
	p9m_u16(m, (uint16_t)strlen(s));
	p9m_bytes(m, s, strlen(s));
}

/* size[4] (filled by p9m_end) type[1] tag[2]. */
static inline void p9m_begin(struct p9m *m, uint8_t type, uint16_t tag)
{
	m->n = 0;
	p9m_u32(m, 0);
	p9m_u8(m, type);
	p9m_u16(m, tag);
}

static inline size_t p9m_end(struct p9m *m)
{
	for (unsigned i = 0; i < 4; i++)
		m->b[i] = (uint8_t)(m->n >> (8 * i));
	return m->n;
}

/* A reply, read field by field; past its end every field reads 0. */
struct p9r {
	const uint8_t *b;
	size_t n, at;
};

static inline uint64_t p9r_le(struct p9r *r, unsigned n)
{
	uint64_t v = 0;

	if (r->at + n > r->n) {
		r->at = r->n + 1;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->b[r->at + i] << (8 * i);
	r->at += n;
	return v;
}

static inline uint8_t p9r_u8(struct p9r *r)
{
	return (uint8_t)p9r_le(r, 1);
}

static inline uint16_t p9r_u16(struct p9r *r)
{
	return (uint16_t)p9r_le(r, 2);
}

static inline uint32_t p9r_u32(struct p9r *r)
{
	return (uint32_t)p9r_le(r, 4);
}

static inline uint64_t p9r_u64(struct p9r *r)
{
	return p9r_le(r, 8);
}

/* A string into out (NUL-terminated, cut to fit). */
static inline void p9r_str(struct p9r *r, char *out, size_t size)
{
	size_t n = p9r_u16(r);

	if (r->at + n > r->n) {
		r->at = r->n + 1;
		n = 0;
	}
	size_t take = n < size - 1 ? n : size - 1;
	memcpy(out, r->b + r->at, take);
	out[take] = '\0';
	r->at += n;
}

#endif
