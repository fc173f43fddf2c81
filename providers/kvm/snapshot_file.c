/* SPDX-License-Identifier: MIT */
/*
 * The snapshot's files (snapshot_file.h): the state file's header and
 * sections, written in one go and read back as untrusted input, and the
 * memory file, written sparse.
 */
#include "providers/kvm/snapshot_file.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

/* A section's header in the file; its len bytes follow. */
struct section {
	uint32_t type;
	uint32_t index;
	uint64_t len;
};

const char *snap_type_name(enum snap_type type)
{
	switch (type) {
	case SNAP_VCPU_CPUID:
		return "vCPU CPUID";
	case SNAP_VCPU_MP_STATE:
		return "vCPU run state";
	case SNAP_VCPU_REGS:
		return "vCPU registers";
	case SNAP_VCPU_SREGS:
		return "vCPU special registers";
	case SNAP_VCPU_FPU:
		return "vCPU FPU";
	case SNAP_VCPU_XSAVE:
		return "vCPU XSAVE area";
	case SNAP_VCPU_XCRS:
		return "vCPU XCRs";
	case SNAP_VCPU_DEBUGREGS:
		return "vCPU debug registers";
	case SNAP_VCPU_LAPIC:
		return "vCPU local APIC";
	case SNAP_VCPU_MSRS:
		return "vCPU MSRs";
	case SNAP_VCPU_EVENTS:
		return "vCPU pending events";
	case SNAP_VCPU_TSC_KHZ:
		return "vCPU TSC frequency";
	case SNAP_VM_PIC_MASTER:
		return "master PIC";
	case SNAP_VM_PIC_SLAVE:
		return "slave PIC";
	case SNAP_VM_IOAPIC:
		return "IOAPIC";
	case SNAP_VM_PIT:
		return "PIT";
	case SNAP_VM_CLOCK:
		return "VM clock";
	case SNAP_VM_UART:
		return "UART";
	case SNAP_VM_GED:
		return "ACPI events";
	case SNAP_VM_CHANNEL:
		return "den's channel";
	case SNAP_VM_CLONE:
		return "warm image's boot_id address";
	case SNAP_DEV_TRANSPORT:
		return "virtio device";
	}
	return NULL;
}

/* How many indexes a section type has in a snapshot with header h; 0: no such type. */
static uint32_t type_limit(uint32_t type, const struct snap_header *h)
{
	if (snap_type_name((enum snap_type)type) == NULL)
		return 0;
	if (type < SNAP_VM_PIC_MASTER)
		return h->cpus;
	return type < SNAP_DEV_TRANSPORT ? 1 : h->ndevs;
}

static void grow(struct snap_writer *w, size_t more)
{
	if (w->failed || w->len + more <= w->cap)
		return;
	size_t cap = w->cap ? w->cap : 64 << 10;
	while (cap < w->len + more)
		cap *= 2;
	uint8_t *p = realloc(w->buf, cap);
	if (p == NULL) {
		w->failed = true;
		return;
	}
	w->buf = p;
	w->cap = cap;
}

static void append(struct snap_writer *w, const void *data, size_t len)
{
	grow(w, len);
	if (w->failed)
		return;
	memcpy(w->buf + w->len, data, len);
	w->len += len;
}

void snap_writer_start(struct snap_writer *w, const struct snap_header *h)
{
	struct snap_header out = *h;

	memset(w, 0, sizeof(*w));
	memcpy(out.magic, SNAP_MAGIC, sizeof(out.magic));
	out.format = SNAP_FORMAT;
	out.header_size = sizeof(out);
	memset(out.den_version, 0, sizeof(out.den_version));
	snprintf(out.den_version, sizeof(out.den_version), "%s", DEN_VERSION);
	out.reserved = 0;
	append(w, &out, sizeof(out));
}

void snap_put(struct snap_writer *w, enum snap_type type, uint32_t index, const void *data,
	      size_t len)
{
	struct section s = { (uint32_t)type, index, len };

	append(w, &s, sizeof(s));
	append(w, data, len);
}

int snap_writer_write(struct snap_writer *w, const char *path, struct den_err *err)
{
	if (w->failed)
		return den_err_set(err, ENOMEM, "cannot put the snapshot's state together");
	cleanup_close int fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || den_pwrite_all(fd, w->buf, w->len, 0) < 0 || fsync(fd) < 0)
		return den_err_set(err, errno, "cannot write %s", path);
	return 0;
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

/* The header: den's, of this format, whole. */
static int check_header(struct snap_file *f, struct den_err *err)
{
	struct snap_header *h = &f->h;

	if (f->len < sizeof(h->magic) || memcmp(f->buf, SNAP_MAGIC, sizeof(h->magic)) != 0)
		return den_err_set(err, 0, "%s is not a den snapshot (no snapshot header)",
				   f->path);
	if (f->len < sizeof(*h))
		return den_err_set(err, 0,
				   "%s is truncated (%zu bytes, less than a snapshot header): "
				   "take the snapshot again",
				   f->path, f->len);
	memcpy(h, f->buf, sizeof(*h));
	if (memchr(h->den_version, '\0', sizeof(h->den_version)) == NULL)
		return den_err_set(err, 0, "%s is damaged (its den version is not text)", f->path);
	if (h->format != SNAP_FORMAT)
		return den_err_set(err, 0,
				   "%s is a snapshot of format %u (saved by den %s); this den (%s) "
				   "restores format %u only: restore it with the den that saved it",
				   f->path, h->format, h->den_version, DEN_VERSION, SNAP_FORMAT);
	if (h->header_size != sizeof(*h) || h->reserved != 0 || (h->has & ~SNAP_HAS_ALL))
		return den_err_set(err, 0, "%s is damaged (its header does not add up)", f->path);
	if (h->cpus == 0 || h->memory == 0 || h->memory % PAGE != 0)
		return den_err_set(err, 0, "%s is damaged (%u vCPUs, %llu bytes of memory)",
				   f->path, h->cpus, (unsigned long long)h->memory);
	return 0;
}

/* Every section: a known type, an index in range, and its bytes inside the file. */
static int check_sections(const struct snap_file *f, struct den_err *err)
{
	size_t at = sizeof(f->h);

	for (unsigned n = 0; at < f->len; n++) {
		struct section s;
		if (f->len - at < sizeof(s))
			return den_err_set(err, 0,
					   "%s is damaged: section %u is cut short (%zu bytes "
					   "left of %zu)",
					   f->path, n, f->len - at, f->len);
		memcpy(&s, f->buf + at, sizeof(s));
		at += sizeof(s);
		if (s.len > f->len - at)
			return den_err_set(err, 0,
					   "%s is damaged: section %u (type %u) runs past the end "
					   "of the file (%llu bytes at %zu of %zu)",
					   f->path, n, s.type, (unsigned long long)s.len, at,
					   f->len);
		if (s.index >= type_limit(s.type, &f->h))
			return den_err_set(err, 0,
					   "%s is damaged: section %u has type %u, index %u, which "
					   "a VM of %u vCPUs and %u devices does not have",
					   f->path, n, s.type, s.index, f->h.cpus, f->h.ndevs);
		at += s.len;
	}
	return 0;
}

int snap_file_read(const char *path, struct snap_file *f, struct den_err *err)
{
	char *buf = NULL;

	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (f->path == NULL)
		return den_err_set(err, ENOMEM, "cannot read %s", path);
	if (den_read_file(path, SNAP_MAX_STATE, &buf, &f->len, err) < 0) {
		if (err->errno_ == ENOENT)
			den_err_set(err, ENOENT,
				    "%s is missing: no snapshot there (or its save was cut short)",
				    path);
		snap_file_free(f);
		return -1;
	}
	f->buf = (uint8_t *)buf;
	if (check_header(f, err) < 0 || check_sections(f, err) < 0) {
		snap_file_free(f);
		return -1;
	}
	return 0;
}

void snap_file_free(struct snap_file *f)
{
	free(f->path);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

int snap_file_check_vm(const struct snap_file *f, unsigned cpus, uint64_t memory,
		       struct den_err *err)
{
	if (f->h.cpus != cpus)
		return den_err_set(
			err, 0,
			"%s is a snapshot of a VM with %u vCPUs; this VM has %u: restore "
			"it with --cpus %u",
			f->path, f->h.cpus, cpus, f->h.cpus);
	if (f->h.memory != memory)
		return den_err_set(err, 0,
				   "%s is a snapshot of a VM with %llu MiB of memory; this VM has "
				   "%llu MiB: restore it with --memory %lluM",
				   f->path, (unsigned long long)(f->h.memory >> 20),
				   (unsigned long long)(memory >> 20),
				   (unsigned long long)(f->h.memory >> 20));
	return 0;
}

const uint8_t *snap_find(const struct snap_file *f, enum snap_type type, uint32_t index,
			 size_t *len)
{
	/* check_sections has bounded every section already. */
	for (size_t at = sizeof(f->h); at + sizeof(struct section) <= f->len;) {
		struct section s;
		memcpy(&s, f->buf + at, sizeof(s));
		at += sizeof(s);
		if (s.type == (uint32_t)type && s.index == index) {
			*len = (size_t)s.len;
			return f->buf + at;
		}
		at += (size_t)s.len;
	}
	return NULL;
}

int snap_get(const struct snap_file *f, enum snap_type type, uint32_t index, void *out, size_t size,
	     struct den_err *err)
{
	size_t len = 0;
	const uint8_t *p = snap_find(f, type, index, &len);

	if (p == NULL)
		return den_err_set(err, 0, "%s is damaged: it has no %s for %u", f->path,
				   snap_type_name(type), index);
	if (len != size)
		return den_err_set(err, 0, "%s is damaged: its %s for %u is %zu bytes, not %zu",
				   f->path, snap_type_name(type), index, len, size);
	memcpy(out, p, size);
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (unsigned i = 0; i < PAGE / 8; i++)
		if (w[i] != 0)
			return false;
	return true;
}

int snap_memory_write(const char *path, const uint8_t *mem, uint64_t size, struct den_err *err)
{
	cleanup_close int fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	/* The size first: the pages never written stay holes, read back as zeros. */
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return den_err_set(err, errno, "cannot write %s", path);
	for (uint64_t at = 0; at < size;) {
		if (page_is_zero(mem + at)) {
			at += PAGE;
			continue;
		}
		uint64_t end = at + PAGE;
		while (end < size && !page_is_zero(mem + end))
			end += PAGE;
		if (den_pwrite_all(fd, mem + at, (size_t)(end - at), at) < 0)
			return den_err_set(err, errno, "cannot write %s", path);
		at = end;
	}
	if (fsync(fd) < 0)
		return den_err_set(err, errno, "cannot write %s", path);
	return 0;
}

int snap_memory_open(const char *path, uint64_t size, struct den_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return den_err_set(err, errno, "cannot open the snapshot's memory %s", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return den_err_set(err, 0,
				   "the snapshot's memory file %s is %lld bytes; its VM had %llu "
				   "bytes of memory: the snapshot is damaged, take it again",
				   path, (long long)st.st_size, (unsigned long long)size);
	return steal_fd(&fd);
}
