/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's state in a snapshot, in the orders KVM needs (as Firecracker
 * found them). Saving: the run state first (KVM_GET_MP_STATE accepts
 * pending APIC events, which changes the rest), the pending events last
 * (the other reads may change them). Restoring: CPUID first (other calls
 * look at it), registers before the pending events (KVM_SET_REGS drops
 * a pending exception, which KVM_SET_VCPU_EVENTS puts back), special
 * registers before the local APIC (they carry the APIC base), the local
 * APIC before the MSRs (the TSC deadline only takes with the APIC set),
 * and the TSC before the TSC deadline.
 */
#include "providers/kvm/snapshot-internal.h"
#include "providers/kvm/vm-internal.h"
#include "core/cleanup.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MAX_CPUID 256
#define MAX_MSRS 1024
#define MSR_TSC_DEADLINE 0x6e0
/* Frequencies closer than this are the same TSC calibrated twice (as QEMU and Firecracker allow). */
#define TSC_KHZ_TOLERANCE_PPM 250

void snap_caps_probe(int kvm, struct snap_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->xsave_size = sizeof(struct kvm_xsave);
	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0)
		c->has |= SNAP_HAS_XSAVE;
	/* KVM_CAP_XSAVE2 answers with the area's size, which grows past 4 KiB with AMX. */
	int size = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (size > (int)sizeof(struct kvm_xsave))
		c->xsave_size = (size_t)size;
	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0)
		c->has |= SNAP_HAS_XCRS;
	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ) > 0)
		c->has |= SNAP_HAS_TSC_KHZ;
	c->tsc_control = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0;
}

/*
 * Guest state among the MSRs KVM lists (Firecracker's list, shortened to
 * what KVM emulates): not the feature MSRs (ARCH_CAPABILITIES, PERF_CAPABILITIES:
 * KVM's answer, not the guest's), not MCG_CTL (Linux does not let it be
 * read), not the old kvmclock MSRs 0x11 and 0x12 (writing their zero back
 * would switch off a kvmclock the guest set up through the new ones).
 */
static bool keep_msr(uint32_t i)
{
	static const struct {
		uint32_t first, last;
	} ranges[] = {
		{ 0x10, 0x10 },		    /* TSC */
		{ 0x1b, 0x1b },		    /* APIC base */
		{ 0x34, 0x34 },		    /* SMI count */
		{ 0x3a, 0x3b },		    /* feature control, TSC adjust */
		{ 0x48, 0x48 },		    /* speculation control */
		{ 0x8b, 0x8b },		    /* microcode revision */
		{ 0xce, 0xce },		    /* platform info */
		{ 0x122, 0x122 },	    /* TSX control */
		{ 0x140, 0x140 },	    /* misc features enables */
		{ 0x174, 0x176 },	    /* SYSENTER */
		{ 0x179, 0x17a },	    /* MCG_CAP, MCG_STATUS */
		{ 0x1a0, 0x1a0 },	    /* misc enable */
		{ 0x1d9, 0x1d9 },	    /* debug control */
		{ 0x1db, 0x1de },	    /* last branch records */
		{ 0x1fc, 0x1fc },	    /* power control */
		{ 0x200, 0x2ff },	    /* MTRRs, PAT */
		{ 0x400, 0x47f },	    /* machine-check banks */
		{ 0x6e0, 0x6e0 },	    /* TSC deadline */
		{ 0xda0, 0xda0 },	    /* XSS */
		{ 0xc0000080, 0xc0000084 }, /* EFER, STAR, LSTAR, CSTAR, SFMASK */
		{ 0xc0000100, 0xc0000103 }, /* FS and GS bases, kernel GS base, TSC_AUX */
		{ 0xc0010015, 0xc0010015 }, /* AMD HWCR */
		{ 0x4b564d00, 0x4b564dff }, /* KVM's own: kvmclock, steal time, async PF, PV EOI */
	};

	for (size_t r = 0; r < DEN_ARRAY_SIZE(ranges); r++)
		if (i >= ranges[r].first && i <= ranges[r].last)
			return true;
	return false;
}

int snap_msr_list(int kvm, uint32_t **out, unsigned *n, struct den_err *err)
{
	cleanup_free struct kvm_msr_list *l =
		calloc(1, sizeof(*l) + MAX_MSRS * sizeof(l->indices[0]));
	uint32_t *keep;
	unsigned k = 0;
	bool deadline = false;

	if (l == NULL)
		return den_err_set(err, ENOMEM, "cannot list the MSRs");
	l->nmsrs = MAX_MSRS;
	if (ioctl(kvm, KVM_GET_MSR_INDEX_LIST, l) < 0)
		return den_err_set(err, errno, "cannot list the MSRs KVM saves");
	keep = calloc(l->nmsrs + 1, sizeof(*keep));
	if (keep == NULL)
		return den_err_set(err, ENOMEM, "cannot list the MSRs");
	for (unsigned i = 0; i < l->nmsrs; i++) {
		if (l->indices[i] == MSR_TSC_DEADLINE)
			deadline = true;
		else if (keep_msr(l->indices[i]))
			keep[k++] = l->indices[i];
	}
	if (deadline)
		keep[k++] = MSR_TSC_DEADLINE; /* after the TSC: its timer is primed against it */
	*out = keep;
	*n = k;
	return 0;
}

/*
 * The MSRs' values. One KVM lists but cannot read for this vCPU (a PMU
 * MSR with no PMU) is no state of it: left out, as it could not be put back.
 */
static int save_msrs(struct vcpu *v, const uint32_t *msrs, unsigned n, struct snap_writer *w,
		     struct den_err *err)
{
	cleanup_free struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));

	if (m == NULL)
		return den_err_set(err, ENOMEM, "cannot read vCPU %u's MSRs", v->id);
	for (unsigned i = 0; i < n; i++)
		m->entries[i].index = msrs[i];
	m->nmsrs = n;
	for (;;) {
		int got = ioctl(v->fd, KVM_GET_MSRS, m);
		if (got < 0)
			return den_err_set(err, errno, "cannot read vCPU %u's MSRs", v->id);
		if ((unsigned)got >= m->nmsrs)
			break;
		/* Entry got is the one KVM refused: drop it, read the rest again. */
		memmove(&m->entries[got], &m->entries[got + 1],
			(m->nmsrs - (unsigned)got - 1) * sizeof(m->entries[0]));
		m->nmsrs--;
	}
	snap_put(w, SNAP_VCPU_MSRS, v->id, m->entries, m->nmsrs * sizeof(m->entries[0]));
	return 0;
}

/* A fixed-size piece: one GET ioctl into a section. */
static int save_one(struct vcpu *v, unsigned long req, void *buf, size_t size, enum snap_type t,
		    struct snap_writer *w, struct den_err *err)
{
	memset(buf, 0, size);
	if (ioctl(v->fd, req, buf) < 0)
		return den_err_set(err, errno, "cannot read vCPU %u's %s", v->id,
				   snap_type_name(t));
	snap_put(w, t, v->id, buf, size);
	return 0;
}

int snap_vcpu_save(struct vcpu *v, const struct snap_caps *c, const uint32_t *msrs, unsigned nmsrs,
		   struct snap_writer *w, struct den_err *err)
{
	union {
		struct kvm_mp_state mp;
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_fpu fpu;
		struct kvm_xcrs xcrs;
		struct kvm_debugregs dregs;
		struct kvm_lapic_state lapic;
		struct kvm_vcpu_events events;
	} u;
	cleanup_free void *xsave = calloc(1, c->xsave_size);
	cleanup_free struct kvm_cpuid2 *cpuid =
		calloc(1, sizeof(*cpuid) + MAX_CPUID * sizeof(cpuid->entries[0]));

	if (xsave == NULL || cpuid == NULL)
		return den_err_set(err, ENOMEM, "cannot save vCPU %u", v->id);
	if (save_one(v, KVM_GET_MP_STATE, &u.mp, sizeof(u.mp), SNAP_VCPU_MP_STATE, w, err) < 0 ||
	    save_one(v, KVM_GET_REGS, &u.regs, sizeof(u.regs), SNAP_VCPU_REGS, w, err) < 0 ||
	    save_one(v, KVM_GET_SREGS, &u.sregs, sizeof(u.sregs), SNAP_VCPU_SREGS, w, err) < 0)
		return -1;
	if (c->has & SNAP_HAS_XSAVE) {
		unsigned long req =
			c->xsave_size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
		if (ioctl(v->fd, req, xsave) < 0)
			return den_err_set(err, errno, "cannot read vCPU %u's XSAVE area", v->id);
		snap_put(w, SNAP_VCPU_XSAVE, v->id, xsave, c->xsave_size);
	} else if (save_one(v, KVM_GET_FPU, &u.fpu, sizeof(u.fpu), SNAP_VCPU_FPU, w, err) < 0) {
		return -1;
	}
	if ((c->has & SNAP_HAS_XCRS) &&
	    save_one(v, KVM_GET_XCRS, &u.xcrs, sizeof(u.xcrs), SNAP_VCPU_XCRS, w, err) < 0)
		return -1;
	if (save_one(v, KVM_GET_DEBUGREGS, &u.dregs, sizeof(u.dregs), SNAP_VCPU_DEBUGREGS, w, err) <
		    0 ||
	    save_one(v, KVM_GET_LAPIC, &u.lapic, sizeof(u.lapic), SNAP_VCPU_LAPIC, w, err) < 0)
		return -1;
	if (c->has & SNAP_HAS_TSC_KHZ) {
		int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
		if (khz <= 0)
			return den_err_set(err, errno, "cannot read vCPU %u's TSC frequency",
					   v->id);
		uint32_t k = (uint32_t)khz;
		snap_put(w, SNAP_VCPU_TSC_KHZ, v->id, &k, sizeof(k));
	}
	cpuid->nent = MAX_CPUID;
	if (ioctl(v->fd, KVM_GET_CPUID2, cpuid) < 0)
		return den_err_set(err, errno, "cannot read vCPU %u's CPUID", v->id);
	snap_put(w, SNAP_VCPU_CPUID, v->id, cpuid->entries,
		 cpuid->nent * sizeof(cpuid->entries[0]));
	if (save_msrs(v, msrs, nmsrs, w, err) < 0)
		return -1;
	return save_one(v, KVM_GET_VCPU_EVENTS, &u.events, sizeof(u.events), SNAP_VCPU_EVENTS, w,
			err);
}

/* A fixed-size piece: a section into one SET ioctl. */
static int restore_one(struct vcpu *v, const struct snap_file *f, enum snap_type t,
		       unsigned long req, void *buf, size_t size, struct den_err *err)
{
	if (snap_get(f, t, v->id, buf, size, err) < 0)
		return -1;
	if (ioctl(v->fd, req, buf) < 0)
		return den_err_set(err, errno, "KVM refused vCPU %u's %s from %s", v->id,
				   snap_type_name(t), f->path);
	return 0;
}

/* The snapshot's CPUID, exactly: the guest has seen it. */
static int restore_cpuid(struct vcpu *v, const struct snap_file *f, struct den_err *err)
{
	size_t len = 0;
	const uint8_t *p = snap_find(f, SNAP_VCPU_CPUID, v->id, &len);
	size_t entry = sizeof(struct kvm_cpuid_entry2);

	if (p == NULL || len == 0 || len % entry != 0 || len / entry > MAX_CPUID)
		return den_err_set(err, 0, "%s is damaged: vCPU %u's CPUID is missing or cut",
				   f->path, v->id);
	cleanup_free struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + len);
	if (c == NULL)
		return den_err_set(err, ENOMEM, "cannot restore vCPU %u", v->id);
	c->nent = (uint32_t)(len / entry);
	memcpy(c->entries, p, len);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		return den_err_set(err, errno, "KVM refused vCPU %u's CPUID from %s", v->id,
				   f->path);
	return 0;
}

/* The snapshot's TSC frequency, scaled to where this host's differs. */
static int restore_tsc_khz(struct vcpu *v, const struct snap_file *f, const struct snap_caps *c,
			   struct den_err *err)
{
	uint32_t want = 0;

	if (!(f->h.has & SNAP_HAS_TSC_KHZ) || !(c->has & SNAP_HAS_TSC_KHZ))
		return 0; /* nothing to compare with: the TSC runs at this host's rate */
	if (snap_get(f, SNAP_VCPU_TSC_KHZ, v->id, &want, sizeof(want), err) < 0)
		return -1;
	int here = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	if (here <= 0 || want == 0)
		return den_err_set(err, errno, "cannot read vCPU %u's TSC frequency", v->id);
	uint64_t diff =
		(uint64_t)(here > (int)want ? (uint32_t)here - want : want - (uint32_t)here);
	if (diff * 1000000 <= (uint64_t)want * TSC_KHZ_TOLERANCE_PPM)
		return 0;
	if (!c->tsc_control || ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)want) < 0)
		return den_err_set(err, c->tsc_control ? errno : 0,
				   "the snapshot's TSC ran at %u kHz and this host's runs at %d "
				   "kHz, which its KVM cannot scale: restore it on a host like the "
				   "one that saved it",
				   want, here);
	return 0;
}

static int restore_fpu(struct vcpu *v, const struct snap_file *f, const struct snap_caps *c,
		       struct den_err *err)
{
	struct kvm_fpu fpu;
	size_t len = 0;

	if (!(f->h.has & SNAP_HAS_XSAVE))
		return restore_one(v, f, SNAP_VCPU_FPU, KVM_SET_FPU, &fpu, sizeof(fpu), err);
	const uint8_t *p = snap_find(f, SNAP_VCPU_XSAVE, v->id, &len);
	if (p == NULL || len < sizeof(struct kvm_xsave))
		return den_err_set(err, 0, "%s is damaged: vCPU %u's XSAVE area is missing or cut",
				   f->path, v->id);
	if (len > c->xsave_size)
		return den_err_set(
			err, 0,
			"the snapshot's XSAVE area is %zu bytes, more than this host's "
			"KVM holds (%zu): restore it on a host like the one that saved it",
			len, c->xsave_size);
	/* KVM_SET_XSAVE reads the whole area this host has: what the snapshot lacks is zero. */
	cleanup_free uint8_t *x = calloc(1, c->xsave_size);
	if (x == NULL)
		return den_err_set(err, ENOMEM, "cannot restore vCPU %u", v->id);
	memcpy(x, p, len);
	if (ioctl(v->fd, KVM_SET_XSAVE, x) < 0)
		return den_err_set(err, errno, "KVM refused vCPU %u's XSAVE area from %s", v->id,
				   f->path);
	return 0;
}

static int restore_msrs(struct vcpu *v, const struct snap_file *f, struct den_err *err)
{
	size_t len = 0, entry = sizeof(struct kvm_msr_entry);
	const uint8_t *p = snap_find(f, SNAP_VCPU_MSRS, v->id, &len);

	if (p == NULL || len % entry != 0 || len / entry > MAX_MSRS)
		return den_err_set(err, 0, "%s is damaged: vCPU %u's MSRs are missing or cut",
				   f->path, v->id);
	cleanup_free struct kvm_msrs *m = calloc(1, sizeof(*m) + len);
	if (m == NULL)
		return den_err_set(err, ENOMEM, "cannot restore vCPU %u", v->id);
	m->nmsrs = (uint32_t)(len / entry);
	memcpy(m->entries, p, len);
	int set = ioctl(v->fd, KVM_SET_MSRS, m);
	if (set < 0)
		return den_err_set(err, errno, "KVM refused vCPU %u's MSRs from %s", v->id,
				   f->path);
	if ((unsigned)set < m->nmsrs)
		return den_err_set(err, 0,
				   "KVM refused MSR %#x of vCPU %u from %s: restore it on a host "
				   "like the one that saved it",
				   m->entries[set].index, v->id, f->path);
	return 0;
}

int snap_vcpu_restore(struct vcpu *v, const struct snap_file *f, const struct snap_caps *c,
		      struct den_err *err)
{
	union {
		struct kvm_mp_state mp;
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_xcrs xcrs;
		struct kvm_debugregs dregs;
		struct kvm_lapic_state lapic;
		struct kvm_vcpu_events events;
	} u;

	if (restore_tsc_khz(v, f, c, err) < 0 || restore_cpuid(v, f, err) < 0 ||
	    restore_one(v, f, SNAP_VCPU_MP_STATE, KVM_SET_MP_STATE, &u.mp, sizeof(u.mp), err) < 0 ||
	    restore_one(v, f, SNAP_VCPU_REGS, KVM_SET_REGS, &u.regs, sizeof(u.regs), err) < 0 ||
	    restore_one(v, f, SNAP_VCPU_SREGS, KVM_SET_SREGS, &u.sregs, sizeof(u.sregs), err) < 0 ||
	    restore_fpu(v, f, c, err) < 0)
		return -1;
	if ((f->h.has & SNAP_HAS_XCRS) &&
	    restore_one(v, f, SNAP_VCPU_XCRS, KVM_SET_XCRS, &u.xcrs, sizeof(u.xcrs), err) < 0)
		return -1;
	if (restore_one(v, f, SNAP_VCPU_DEBUGREGS, KVM_SET_DEBUGREGS, &u.dregs, sizeof(u.dregs),
			err) < 0 ||
	    restore_one(v, f, SNAP_VCPU_LAPIC, KVM_SET_LAPIC, &u.lapic, sizeof(u.lapic), err) < 0 ||
	    restore_msrs(v, f, err) < 0 ||
	    restore_one(v, f, SNAP_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, &u.events, sizeof(u.events),
			err) < 0)
		return -1;
	/* The guest's kvmclock is told it was stopped (no soft lockup warning); EINVAL without one. */
	(void)ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0);
	return 0;
}
