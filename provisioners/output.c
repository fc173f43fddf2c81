/* SPDX-License-Identifier: MIT */
#include "provisioners/output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const colors[] = { "\033[36m", "\033[35m", "\033[33m", "\033[34m",
				      "\033[32m", "\033[96m", "\033[95m", "\033[93m" };

void prov_output_init(struct prov_output *o, const char *prefix, int color_index, bool color)
{
	memset(o, 0, sizeof(*o));
	o->prefix = prefix;
	o->color_index = color_index;
	o->color = color;
}

/* Drops ESC [ ... final-byte sequences (colours, cursor moves) and other escapes. */
static size_t strip_escapes(char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\033') {
			if (i + 1 < len && s[i + 1] == '[') {
				i += 2;
				while (i < len && !(s[i] >= 0x40 && s[i] <= 0x7e))
					i++;
			} else {
				i++;
			}
			continue;
		}
		s[o++] = s[i];
	}
	return o;
}

static void keep_tail(struct prov_output *o, const char *line, size_t len)
{
	char *slot = o->tail[o->n_tail % PROV_TAIL_LINES];
	size_t n = len < sizeof(o->tail[0]) - 1 ? len : sizeof(o->tail[0]) - 1;

	memcpy(slot, line, n);
	slot[n] = '\0';
	o->n_tail++;
}

static void emit(struct prov_output *o, int stream)
{
	char *line = o->line[stream];
	size_t len = o->len[stream];

	o->len[stream] = 0;
	if (!o->keep_color)
		len = strip_escapes(line, len);
	keep_tail(o, line, len);
	if (o->quiet)
		return;
	flockfile(stdout);
	if (o->color)
		fprintf(stdout, "%s%s:\033[0m %s%.*s%s\n",
			colors[o->color_index % (int)(sizeof(colors) / sizeof(colors[0]))],
			o->prefix, stream && !o->keep_color ? "\033[31m" : "", (int)len, line,
			stream && !o->keep_color ? "\033[0m" : "");
	else
		fprintf(stdout, "%s: %.*s\n", o->prefix, (int)len, line);
	fflush(stdout);
	funlockfile(stdout);
}

void prov_output_feed(const char *buf, size_t len, int is_stderr, void *arg)
{
	struct prov_output *o = arg;
	int s = is_stderr ? 1 : 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		/* A progress line redrawn with \r: keep only its last state; \r\n is a newline. */
		if (o->cr[s] && c != '\n')
			o->len[s] = 0;
		o->cr[s] = c == '\r';
		if (c == '\n') {
			emit(o, s);
		} else if (c == '\r') {
			continue;
		} else {
			if (o->len[s] == sizeof(o->line[0]))
				emit(o, s); /* a very long line: printed in pieces */
			o->line[s][o->len[s]++] = c;
		}
	}
}

void prov_output_flush(struct prov_output *o)
{
	for (int s = 0; s < 2; s++)
		if (o->len[s] > 0)
			emit(o, s);
}

void prov_output_tail(const struct prov_output *o, char *buf, size_t n)
{
	size_t first = o->n_tail > PROV_TAIL_LINES ? o->n_tail - PROV_TAIL_LINES : 0, off = 0;

	if (n == 0)
		return;
	buf[0] = '\0';
	for (size_t i = first; i < o->n_tail && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? "\n" : "",
					o->tail[i % PROV_TAIL_LINES]);
}

void prov_output_reset_tail(struct prov_output *o)
{
	o->n_tail = 0;
}
