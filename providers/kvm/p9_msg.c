/* SPDX-License-Identifier: MIT */
/* 9P's little-endian fields, never read or written past their buffer (p9_msg.h). */
#include "providers/kvm/p9_msg.h"

#include <string.h>

/* n bytes at the reader's place, or NULL (and the reader marked bad) when fewer remain. */
static const uint8_t *take(struct p9_in *m, size_t n)
{
	if (m->bad || m->at > m->len || n > m->len - m->at) {
		m->bad = true;
		return NULL;
	}
	const uint8_t *p = m->p + m->at;
	m->at += n;
	return p;
}

static uint64_t get_le(struct p9_in *m, unsigned n)
{
	const uint8_t *p = take(m, n);
	uint64_t v = 0;

	if (p == NULL)
		return 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t p9_get8(struct p9_in *m)
{
	return (uint8_t)get_le(m, 1);
}

uint16_t p9_get16(struct p9_in *m)
{
	return (uint16_t)get_le(m, 2);
}

uint32_t p9_get32(struct p9_in *m)
{
	return (uint32_t)get_le(m, 4);
}

uint64_t p9_get64(struct p9_in *m)
{
	return get_le(m, 8);
}

struct p9_str p9_get_str(struct p9_in *m)
{
	uint16_t n = p9_get16(m);
	const uint8_t *p = take(m, n);

	return p != NULL ? (struct p9_str){ p, n } : (struct p9_str){ (const uint8_t *)"", 0 };
}

const uint8_t *p9_get_bytes(struct p9_in *m, size_t n)
{
	return take(m, n);
}

uint8_t *p9_put_room(struct p9_out *m, size_t n)
{
	if (m->full || m->at > m->cap || n > m->cap - m->at) {
		m->full = true;
		return NULL;
	}
	uint8_t *p = m->p + m->at;
	m->at += n;
	return p;
}

size_t p9_out_left(const struct p9_out *m)
{
	return m->full || m->at > m->cap ? 0 : m->cap - m->at;
}

static void put_le(struct p9_out *m, uint64_t v, unsigned n)
{
	uint8_t *p = p9_put_room(m, n);

	if (p == NULL)
		return;
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void p9_put8(struct p9_out *m, uint8_t v)
{
	put_le(m, v, 1);
}

void p9_put16(struct p9_out *m, uint16_t v)
{
	put_le(m, v, 2);
}

void p9_put32(struct p9_out *m, uint32_t v)
{
	put_le(m, v, 4);
}

void p9_put64(struct p9_out *m, uint64_t v)
{
	put_le(m, v, 8);
}

void p9_put_str(struct p9_out *m, const char *s, size_t len)
{
	if (len > UINT16_MAX) {
		m->full = true;
		return;
	}
	p9_put16(m, (uint16_t)len);
	uint8_t *p = p9_put_room(m, len);
	if (p != NULL && len > 0)
		memcpy(p, s, len);
}

void p9_put_qid(struct p9_out *m, const struct p9_qid *q)
{
	p9_put8(m, q->type);
	p9_put32(m, q->version);
	p9_put64(m, q->path);
}

void p9_le32_put(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void p9_le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
