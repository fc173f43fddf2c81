/* SPDX-License-Identifier: MIT */
#include "providers/kvm/channel.h"

#include <stdlib.h>
#include <string.h>

/* The byte the guest sent, kept when printable; a newline ends the line. */
static void guest_byte(const uint8_t *buf, size_t len, void *arg)
{
	struct channel *c = arg;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];
		if (b == '\n') {
			if (c->lines < CHANNEL_MAX_LINES) {
				memcpy(c->done, c->line, c->line_len);
				c->done[c->line_len] = '\0';
				c->has_done = true;
				c->lines++;
			}
			c->line_len = 0;
		} else if (b >= 0x20 && b < 0x7f && c->line_len < CHANNEL_LINE - 1) {
			c->line[c->line_len++] = (char)b;
		}
	}
}

/* As much of den's input as the FIFO has room for. */
static void refill(struct channel *c)
{
	if (c->held || c->input_sent >= c->input_len)
		return;
	c->input_sent +=
		serial_receive(&c->uart, c->input + c->input_sent, c->input_len - c->input_sent);
}

/* The UART's interrupt line, passed on to whoever wired the channel. */
static void line_level(bool level, void *arg)
{
	struct channel *c = arg;

	c->irq(level, c->irq_arg);
}

void channel_init(struct channel *c, void (*irq)(bool, void *), void *arg)
{
	memset(c, 0, sizeof(*c));
	c->irq = irq;
	c->irq_arg = arg;
	serial_init(&c->uart, guest_byte, line_level, c);
}

uint8_t channel_read(struct channel *c, unsigned offset)
{
	uint8_t v = serial_read(&c->uart, offset);

	if ((offset & 7) == 0)
		refill(c);
	return v;
}

void channel_write(struct channel *c, unsigned offset, uint8_t value)
{
	serial_write(&c->uart, offset, value);
	/* A cleared FIFO (FCR) has room again. */
	if ((offset & 7) == 2)
		refill(c);
}

void channel_set_input(struct channel *c, uint8_t *buf, size_t len, size_t cap)
{
	free(c->input);
	c->input = buf;
	c->input_len = len;
	c->input_cap = cap;
	c->input_sent = 0;
	c->held = true;
}

bool channel_add(struct channel *c, bool first, const void *data, size_t n)
{
	if (!c->held || c->input == NULL || n > c->input_cap - c->input_len)
		return false;
	if (first)
		memmove(c->input + n, c->input, c->input_len);
	memcpy(c->input + (first ? 0 : c->input_len), data, n);
	c->input_len += n;
	return true;
}

void channel_release(struct channel *c)
{
	c->held = false;
	refill(c);
}

bool channel_take_line(struct channel *c, char *out)
{
	if (!c->has_done)
		return false;
	memcpy(out, c->done, CHANNEL_LINE);
	c->has_done = false;
	return true;
}

void channel_free(struct channel *c)
{
	free(c->input);
	c->input = NULL;
	c->input_len = c->input_cap = c->input_sent = 0;
}
