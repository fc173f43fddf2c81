/* SPDX-License-Identifier: MIT */
/*
 * Warm images, the VMM's side (docs/vmm.md, "Warm images"). A template
 * VM booted with --warm-save runs until den's hook in the guest says on
 * den's channel
 *
 *	den-warm: ready bootid=<32 hex digits> at=<guest-physical address, hex>
 *
 * (its /proc/sys/kernel/random/boot_id as raw bytes, and where the kernel
 * keeps them); the VM is then paused, the address checked against the
 * bytes (a hook that is wrong, or lies, gets no warm image), and saved
 * with it (SNAP_VM_CLONE), and ends. A VM restored from it with --clone
 * is made a machine of its own before its vCPUs run: a new boot_id where
 * the kernel keeps it, a new VM generation ID (the guest's RNG reseeds
 * when the GED tells it), and den's record for the hook in guest memory
 * (den's ACPI table, acpi.h), which the channel then announces.
 * Every restore gets a new VM generation ID: a snapshot restored twice
 * must not repeat its random numbers either.
 */
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/acpi.h"
#include "providers/kvm/snapshot-internal.h"
#include "providers/kvm/vmm.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define READY "den-warm: ready "
/* What the channel sends: "time S.NNNNNNNNN\n", "record LEN\n", "end\n". */
#define CHANNEL_TAIL 128
#define BOOT_ID_SIZE 16

/* Fresh random bytes from the host, or an error: never zeros in their place. */
static int fresh(uint8_t *out, size_t n, struct den_err *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(out + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return den_err_set(err, errno, "cannot read random bytes from the host");
		got += (size_t)r;
	}
	return 0;
}

int vmgenid_renew(struct vm *vm, struct den_err *err)
{
	uint8_t *id = guest_ptr(&vm->gm, ACPI_VMGENID_ADDR, ACPI_VMGENID_SIZE);

	if (id == NULL)
		return den_err_set(err, 0, "the VM is too small for its generation ID");
	return fresh(id, ACPI_VMGENID_SIZE, err);
}

/* Two hex digits per byte, exactly n bytes' worth, then the end or a space. */
static bool parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]))
			return false;
		out[i] = (uint8_t)v;
	}
	return s[2 * n] == '\0' || s[2 * n] == ' ';
}

/* "den-warm: ready bootid=HEX at=HEX": false for anything else. */
static bool parse_ready(const char *line, uint8_t *boot_id, uint64_t *at)
{
	const char *b, *a;
	char *end;

	if (strncmp(line, READY, strlen(READY)) != 0)
		return false;
	b = strstr(line, "bootid=");
	a = strstr(line, "at=");
	if (b == NULL || a == NULL || !parse_hex_bytes(b + 7, boot_id, BOOT_ID_SIZE))
		return false;
	errno = 0;
	*at = strtoull(a + 3, &end, 16);
	return errno == 0 && end != a + 3 && (*end == '\0' || *end == ' ');
}

bool clone_is_ready_line(const char *line)
{
	return strncmp(line, READY, strlen(READY)) == 0;
}

int clone_save_template(struct vm *vm, const char *line, struct den_err *err)
{
	uint8_t boot_id[BOOT_ID_SIZE];
	uint64_t at = 0;

	if (!parse_ready(line, boot_id, &at))
		return den_err_set(err, 0,
				   "the guest's hook said it was ready in words den does not know "
				   "(\"%s\"): no warm image",
				   line);
	vm_pause(vm);
	const uint8_t *p = guest_ptr(&vm->gm, at, BOOT_ID_SIZE);
	if (p == NULL || memcmp(p, boot_id, BOOT_ID_SIZE) != 0)
		return den_err_set(err, 0,
				   "the guest's hook named 0x%" PRIx64 " as where its kernel keeps "
				   "boot_id, and it is not there: no warm image",
				   at);
	vm->clone.boot_id_at = at;
	vm->clone.template = true;
	if (vm_snapshot_save(vm, vm->warm_save, err) < 0)
		return -1;
	vm_end(vm, VM_POWEROFF, "a warm image's template, saved");
	return 0;
}

/*
 * The record den gives the hook, from channel_in (at most DEN_RECORD_MAX
 * bytes): into guest memory as den's ACPI table (acpi.h), zeros after it;
 * the channel will say "record LEN".
 */
static int load_channel_input(struct vm *vm, const char *path, struct den_err *err)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;

	if (den_read_file(path, DEN_RECORD_MAX, &buf, &len, err) < 0)
		return den_err_wrap(err, "den's record for the guest (at most %u KiB)",
				    DEN_RECORD_MAX >> 10);
	uint8_t *table = guest_ptr(&vm->gm, DEN_RECORD_ADDR, DEN_RECORD_TABLE_SIZE);
	char *line = malloc(CHANNEL_TAIL);
	if (table == NULL || line == NULL) {
		free(line);
		return line == NULL ? den_err_set(err, ENOMEM, "den's record for the guest")
				    : den_err_set(err, 0, "the VM is too small for den's record");
	}
	acpi_den_record(table, buf, len);
	explicit_bzero(buf, len);
	int n = snprintf(line, CHANNEL_TAIL, "record %zu\n", len);
	pthread_mutex_lock(&vm->lock);
	channel_set_input(&vm->chan, (uint8_t *)line, (size_t)n, CHANNEL_TAIL);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

void vm_channel_release(struct vm *vm)
{
	struct timespec now;
	char time_line[64];

	if (!vm->chan.held)
		return;
	/* The host's time as it goes, first: the hook sets the clock the template stopped. */
	clock_gettime(CLOCK_REALTIME, &now);
	int n = snprintf(time_line, sizeof(time_line), "time %lld.%09ld\n", (long long)now.tv_sec,
			 now.tv_nsec);
	if (vm->chan.input != NULL && n > 0 && (size_t)n < sizeof(time_line)) {
		channel_add(&vm->chan, true, time_line, (size_t)n);
		channel_add(&vm->chan, false, "end\n", 4);
	}
	channel_release(&vm->chan);
}

int clone_prepare(struct vm *vm, const struct vmm_spec *s, struct den_err *err)
{
	if (s->channel_in != NULL && load_channel_input(vm, s->channel_in, err) < 0)
		return -1;
	if (s->restore == NULL) {
		/* A boot: the generation ID's first value, and nothing to wait for. */
		pthread_mutex_lock(&vm->lock);
		vm_channel_release(vm);
		pthread_mutex_unlock(&vm->lock);
		return vmgenid_renew(vm, err);
	}
	if (s->clone) {
		uint8_t id[BOOT_ID_SIZE];
		if (!vm->clone.template)
			return den_err_set(err, 0,
					   "%s is a snapshot, not a warm image: only a warm image "
					   "makes new machines",
					   s->restore);
		uint8_t *p = guest_ptr(&vm->gm, vm->clone.boot_id_at, BOOT_ID_SIZE);
		if (p == NULL || fresh(id, sizeof(id), err) < 0)
			return p == NULL ? den_err_set(err, 0,
						       "%s is damaged: its boot_id lies "
						       "outside guest memory",
						       s->restore)
					 : -1;
		/* A version 4 UUID, as the kernel makes them (and byte 8 never 0: it keeps it). */
		id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
		id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
		memcpy(p, id, sizeof(id));
		vm->clone.made = true;
		working_set_prefault(vm);
	}
	if (vmgenid_renew(vm, err) < 0)
		return -1;
	/* The guest learns the new ID from its GED; den's record waits until it read the event. */
	vm->channel_hold_until = den_now_ms() + CHANNEL_HOLD_MS;
	return ged_raise(vm, ACPI_GED_VMGENID, err);
}
