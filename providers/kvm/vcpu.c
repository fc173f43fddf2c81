/* SPDX-License-Identifier: MIT */
/*
 * vCPU set-up: CPUID (what KVM supports, with each vCPU's APIC id and the
 * hypervisor bit, without VMX and SVM: no nested guests), and for the boot processor the state the 64-bit boot
 * protocol expects: long mode, paging on with the identity map, the flat
 * GDT's selectors, rsi pointing at boot_params. The others wait for the
 * guest's INIT/SIPI in the in-kernel local APIC.
 */
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/boot.h"
#include "providers/kvm/vmm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

void vcpu_cpuid_adjust(struct kvm_cpuid_entry2 *e, unsigned id)
{
	if (e->function == 1) {
		e->ebx = (e->ebx & 0x00ffffff) | (id << 24);
		e->ecx |= 1u << 31;   /* running under a hypervisor */
		e->ecx &= ~(1u << 5); /* no VMX: den offers no nested guests */
	} else if (e->function == 0x80000001) {
		e->ecx &= ~(1u << 2); /* no SVM, likewise (Debian's kvm_amd would load and fall) */
	} else if (e->function == 0xb || e->function == 0x1f) {
		e->edx = id; /* x2APIC id */
	}
}

static int set_cpuid(struct vm *vm, int fd, unsigned id, struct den_err *err)
{
	struct kvm_cpuid2 *c = vm->cpuid;

	for (unsigned i = 0; i < c->nent; i++)
		vcpu_cpuid_adjust(&c->entries[i], id);
	if (ioctl(fd, KVM_SET_CPUID2, c) < 0)
		return den_err_set(err, errno, "cannot set the CPUID of vCPU %u", id);
	return 0;
}

static void segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = selector;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code ? 1 : 0;
	s->db = code ? 0 : 1;
}

static int long_mode(int fd, uint64_t entry, struct den_err *err)
{
	struct kvm_sregs sr;
	struct kvm_regs r;
	struct kvm_fpu fpu;

	if (ioctl(fd, KVM_GET_SREGS, &sr) < 0)
		return den_err_set(err, errno, "cannot read the boot vCPU's registers");
	segment(&sr.cs, 0x10, 0xb, true);
	segment(&sr.ds, 0x18, 0x3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.gdt.base = BOOT_GDT_ADDR;
	sr.gdt.limit = 4 * 8 - 1;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	sr.cr3 = BOOT_PML4_ADDR;
	sr.cr4 = 0x20;	     /* PAE */
	sr.cr0 = 0x80000011; /* PG, ET, PE */
	sr.efer = 0x500;     /* LME, LMA */
	if (ioctl(fd, KVM_SET_SREGS, &sr) < 0)
		return den_err_set(err, errno, "cannot put the boot vCPU in long mode");
	memset(&r, 0, sizeof(r));
	r.rip = entry;
	r.rsi = BOOT_PARAMS_ADDR;
	r.rsp = r.rbp = BOOT_STACK_ADDR;
	r.rflags = 2;
	if (ioctl(fd, KVM_SET_REGS, &r) < 0)
		return den_err_set(err, errno, "cannot set the boot vCPU's registers");
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
		return den_err_set(err, errno, "cannot set the boot vCPU's FPU");
	return 0;
}

/* A test program's start (vmm_spec.program): real mode, DS and ES flat over 4 GiB. */
static int real_mode(int fd, struct den_err *err)
{
	struct kvm_sregs sr;
	struct kvm_regs r;

	if (ioctl(fd, KVM_GET_SREGS, &sr) < 0)
		return den_err_set(err, errno, "cannot read the boot vCPU's registers");
	sr.cs.base = 0;
	sr.cs.selector = 0;
	sr.ss = sr.cs;
	sr.ds.base = 0;
	sr.ds.selector = 0;
	sr.ds.limit = 0xffffffff;
	sr.ds.g = 1;
	sr.es = sr.ds;
	if (ioctl(fd, KVM_SET_SREGS, &sr) < 0)
		return den_err_set(err, errno, "cannot set the boot vCPU's segments");
	memset(&r, 0, sizeof(r));
	r.rip = VMM_PROGRAM_ADDR;
	r.rsp = VMM_PROGRAM_STACK;
	r.rflags = 2;
	if (ioctl(fd, KVM_SET_REGS, &r) < 0)
		return den_err_set(err, errno, "cannot set the boot vCPU's registers");
	return 0;
}

int vcpu_create(struct vm *vm, unsigned id, uint64_t entry, struct den_err *err)
{
	struct vcpu *v = &vm->vcpus[id];

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return den_err_set(err, errno, "cannot create vCPU %u", id);
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return den_err_set(err, errno, "cannot map vCPU %u", id);
	}
	if (set_cpuid(vm, v->fd, id, err) < 0)
		return -1;
	if (id != 0)
		return 0;
	return vm->real_mode ? real_mode(v->fd, err) : long_mode(v->fd, entry, err);
}
