/* SPDX-License-Identifier: MIT */
/*
 * A warm image's working set (docs/vmm.md, "Warm images"): the pages of
 * its memory file a new machine touches from its restore until den has
 * logged in. The first machine made from the image records it when den
 * asks (the control socket's "working-set", once den's SSH check passed:
 * what /proc/self/pagemap says is present in guest RAM's mapping); each
 * later one maps those pages before its vCPUs run (MADV_POPULATE_READ),
 * so a page its guest then touches costs KVM a lookup, not a page fault
 * on the memory file: under nested virtualisation, most of a restored
 * machine's first second. The pages stay the file's, shared by every
 * machine, until one writes them.
 *
 * The file, WARM/workingset: a line "den-working-set 1 PAGES\n", then one
 * bit per 4 KiB page of guest RAM (the memory file's order), low bit
 * first. It is a cache: written under a temporary name and renamed, not
 * synced; one of another size or header is ignored. Its content comes
 * from a guest (the box's own code, before any provisioner), so it can
 * only cost time: at worst every page is mapped, none copied.
 */
#include "providers/kvm/vm-internal.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

#define WS_FILE "workingset"
#define WS_PAGE 4096u
#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)

static char *ws_path(const struct vm *vm)
{
	char *path = NULL;

	if (vm->snapshot_dir == NULL || asprintf(&path, "%s/" WS_FILE, vm->snapshot_dir) < 0)
		return NULL;
	return path;
}

static uint64_t ws_pages(const struct vm *vm)
{
	return vm->layout.ram / WS_PAGE;
}

static int ws_header(const struct vm *vm, char *out, size_t n)
{
	return snprintf(out, n, "den-working-set 1 %llu\n", (unsigned long long)ws_pages(vm));
}

/* The bitmap of the working set file for this VM, or NULL (none, or not for this memory). */
static uint8_t *ws_load(const struct vm *vm, size_t *bytes)
{
	cleanup_free char *path = ws_path(vm), *text = NULL;
	char header[64];
	size_t len = 0, bits = (size_t)((ws_pages(vm) + 7) / 8);
	struct den_err ignored = { 0 };
	int h = ws_header(vm, header, sizeof(header));

	if (path == NULL || !den_exists(path) ||
	    den_read_file(path, (size_t)h + bits, &text, &len, &ignored) < 0 ||
	    len != (size_t)h + bits || memcmp(text, header, (size_t)h) != 0)
		return NULL;
	uint8_t *map = malloc(bits);
	if (map != NULL)
		memcpy(map, text + h, bits);
	*bytes = bits;
	return map;
}

void working_set_prefault(struct vm *vm)
{
	size_t bytes = 0;
	cleanup_free uint8_t *map = ws_load(vm, &bytes);
	uint64_t pages = ws_pages(vm), mapped = 0;
	long long t0 = den_now_ms();
	int advice = MADV_POPULATE_READ;

	if (map == NULL)
		return;
	for (uint64_t p = 0; p < pages;) {
		if (!(map[p / 8] & (1u << (p % 8)))) {
			p++;
			continue;
		}
		uint64_t end = p + 1;
		while (end < pages && (map[end / 8] & (1u << (end % 8))))
			end++;
		uint8_t *at = vm->mem + p * WS_PAGE;
		size_t len = (size_t)((end - p) * WS_PAGE);
		if (madvise(at, len, advice) < 0) {
			if (errno != EINVAL || advice != MADV_POPULATE_READ)
				break;
			advice = MADV_WILLNEED; /* an older kernel: read ahead, at least */
			continue;
		}
		mapped += end - p;
		p = end;
	}
	fprintf(stderr, "den vmm: %llu pages of the warm image's working set mapped in %lld ms%s\n",
		(unsigned long long)mapped, den_now_ms() - t0,
		advice == MADV_WILLNEED ? " (read ahead: this kernel has no MADV_POPULATE_READ)"
					: "");
}

/* The pages of guest RAM present in this process, as the file's bitmap; how many. */
static int ws_collect(const struct vm *vm, uint8_t *map, uint64_t *count)
{
	cleanup_close int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t entries[512], pages = ws_pages(vm);

	if (fd < 0)
		return -1;
	*count = 0;
	for (uint64_t p = 0; p < pages; p += 512) {
		uint64_t n = pages - p < 512 ? pages - p : 512;
		off_t at = (off_t)(((uintptr_t)vm->mem / WS_PAGE + p) * sizeof(uint64_t));
		if (den_pread_all(fd, entries, (size_t)n * sizeof(uint64_t), (uint64_t)at) < 0)
			return -1;
		for (uint64_t i = 0; i < n; i++) {
			if (entries[i] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED)) {
				map[(p + i) / 8] |= (uint8_t)(1u << ((p + i) % 8));
				(*count)++;
			}
		}
	}
	return 0;
}

json_t *vm_api_working_set(struct vm *vm)
{
	cleanup_free char *path = ws_path(vm), *tmp = NULL;
	char header[64];
	size_t bits = (size_t)((ws_pages(vm) + 7) / 8);
	uint64_t count = 0;

	if (!vm->clone.made || path == NULL)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "a working set is a warm image's: this VM was not made from one");
	if (den_exists(path))
		return json_pack("{s:b, s:b}", "ok", 1, "saved", 0); /* the first machine's stays */
	int h = ws_header(vm, header, sizeof(header));
	cleanup_free uint8_t *file = calloc(1, (size_t)h + bits);
	if (file == NULL || asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "out of memory");
	memcpy(file, header, (size_t)h);
	if (ws_collect(vm, file + h, &count) < 0)
		return json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
				 "cannot read /proc/self/pagemap", "reason", strerror(errno));
	cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || den_pwrite_all(fd, file, (size_t)h + bits, 0) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		if (fd >= 0)
			unlink(tmp);
		return json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
				 "cannot write the working set", "reason", strerror(e));
	}
	fprintf(stderr, "den vmm: the warm image's working set saved: %llu pages\n",
		(unsigned long long)count);
	return json_pack("{s:b, s:b, s:I}", "ok", 1, "saved", 1, "pages", (json_int_t)count);
}
