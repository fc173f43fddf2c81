/* SPDX-License-Identifier: MIT */
/*
 * A VM from start to end: /dev/kvm, the VM with its TSS and identity-map
 * pages, the in-kernel IOAPIC/PIC/LAPICs and PIT, guest RAM (one mapping,
 * transparent huge pages asked for; the part past 3 GiB placed above the
 * 32-bit MMIO gap), the kernel loaded by the boot protocol, vCPU threads,
 * and this thread feeding console input until the guest resets or powers
 * off.
 */
#include "providers/kvm/vmm.h"
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/acpi.h"
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
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define TSS_ADDR 0xfffbd000
#define IDENTITY_MAP_ADDR 0xfffbc000ULL
#define MAX_IMAGE (512ULL << 20)

int vmm_probe(struct den_err *err)
{
	struct stat st;

	if (stat("/sys/module/kvm_pvm", &st) == 0)
		return den_err_set(err, 0,
				   "this host's /dev/kvm is KVM's PVM backend, which cannot boot "
				   "a stock Linux kernel (it hangs entering 64-bit mode); use "
				   "provider: container or qemu here, or a host with kvm_intel or "
				   "kvm_amd");
	if (access("/dev/kvm", R_OK | W_OK) < 0)
		return den_err_set(err, errno,
				   "cannot use /dev/kvm (load kvm_intel or kvm_amd, and run den as "
				   "a user in the kvm group); or use provider: container or qemu");
	return 0;
}

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

static int create_vm(struct vm *vm, const struct vmm_spec *s, struct den_err *err)
{
	uint64_t identity = IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = { .flags = 0 };

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return den_err_set(err, errno, "cannot open /dev/kvm");
	if (ioctl(vm->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return den_err_set(err, 0, "/dev/kvm speaks another KVM API version");
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return den_err_set(err, errno, "cannot create a VM");
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0 ||
	    ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0 ||
	    ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0 || ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return den_err_set(err, errno, "cannot set up the VM's interrupt controllers");
	boot_layout(s->memory, &vm->layout);
	vm->mem = mmap(NULL, s->memory, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return den_err_set(err, errno, "cannot allocate %llu MiB of guest memory",
				   (unsigned long long)(s->memory >> 20));
	}
	madvise(vm->mem, s->memory, MADV_HUGEPAGE); /* best effort */
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

/* Level-triggered in spirit, delivered as an edge per batch of used buffers (as kvmtool does). */
static void virtio_irq(struct virtio_dev *d)
{
	struct vm *vm = d->vm;
	struct kvm_irq_level irq = { .irq = d->irq, .level = 1 };

	ioctl(vm->fd, KVM_IRQ_LINE, &irq);
	irq.level = 0;
	ioctl(vm->fd, KVM_IRQ_LINE, &irq);
}

/* The disks (vda, vdb... in order), then the entropy source. */
static int add_devices(struct vm *vm, const struct vmm_spec *s, struct den_err *err)
{
	static const unsigned irqs[VM_MAX_DEVICES] = { 5, 6, 7, 9, 10, 11, 12, 14 };

	vm->gm = (struct guest_mem){ vm->mem, vm->layout };
	for (unsigned i = 0; i <= s->n_disks && i < VM_MAX_DEVICES; i++) {
		struct virtio_dev *d = &vm->devs[i];
		*d = (struct virtio_dev){ .base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE,
					  .irq = irqs[i],
					  .mem = &vm->gm,
					  .interrupt = virtio_irq,
					  .vm = vm };
		pthread_mutex_init(&d->lock, NULL);
		vm->ndevs++;
		if (i < s->n_disks) {
			d->name = s->disks[i];
			if (virtio_blk_init(d, s->disks[i], s->disk_ro[i], err) < 0)
				return -1;
		} else {
			d->name = "virtio-rng";
			if (virtio_rng_init(d, err) < 0)
				return -1;
		}
	}
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

static int load(struct vm *vm, const struct vmm_spec *s, uint64_t *entry, struct den_err *err)
{
	cleanup_free char *kernel = NULL, *initrd = NULL;
	const char *cmdline = s->cmdline ? s->cmdline : "";
	size_t klen = 0, ilen = 0;
	struct boot_kernel k;

	if (den_read_file(s->kernel, MAX_IMAGE, &kernel, &klen, err) < 0 ||
	    (s->initrd != NULL && den_read_file(s->initrd, MAX_IMAGE, &initrd, &ilen, err) < 0))
		return -1;
	if (boot_load(vm->mem, &vm->layout, (const uint8_t *)kernel, klen, (const uint8_t *)initrd,
		      ilen, cmdline, &k, err) < 0)
		return den_err_wrap(err, "%s", s->kernel);
	boot_page_tables(vm->mem);
	boot_gdt(vm->mem);
	boot_reset_vector(vm->mem);
	boot_mptable(vm->mem, vm->ncpus, (uint8_t)vm->ncpus);
	write_acpi(vm);
	*entry = k.entry;
	return 0;
}

/* This thread, while the vCPUs run: console input, the control socket, the quiet timeout. */
static void watch(struct vm *vm, const struct vmm_spec *s, int api)
{
	uint8_t buf[256];
	struct pollfd p[2] = { { s->console_in, POLLIN, 0 }, { api, POLLIN, 0 } };

	while (atomic_load(&vm->end) == VM_RUNNING) {
		/* Input only as fast as the guest drains the UART's FIFO: nothing is dropped. */
		pthread_mutex_lock(&vm->lock);
		size_t room = SERIAL_FIFO - vm->serial.rx_len;
		pthread_mutex_unlock(&vm->lock);
		p[0].events = room > 0 ? POLLIN : 0;
		int r = poll(p, 2, room > 0 ? 200 : 10);
		if (r > 0 && (p[0].revents & POLLIN)) {
			ssize_t n =
				read(s->console_in, buf, room < sizeof(buf) ? room : sizeof(buf));
			if (n > 0) {
				pthread_mutex_lock(&vm->lock);
				serial_receive(&vm->serial, buf, (size_t)n);
				pthread_mutex_unlock(&vm->lock);
			} else {
				p[0].fd = -1; /* end of input: the guest keeps running */
			}
		}
		if (r > 0 && (p[1].revents & POLLIN))
			vm_serve_api(vm, api);
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

static void kick(int sig)
{
	(void)sig; /* only to make KVM_RUN return */
}

int vmm_run(const struct vmm_spec *s, int *status, struct den_err *err)
{
	struct vm vm = {
		.kvm = -1, .fd = -1, .ncpus = s->cpus ? s->cpus : 1, .out_fd = s->console_out
	};
	uint64_t entry = 0;
	int rc = 0;
	sigset_t block, old;

	if (vm.ncpus > VMM_MAX_CPUS)
		return den_err_usage(err, "at most %d vCPUs", VMM_MAX_CPUS);
	pthread_mutex_init(&vm.lock, NULL);
	pthread_mutex_init(&vm.pause_lock, NULL);
	pthread_cond_init(&vm.resumed, NULL);
	serial_init(&vm.serial, console_out, serial_irq, &vm);
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
	if (create_vm(&vm, s, err) < 0 || add_devices(&vm, s, err) < 0 ||
	    load(&vm, s, &entry, err) < 0) {
		rc = -1;
		goto out;
	}
	for (unsigned i = 0; i < vm.ncpus && rc == 0; i++)
		rc = vcpu_create(&vm, i, entry, err);
	for (unsigned i = 0; i < vm.ncpus && rc == 0; i++) {
		int e = pthread_create(&vm.vcpus[i].thread, NULL, vcpu_loop, &vm.vcpus[i]);
		if (e != 0)
			rc = den_err_set(err, e, "cannot start vCPU %u", i);
		else
			atomic_store_explicit(&vm.vcpus[i].started, true, memory_order_release);
	}
	int api = -1;
	if (rc == 0 && s->api != NULL && (api = control_listen(s->api, err)) < 0)
		rc = -1;
	if (rc == 0)
		watch(&vm, s, api);
	else
		vm_end(&vm, VM_FAILED, err->msg);
	for (unsigned i = 0; i < vm.ncpus; i++)
		if (vm.vcpus[i].started)
			pthread_join(vm.vcpus[i].thread, NULL);
	if (rc == 0 && atomic_load(&vm.end) == VM_FAILED)
		rc = den_err_set(err, 0, "%s", vm.why);
	*status = 0;
	if (api >= 0) {
		close(api);
		unlink(s->api);
	}
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (unsigned i = 0; i < vm.ncpus; i++) {
		if (vm.vcpus[i].run != NULL)
			munmap(vm.vcpus[i].run, vm.run_size);
		if (vm.vcpus[i].fd > 0)
			close(vm.vcpus[i].fd);
	}
	free(vm.vcpus);
	free(vm.cpuid);
	for (unsigned i = 0; i < vm.ndevs; i++) {
		if (vm.devs[i].device_id == VIRTIO_ID_BLOCK)
			virtio_blk_free(&vm.devs[i]);
		pthread_mutex_destroy(&vm.devs[i].lock);
	}
	if (vm.mem != NULL)
		munmap(vm.mem, s->memory);
	if (vm.fd >= 0)
		close(vm.fd);
	if (vm.kvm >= 0)
		close(vm.kvm);
	pthread_mutex_destroy(&vm.lock);
	pthread_mutex_destroy(&vm.pause_lock);
	pthread_cond_destroy(&vm.resumed);
	return rc;
}
