/* SPDX-License-Identifier: MIT */
/*
 * A VM from start to end: /dev/kvm, the VM with its TSS and identity-map
 * pages, the in-kernel IOAPIC/PIC/LAPICs and PIT, guest RAM (hugetlbfs
 * pages where reserved, else one mapping with transparent huge pages
 * asked for; the part past 3 GiB placed above the 32-bit MMIO gap), the
 * devices, the kernel loaded by the boot protocol (or a snapshot restored,
 * clone.c making it a new machine where asked), vCPU threads, and this
 * thread watching the console until the guest resets or powers off.
 */
#include "providers/kvm/vmm.h"
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/acpi.h"
#include "providers/kvm/snapshot-internal.h"
#include "providers/host_kvm.h"
#include "core/cleanup.h"
#include "core/control.h"
#include "core/fsutil.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define TSS_ADDR 0xfffbd000
#define IDENTITY_MAP_ADDR 0xfffbc000ULL
#define MAX_IMAGE (512ULL << 20)
#define HUGE_PAGE (2ULL << 20)
/* Under 2 MiB, so never a huge page; the threads' deepest paths use a few KiB. */
#define THREAD_STACK (256 << 10)

int vmm_probe(struct den_err *err)
{
	char why[512];

	if (!kvm_host_usable(why, sizeof(why)))
		return den_err_set(err, 0,
				   "%s; use provider: container or qemu here, or a host "
				   "with kvm_intel or kvm_amd",
				   why);
	return 0;
}

/*
 * Guest RAM: hugetlbfs pages when the host has enough reserved (the mapping
 * reserves them all up front, so a guest never meets a missing one), else
 * anonymous memory with transparent huge pages asked for.
 */
static int guest_ram(struct vm *vm, uint64_t size, struct den_err *err)
{
	if (size % HUGE_PAGE == 0) {
		vm->mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (vm->mem != MAP_FAILED) {
			vm->hugetlb = true;
			return 0;
		}
	}
	/*
	 * Aligned to 2 MiB, as guest-physical addresses are: only then can a host
	 * huge page back a guest one and KVM map it with one 2 MiB entry (an
	 * unaligned mapping costs the guest a nested page fault per 4 KiB).
	 */
	uint8_t *p = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return den_err_set(err, errno, "cannot allocate %llu MiB of guest memory",
				   (unsigned long long)(size >> 20));
	size_t head = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
	if (head > 0)
		munmap(p, head);
	if (HUGE_PAGE - head > 0)
		munmap(p + head + size, HUGE_PAGE - head);
	vm->mem = p + head;
	madvise(vm->mem, size, MADV_HUGEPAGE); /* best effort */
	return 0;
}

int vm_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	int e = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return e;
}

static int create_vm(struct vm *vm, const struct vmm_spec *s, struct den_err *err)
{
	uint64_t identity = IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = { .flags = 0 };

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return den_err_set(err, errno, "cannot open /dev/kvm");
	if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return den_err_set(err, 0, "/dev/kvm speaks another KVM API version");
	int max = ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max > 0 && vm->ncpus > (unsigned)max)
		return den_err_usage(err, "this host's KVM runs at most %d vCPUs in a VM", max);
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return den_err_set(err, errno, "cannot create a VM");
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0 ||
	    ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0 ||
	    ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0 || ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return den_err_set(err, errno, "cannot set up the VM's interrupt controllers");
	boot_layout(s->memory, &vm->layout);
	if ((vm->snapshot != NULL ? vm_snapshot_map_memory(vm, s->memory, err)
				  : guest_ram(vm, s->memory, err)) < 0)
		return -1;
	struct kvm_userspace_memory_region low = { 0, 0, 0, vm->layout.low,
						   (uint64_t)(uintptr_t)vm->mem };
	struct kvm_userspace_memory_region high = {
		1, 0, MMIO_GAP_END, vm->layout.high, (uint64_t)(uintptr_t)(vm->mem + vm->layout.low)
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &low) < 0 ||
	    (vm->layout.high > 0 && ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &high) < 0))
		return den_err_set(err, errno, "cannot give the VM its memory");
	int run_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		return den_err_set(err, errno, "cannot size the vCPU run area");
	vm->run_size = (size_t)run_size;
	vm->cpuid = calloc(1, sizeof(*vm->cpuid) + 256 * sizeof(struct kvm_cpuid_entry2));
	if (vm->cpuid == NULL)
		return den_err_set(err, ENOMEM, "cannot create the VM");
	vm->cpuid->nent = 256;
	if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0)
		return den_err_set(err, errno, "cannot read the CPUID KVM supports");
	return 0;
}

/* ACPI tables (devices, poweroff, MADT), and boot_params pointing at them. */
static void write_acpi(struct vm *vm)
{
	struct acpi_mmio_dev devs[VM_MAX_DEVICES];

	for (unsigned i = 0; i < vm->ndevs; i++)
		devs[i] = (struct acpi_mmio_dev){ vm->devs[i].base, VIRTIO_MMIO_SIZE,
						  vm->devs[i].irq };
	uint64_t rsdp = acpi_write(vm->mem, vm->ncpus, (uint8_t)vm->ncpus, devs, vm->ndevs);
	uint8_t *p = vm->mem + BOOT_PARAMS_ADDR + 0x070; /* acpi_rsdp_addr (protocol 2.14) */
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(rsdp >> (8 * i));
}

/* A file mapped read-only (never read through a buffer): den's kernel and initrd inputs. */
struct mapped {
	int fd;
	uint8_t *p;
	size_t len;
};

static int map_file(const char *path, struct mapped *m, struct den_err *err)
{
	struct stat st;

	m->p = NULL;
	m->len = 0;
	m->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0 || fstat(m->fd, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || (uint64_t)st.st_size > MAX_IMAGE)
		return den_err_set(err, 0, "%s: not a file of 1 byte to %llu MiB", path,
				   (unsigned long long)(MAX_IMAGE >> 20));
	m->len = (size_t)st.st_size;
	m->p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, m->fd, 0);
	if (m->p == MAP_FAILED) {
		m->p = NULL;
		return den_err_set(err, errno, "cannot read %s", path);
	}
	return 0;
}

static void unmap_file(struct mapped *m)
{
	if (m->p != NULL)
		munmap(m->p, m->len);
	if (m->fd >= 0)
		close(m->fd);
}

/*
 * The initrd into guest RAM at its page-aligned place: the file mapped
 * there, copy-on-write, so its pages are read when the guest reads them
 * (a 30 MiB initrd costs den nothing before the guest starts); copied
 * where the RAM is hugetlbfs pages, which a file mapping cannot split.
 */
static void place_initrd(struct vm *vm, const struct mapped *m, uint64_t at)
{
	if (!vm->hugetlb && mmap(vm->mem + at, m->len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_FIXED, m->fd, 0) != MAP_FAILED)
		return;
	memcpy(vm->mem + at, m->p, m->len);
}

static int load(struct vm *vm, const struct vmm_spec *s, uint64_t *entry, struct den_err *err)
{
	const char *cmdline = s->cmdline ? s->cmdline : "";
	struct mapped kernel = { .fd = -1 }, initrd = { .fd = -1 };
	struct boot_kernel k;
	int rc = -1;

	if (s->program != NULL) {
		if (s->program_len > VMM_PROGRAM_MAX)
			return den_err_usage(err, "a real-mode program takes at most %d bytes",
					     VMM_PROGRAM_MAX);
		memcpy(vm->mem + VMM_PROGRAM_ADDR, s->program, s->program_len);
		vm->real_mode = true;
		*entry = VMM_PROGRAM_ADDR;
		return 0;
	}
	if (map_file(s->kernel, &kernel, err) < 0 ||
	    (s->initrd != NULL && map_file(s->initrd, &initrd, err) < 0))
		goto out;
	if (boot_load(vm->mem, &vm->layout, kernel.p, kernel.len, NULL, initrd.len, cmdline, &k,
		      err) < 0) {
		den_err_wrap(err, "%s", s->kernel);
		goto out;
	}
	if (initrd.len > 0)
		place_initrd(vm, &initrd, k.initrd_addr);
	boot_page_tables(vm->mem);
	boot_gdt(vm->mem);
	boot_reset_vector(vm->mem);
	if (vm->ncpus <= BOOT_MPTABLE_MAX_CPUS)
		boot_mptable(vm->mem, vm->ncpus, (uint8_t)vm->ncpus);
	write_acpi(vm);
	*entry = k.entry;
	rc = 0;
out:
	unmap_file(&kernel);
	unmap_file(&initrd);
	return rc;
}

static void kick(int sig)
{
	(void)sig; /* only to make KVM_RUN return */
}

int vmm_run(const struct vmm_spec *s, int *status, struct den_err *err)
{
	struct vm vm = { .kvm = -1,
			 .fd = -1,
			 .stop_fd = -1,
			 .chan_fd = -1,
			 .warm_save = s->warm_save,
			 .ncpus = s->cpus ? s->cpus : 1,
			 .out_fd = s->console_out,
			 .started = s->started,
			 .startup_us = -1 };
	uint64_t entry = 0;
	int rc = 0;
	sigset_t block, old;

	if (vm.ncpus > VMM_MAX_CPUS)
		return den_err_usage(err, "at most %d vCPUs", VMM_MAX_CPUS);
	/*
	 * The VMM writes to sockets whose peers may be gone (forwarded
	 * connections, control clients): EPIPE, never SIGPIPE, which ended
	 * the kvm provider's VMM silently at its first SSH attempt.
	 */
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&vm.lock, NULL);
	pthread_mutex_init(&vm.pause_lock, NULL);
	pthread_cond_init(&vm.resumed, NULL);
	vm_console_init(&vm);
	vm_channel_init(&vm);
	atomic_store(&vm.last_output, (long long)time(NULL));
	vm.vcpus = calloc(vm.ncpus, sizeof(*vm.vcpus));
	if (vm.vcpus == NULL)
		return den_err_set(err, ENOMEM, "cannot create the VM");
	/* No SA_RESTART: a kick must interrupt a vCPU's blocking write too. */
	struct sigaction sa = { .sa_handler = kick };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* vCPU threads unblock SIGUSR1 for themselves; everyone else keeps it blocked. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	vm.stop_fd = eventfd(0, EFD_CLOEXEC);
	vm.chan_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm.stop_fd < 0 || vm.chan_fd < 0) {
		rc = den_err_set(err, errno, "cannot create the VM");
		goto out;
	}
	/* A restore makes its vCPUs itself, with their state, before any thread runs. */
	if ((s->restore != NULL && vm_snapshot_open(&vm, s, err) < 0) ||
	    create_vm(&vm, s, err) < 0 || vm_add_devices(&vm, s, err) < 0 ||
	    (s->restore != NULL ? vm_snapshot_restore(&vm, err) : load(&vm, s, &entry, err)) < 0 ||
	    clone_prepare(&vm, s, err) < 0 || vm_start_devices(&vm, err) < 0) {
		vm_end(&vm, VM_FAILED, err->msg);
		rc = -1;
		goto out;
	}
	for (unsigned i = 0; i < vm.ncpus && rc == 0; i++)
		rc = s->restore != NULL ? 0 : vcpu_create(&vm, i, entry, err);
	if (s->restore != NULL)
		snap_devices_kick(&vm); /* what the guest posted just before the save */
	for (unsigned i = 0; i < vm.ncpus && rc == 0; i++) {
		int e = vm_thread_start(&vm.vcpus[i].thread, vcpu_loop, &vm.vcpus[i]);
		if (e != 0)
			rc = den_err_set(err, e, "cannot start vCPU %u", i);
		else
			atomic_store_explicit(&vm.vcpus[i].started, true, memory_order_release);
	}
	int api = -1;
	if (rc == 0 && s->api != NULL && (api = control_listen(s->api, err)) < 0)
		rc = -1;
	if (rc == 0)
		vm_watch(&vm, s, api);
	else
		vm_end(&vm, VM_FAILED, err->msg);
	for (unsigned i = 0; i < vm.ncpus; i++)
		if (vm.vcpus[i].started)
			pthread_join(vm.vcpus[i].thread, NULL);
	if (rc == 0 && atomic_load(&vm.end) == VM_FAILED)
		rc = den_err_set(err, 0, "%s", vm.why);
	else if (rc == 0 && vm.why[0] != '\0') /* why a detached VMM is gone, in its log */
		fprintf(stderr, "den vmm: the VM ended: %s\n", vm.why);
	*status = 0;
	if (api >= 0) {
		close(api);
		unlink(s->api);
	}
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (unsigned i = 0; i < vm.ndevs; i++) {
		virtio_unwire(&vm.devs[i]); /* joins its thread: the VM has ended */
		pthread_mutex_destroy(&vm.devs[i].lock);
	}
	if (s->stats != NULL)
		*s->stats =
			(struct vmm_stats){ atomic_load(&vm.io_exits), atomic_load(&vm.mmio_exits),
					    atomic_load(&vm.notify_exits), vm.hugetlb,
					    atomic_load(&vm.end) == VM_POWEROFF };
	for (unsigned i = 0; i < vm.ncpus; i++) {
		if (vm.vcpus[i].run != NULL)
			munmap(vm.vcpus[i].run, vm.run_size);
		if (vm.vcpus[i].fd > 0)
			close(vm.vcpus[i].fd);
	}
	free(vm.vcpus);
	free(vm.cpuid);
	vm_snapshot_close(&vm);
	if (vm.mem != NULL)
		munmap(vm.mem, s->memory);
	if (vm.fd >= 0)
		close(vm.fd);
	if (vm.kvm >= 0)
		close(vm.kvm);
	if (vm.stop_fd >= 0)
		close(vm.stop_fd);
	if (vm.chan_fd >= 0)
		close(vm.chan_fd);
	channel_free(&vm.chan);
	pthread_mutex_destroy(&vm.lock);
	pthread_mutex_destroy(&vm.pause_lock);
	pthread_cond_destroy(&vm.resumed);
	return rc;
}
