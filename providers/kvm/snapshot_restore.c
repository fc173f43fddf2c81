/* SPDX-License-Identifier: MIT */
/*
 * `den vmm run --restore DIR`: a VM made with the options of the one
 * saved (its devices as for a fresh boot), no kernel loaded, guest RAM
 * mapped from the snapshot's memory file, then the devices', vCPUs' and
 * VM's state set, and the queues kicked once the devices' threads run.
 *
 * Guest RAM is the memory file mapped MAP_PRIVATE: a restore reads
 * nothing up front and takes milliseconds whatever the guest's size; a
 * page comes in from the file (the page cache, when warm) the first time
 * the guest touches it, and a page the guest writes becomes its own,
 * never written back. So the file must stay as it is while a VM runs from
 * it; a save into the same folder writes new files and renames them over,
 * which leaves the old ones to this mapping. Such RAM is in 4 KiB pages,
 * not huge pages, as with Firecracker's file-backed restores.
 */
#include "providers/kvm/snapshot-internal.h"
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/vmm.h"
#include "core/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE (2ULL << 20)

int vm_snapshot_open(struct vm *vm, const struct vmm_spec *s, struct den_err *err)
{
	cleanup_free char *path = NULL;
	struct snap_file *f = calloc(1, sizeof(*f));

	if (f == NULL || asprintf(&path, "%s/%s", s->restore, SNAP_STATE_FILE) < 0) {
		free(f);
		return den_err_set(err, ENOMEM, "cannot restore %s", s->restore);
	}
	if (snap_file_read(path, f, err) < 0 ||
	    snap_file_check_vm(f, vm->ncpus, s->memory, err) < 0) {
		snap_file_free(f);
		free(f);
		return -1;
	}
	vm->snapshot = f;
	vm->snapshot_dir = s->restore;
	return 0;
}

int vm_snapshot_map_memory(struct vm *vm, uint64_t size, struct den_err *err)
{
	cleanup_free char *path = NULL;

	if (asprintf(&path, "%s/%s", vm->snapshot_dir, SNAP_MEMORY_FILE) < 0)
		return den_err_set(err, ENOMEM, "cannot restore %s", vm->snapshot_dir);
	cleanup_close int fd = snap_memory_open(path, size, err);
	if (fd < 0)
		return -1;
	/* At a 2 MiB boundary, as guest-physical addresses are (vm.c says why). */
	uint8_t *p = mmap(NULL, size + HUGE_PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return den_err_set(err, errno, "cannot map the snapshot's memory %s", path);
	size_t head = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
	uint8_t *mem = mmap(p + head, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0);
	if (mem == MAP_FAILED) {
		int e = errno;
		munmap(p, size + HUGE_PAGE);
		return den_err_set(err, e, "cannot map the snapshot's memory %s", path);
	}
	if (head > 0)
		munmap(p, head);
	if (HUGE_PAGE - head > 0)
		munmap(mem + size, HUGE_PAGE - head);
	vm->mem = mem;
	return 0;
}

/* Pieces the snapshot holds that this host's KVM cannot put back. */
static int check_caps(const struct snap_file *f, const struct snap_caps *c, struct den_err *err)
{
	unsigned missing = f->h.has & ~c->has;

	if (missing & SNAP_HAS_XSAVE)
		return den_err_set(
			err, 0,
			"%s holds XSAVE state, which this host's KVM cannot restore (no "
			"KVM_CAP_XSAVE): restore it on a host like the one that saved it",
			f->path);
	if (missing & SNAP_HAS_XCRS)
		return den_err_set(
			err, 0,
			"%s holds the vCPUs' XCRs, which this host's KVM cannot restore "
			"(no KVM_CAP_XCRS): restore it on a host like the one that saved it",
			f->path);
	return 0;
}

int vm_snapshot_restore(struct vm *vm, struct den_err *err)
{
	const struct snap_file *f = vm->snapshot;
	struct snap_caps caps;

	snap_caps_probe(vm->kvm, &caps);
	if (check_caps(f, &caps, err) < 0 || snap_devices_restore(vm, f, err) < 0)
		return den_err_wrap(err, "cannot restore %s", vm->snapshot_dir);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vcpu_create(vm, i, 0, err) < 0 ||
		    snap_vcpu_restore(&vm->vcpus[i], f, &caps, err) < 0)
			return den_err_wrap(err, "cannot restore %s", vm->snapshot_dir);
	if (snap_vm_restore(vm, f, err) < 0)
		return den_err_wrap(err, "cannot restore %s", vm->snapshot_dir);
	return 0;
}

void vm_snapshot_close(struct vm *vm)
{
	if (vm->snapshot == NULL)
		return;
	snap_file_free(vm->snapshot);
	free(vm->snapshot);
	vm->snapshot = NULL;
}
