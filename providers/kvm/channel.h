/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_CHANNEL_H
#define DEN_PROVIDERS_KVM_CHANNEL_H

/*
 * den's channel to its guest hook (docs/vmm.md, "Warm images"): a second
 * 16550A UART, COM2 at ACPI_CHANNEL_PORT and IRQ ACPI_CHANNEL_IRQ, the
 * guest's /dev/ttyS1. The guest is hostile here as everywhere: what it
 * sends is taken a line at a time into a fixed buffer (a longer line is
 * cut, bytes that are not printable ASCII dropped), and only the first
 * CHANNEL_MAX_LINES lines reach the VMM's log. What den sends (set before
 * the vCPUs run: a few short lines, its record being in guest memory) enters the UART's FIFO as fast as the guest drains it,
 * from the vCPU thread that reads the FIFO: no polling between the two.
 * Every function but channel_init is called under vm->lock.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "providers/kvm/serial.h"

#define CHANNEL_LINE 256
#define CHANNEL_MAX_LINES 64

struct channel {
	struct serial uart;
	void (*irq)(bool level, void *arg);
	void *irq_arg;
	/* Host to guest: input[sent..len) waits for room in the FIFO; held until released. */
	uint8_t *input;
	size_t input_len, input_cap, input_sent;
	bool held;
	/* Guest to host: the line being received, and the last whole one. */
	char line[CHANNEL_LINE];
	size_t line_len;
	char done[CHANNEL_LINE];
	bool has_done; /* done holds a line the VMM has not taken yet */
	unsigned lines;
};

/* COM2's registers reset; irq() is told its line's level (as serial.h's). */
void channel_init(struct channel *c, void (*irq)(bool, void *), void *arg);

/* A guest port access at ACPI_CHANNEL_PORT + offset (0..7); reads refill the FIFO. */
uint8_t channel_read(struct channel *c, unsigned offset);
void channel_write(struct channel *c, unsigned offset, uint8_t value);

/*
 * Gives the channel what den sends (it takes the buffer, malloc'd, len
 * bytes used of cap), held back until channel_release: the guest gets it
 * once it has taken in what the VM was told first (its GED events:
 * vmgenid's reseed). Until then channel_add puts more before it (first)
 * or after it, within cap.
 */
void channel_set_input(struct channel *c, uint8_t *buf, size_t len, size_t cap);
bool channel_add(struct channel *c, bool first, const void *data, size_t n);
void channel_release(struct channel *c);

/*
 * The last whole line the guest sent (at most CHANNEL_LINE - 1 bytes, NUL-
 * terminated, into out), once: false when none came since the last call.
 */
bool channel_take_line(struct channel *c, char *out);

void channel_free(struct channel *c);

#endif
