/* SPDX-License-Identifier: MIT */
/*
 * The serial console's host side, and the VMM's watching thread: the
 * UART's output written to the console fd (never under vm->lock), input
 * fed only as fast as the guest drains the FIFO, Ctrl-A x from a terminal,
 * the control socket, the lines on den's channel (channel.h), and the
 * quiet timeout.
 */
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/vmm.h"
#include "providers/kvm/acpi.h"

#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define CTRL_A 0x01

/* The UART's output, under vm->lock: kept for vm_console_write. */
static void console_out(const uint8_t *buf, size_t len, void *arg)
{
	struct vm *vm = arg;

	for (size_t i = 0; i < len && vm->tx_len < sizeof(vm->tx); i++)
		vm->tx[vm->tx_len++] = buf[i];
}

void vm_console_write(struct vm *vm, const uint8_t *buf, size_t len)
{
	atomic_store(&vm->last_output, (long long)time(NULL));
	while (len > 0) {
		ssize_t n = write(vm->out_fd, buf, len);
		if (n < 0 && errno == EINTR && atomic_load(&vm->end) == VM_RUNNING)
			continue;
		if (n <= 0)
			return; /* a closed console, or the VM ending: the output is dropped */
		buf += n;
		len -= (size_t)n;
	}
}

static void serial_irq(bool level, void *arg)
{
	struct vm *vm = arg;
	struct kvm_irq_level irq = { .irq = SERIAL_IRQ, .level = level ? 1 : 0 };

	ioctl(vm->fd, KVM_IRQ_LINE, &irq);
}

void vm_console_init(struct vm *vm)
{
	serial_init(&vm->serial, console_out, serial_irq, vm);
}

static void say(struct vm *vm, const char *msg)
{
	vm_console_write(vm, (const uint8_t *)msg, strlen(msg));
}

/*
 * Ctrl-A x ends the VM (as a stop: status 0), Ctrl-A h lists the keys,
 * Ctrl-A Ctrl-A sends one Ctrl-A; anything else after Ctrl-A goes through
 * with it. Messages end in \n alone: the terminal keeps OPOST, which adds the \r. What is left for the guest goes to out (room for len + 1 bytes:
 * a Ctrl-A held from the last read may come out with this one's byte).
 */
size_t vm_console_escape(struct vm *vm, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		if (!vm->escape_pending) {
			if (c == CTRL_A)
				vm->escape_pending = true;
			else
				out[n++] = c;
			continue;
		}
		vm->escape_pending = false;
		if (c == 'x' || c == 'X') {
			say(vm, "\nden: Ctrl-A x: the VM is stopped\n");
			vm_end(vm, VM_POWEROFF, "stopped from its console (Ctrl-A x)");
			return n;
		}
		if (c == 'h' || c == 'H' || c == '?') {
			say(vm, "\nden: Ctrl-A x  stop the VM\n"
				"den: Ctrl-A Ctrl-A  send Ctrl-A to the guest\n");
			continue;
		}
		out[n++] = CTRL_A;
		if (c != CTRL_A)
			out[n++] = c;
	}
	return n;
}

static void channel_irq(bool level, void *arg)
{
	struct vm *vm = arg;
	struct kvm_irq_level irq = { .irq = ACPI_CHANNEL_IRQ, .level = level ? 1 : 0 };

	ioctl(vm->fd, KVM_IRQ_LINE, &irq);
}

void vm_channel_init(struct vm *vm)
{
	channel_init(&vm->chan, channel_irq, vm);
}

/*
 * A line from the guest's hook on den's channel: into the VMM's log (the
 * channel keeps it printable and caps how many), and a template's "ready"
 * saves the warm image (clone.c).
 */
static void channel_line(struct vm *vm)
{
	char line[CHANNEL_LINE];
	eventfd_t n;

	eventfd_read(vm->chan_fd, &n);
	pthread_mutex_lock(&vm->lock);
	bool got = channel_take_line(&vm->chan, line);
	pthread_mutex_unlock(&vm->lock);
	if (!got)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double s = (double)(now.tv_sec - vm->started.tv_sec) +
		   (double)(now.tv_nsec - vm->started.tv_nsec) / 1e9;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr,
		"den vmm: the guest's hook says, %.3f s after den vmm run began (exits: %llu "
		"port, %llu mmio; faults: %ld minor, %ld major): %s\n",
		s, (unsigned long long)atomic_load(&vm->io_exits),
		(unsigned long long)atomic_load(&vm->mmio_exits), ru.ru_minflt, ru.ru_majflt, line);
	if (vm->clone.made && strncmp(line, CLONE_DONE_LINE, strlen(CLONE_DONE_LINE)) == 0)
		atomic_store(&vm->clone.personalised, true);
	if (vm->clone.made && strcmp(line, CLONE_MOUNTED_LINE) == 0)
		atomic_store(&vm->clone.folders_mounted, true);
	if (vm->warm_save == NULL || !clone_is_ready_line(line))
		return;
	struct den_err err = { 0 };
	if (clone_save_template(vm, line, &err) < 0)
		vm_end(vm, VM_FAILED, err.msg);
	else
		fprintf(stderr, "den vmm: warm image saved in %s\n", vm->warm_save);
}

/* Held channel input goes once its time is up, read GED events or not. */
static void channel_deadline(struct vm *vm)
{
	if (vm->channel_hold_until == 0 || den_now_ms() < vm->channel_hold_until)
		return;
	vm->channel_hold_until = 0;
	pthread_mutex_lock(&vm->lock);
	vm_channel_release(vm);
	pthread_mutex_unlock(&vm->lock);
}

/*
 * This thread, while the vCPUs run: console input, the control socket,
 * den's channel, the quiet timeout.
 */
void vm_watch(struct vm *vm, const struct vmm_spec *s, int api)
{
	uint8_t buf[256], escaped[sizeof(buf) + 1];
	struct pollfd p[3] = { { s->console_in, POLLIN, 0 },
			       { api, POLLIN, 0 },
			       { vm->chan_fd, POLLIN, 0 } };

	while (atomic_load(&vm->end) == VM_RUNNING) {
		/* Input only as fast as the guest drains the UART's FIFO: nothing is dropped. */
		pthread_mutex_lock(&vm->lock);
		size_t room = SERIAL_FIFO - vm->serial.rx_len;
		pthread_mutex_unlock(&vm->lock);
		/* One byte less than room: an escape may give back a Ctrl-A it held. */
		p[0].events = room > 1 ? POLLIN : 0;
		int r = poll(p, 3, room > 1 && vm->channel_hold_until == 0 ? 200 : 10);
		/* A pipe whose writer is gone says POLLHUP even when POLLIN was not asked for. */
		if (r > 0 && room > 1 && (p[0].revents & (POLLIN | POLLHUP))) {
			size_t want = room - 1 < sizeof(buf) - 1 ? room - 1 : sizeof(buf) - 1;
			ssize_t n = read(s->console_in, buf, want);
			if (n > 0) {
				uint8_t *in = buf;
				size_t keep = (size_t)n;
				if (s->console_escape)
					keep = vm_console_escape(vm, buf, keep, in = escaped);
				pthread_mutex_lock(&vm->lock);
				serial_receive(&vm->serial, in, keep);
				pthread_mutex_unlock(&vm->lock);
			} else {
				p[0].fd = -1; /* end of input: the guest keeps running */
			}
		}
		if (r > 0 && (p[1].revents & POLLIN))
			vm_serve_api(vm, api);
		if (r > 0 && (p[2].revents & POLLIN))
			channel_line(vm);
		channel_deadline(vm);
		/* A paused guest prints nothing, and is not stuck. */
		if (vm_is_paused(vm))
			atomic_store(&vm->last_output, (long long)time(NULL));
		if (s->quiet_timeout > 0 &&
		    time(NULL) - atomic_load(&vm->last_output) > (long long)s->quiet_timeout) {
			char why[160];
			snprintf(why, sizeof(why),
				 "the guest printed nothing on its console for %u s: it is stuck "
				 "(or its console is not ttyS0)",
				 s->quiet_timeout);
			vm_end(vm, VM_FAILED, why);
		}
	}
}
