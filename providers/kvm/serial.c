/* SPDX-License-Identifier: MIT */
#include "providers/kvm/serial.h"

#include <string.h>

#define IER_RDI 0x01 /* received data available */
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define MSR_DCD 0x80
#define MSR_DSR 0x20
#define MSR_CTS 0x10

void serial_init(struct serial *s, void (*out)(const uint8_t *, size_t, void *),
		 void (*irq)(bool, void *), void *arg)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
	s->irq = irq;
	s->arg = arg;
	s->dll = 12; /* 9600 baud, as after reset */
}

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & 1) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_len > 0)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thr_interrupt)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

static void update_irq(struct serial *s)
{
	if (s->irq != NULL)
		s->irq(!(iir(s) & IIR_NONE), s->arg);
}

uint8_t serial_read(struct serial *s, unsigned offset)
{
	uint8_t v = 0;

	switch (offset & 7) {
	case 0:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (s->rx_len > 0) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
			s->rx_len--;
			update_irq(s);
		}
		return v;
	case 1:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case 2:
		v = iir(s);
		/* Reading IIR while it reports THR empty acknowledges that interrupt. */
		if ((v & 0x0f) == IIR_THRI) {
			s->thr_interrupt = false;
			update_irq(s);
		}
		return v;
	case 3:
		return s->lcr;
	case 4:
		return s->mcr;
	case 5:
		return LSR_THRE | LSR_TEMT | (s->rx_len > 0 ? LSR_DR : 0);
	case 6:
		/* Loopback mode reflects MCR's outputs; otherwise a cable is there. */
		if (s->mcr & MCR_LOOP)
			return (uint8_t)((s->mcr & 0x0c) << 4 | (s->mcr & 0x01) << 5 |
					 (s->mcr & 0x02) << 3);
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return s->scr;
	}
}

void serial_write(struct serial *s, unsigned offset, uint8_t value)
{
	switch (offset & 7) {
	case 0:
		if (s->lcr & LCR_DLAB) {
			s->dll = value;
			return;
		}
		if (s->mcr & MCR_LOOP)
			serial_receive(s, &value, 1);
		else if (s->out != NULL)
			s->out(&value, 1, s->arg);
		/* The byte is gone at once: THR is empty again. */
		s->thr_interrupt = true;
		update_irq(s);
		return;
	case 1:
		if (s->lcr & LCR_DLAB) {
			s->dlm = value;
			return;
		}
		/* Enabling the THR interrupt with THR empty raises it (as a 16550 does). */
		if (!(s->ier & IER_THRI) && (value & IER_THRI))
			s->thr_interrupt = true;
		s->ier = value & 0x0f;
		update_irq(s);
		return;
	case 2:
		s->fcr = value;
		if (value & 0x02) { /* clear the receive FIFO */
			s->rx_len = 0;
			update_irq(s);
		}
		return;
	case 3:
		s->lcr = value;
		return;
	case 4:
		s->mcr = value & 0x1f;
		return;
	case 7:
		s->scr = value;
		return;
	default:
		return; /* LSR and MSR are read-only */
	}
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && s->rx_len < SERIAL_FIFO) {
		s->rx[(s->rx_head + s->rx_len) % SERIAL_FIFO] = buf[n++];
		s->rx_len++;
	}
	if (n > 0)
		update_irq(s);
	return n;
}

void serial_save(const struct serial *s, struct serial_state *out)
{
	memset(out, 0, sizeof(*out));
	out->ier = s->ier;
	out->lcr = s->lcr;
	out->mcr = s->mcr;
	out->scr = s->scr;
	out->dll = s->dll;
	out->dlm = s->dlm;
	out->fcr = s->fcr;
	out->thr_interrupt = s->thr_interrupt;
	memcpy(out->rx, s->rx, sizeof(out->rx));
	out->rx_head = (uint32_t)s->rx_head;
	out->rx_len = (uint32_t)s->rx_len;
}

/*
 * The interrupt line is not raised here: its level is in the interrupt
 * controllers' state, restored with the VM's.
 */
bool serial_load(struct serial *s, const struct serial_state *in)
{
	if (in->rx_head >= SERIAL_FIFO || in->rx_len > SERIAL_FIFO || in->thr_interrupt > 1)
		return false;
	s->ier = in->ier & 0x0f;
	s->lcr = in->lcr;
	s->mcr = in->mcr & 0x1f;
	s->scr = in->scr;
	s->dll = in->dll;
	s->dlm = in->dlm;
	s->fcr = in->fcr;
	s->thr_interrupt = in->thr_interrupt;
	memcpy(s->rx, in->rx, sizeof(s->rx));
	s->rx_head = in->rx_head;
	s->rx_len = in->rx_len;
	return true;
}
