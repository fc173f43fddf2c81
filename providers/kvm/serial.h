/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_SERIAL_H
#define DEN_PROVIDERS_KVM_SERIAL_H

/*
 * An 8250/16550A UART at 0x3f8, IRQ 4: the guest's console. Transmitted
 * bytes go to out(); received bytes wait in a small FIFO. irq() is told
 * the interrupt line's level whenever it may have changed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_BASE 0x3f8
#define SERIAL_IRQ 4
#define SERIAL_FIFO 64

struct serial {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_interrupt; /* THR-empty interrupt pending (cleared by reading IIR or writing THR) */
	uint8_t rx[SERIAL_FIFO];
	size_t rx_head, rx_len;
	void (*out)(const uint8_t *buf, size_t len, void *arg);
	void (*irq)(bool level, void *arg);
	void *arg;
};

void serial_init(struct serial *s, void (*out)(const uint8_t *, size_t, void *),
		 void (*irq)(bool, void *), void *arg);

/* A guest port access at SERIAL_BASE + offset (0..7). */
uint8_t serial_read(struct serial *s, unsigned offset);
void serial_write(struct serial *s, unsigned offset, uint8_t value);

/* Host input for the guest; returns how many bytes the FIFO took. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/* The UART's registers and receive FIFO in a snapshot, as on disk. */
struct serial_state {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr, thr_interrupt;
	uint8_t rx[SERIAL_FIFO];
	uint32_t rx_head, rx_len;
};

void serial_save(const struct serial *s, struct serial_state *out);
/* Back from a snapshot: false (nothing changed) when the state is damaged. */
bool serial_load(struct serial *s, const struct serial_state *in);

#endif
