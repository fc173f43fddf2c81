/* SPDX-License-Identifier: MIT */
/*
 * A warm image's working set (providers/kvm/working_set.c), without KVM:
 * guest RAM is a private mapping of a "memory file" as on a restore; the
 * pages touched are what the control socket's "working-set" saves (once:
 * the first machine's stays), and a later VM's working_set_prefault maps
 * those pages (as /proc/self/pagemap shows; the kernel may map a few
 * neighbours with them, never a page far from all); a file of another
 * size or header, or none, maps nothing.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fsutil.h"
#include "providers/kvm/vm-internal.h"
#include "tests/helpers/testutil.h"

#define PAGES 64u
#define PAGE 4096u

static char *dir;

static void setup(void)
{
	dir = make_temp_dir();
	char *mem = NULL;
	cr_assert(asprintf(&mem, "%s/memory", dir) > 0);
	int fd = open(mem, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0 && ftruncate(fd, PAGES * PAGE) == 0);
	/* Data in every page, as a booted guest's memory file has: in the page cache. */
	for (unsigned p = 0; p < PAGES; p++)
		cr_assert(pwrite(fd, "x", 1, (off_t)p * PAGE) == 1);
	close(fd);
	free(mem);
}

static void teardown(void)
{
	rm_rf(dir);
	free(dir);
}

TestSuite(working_set, .init = setup, .fini = teardown);

/* A VM over dir's memory file, mapped private as a restore does. */
static void vm_of(struct vm *vm)
{
	char path[4200];

	memset(vm, 0, sizeof(*vm));
	snprintf(path, sizeof(path), "%s/memory", dir);
	int fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	vm->mem = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	cr_assert(vm->mem != MAP_FAILED);
	vm->layout.ram = PAGES * PAGE;
	vm->snapshot_dir = dir;
	vm->clone.made = true;
}

/* Which of the VM's pages are mapped in this process. */
static void present(const struct vm *vm, bool out[PAGES])
{
	uint64_t e[PAGES];
	int fd = open("/proc/self/pagemap", O_RDONLY);

	cr_assert(fd >= 0);
	cr_assert(pread(fd, e, sizeof(e), (off_t)((uintptr_t)vm->mem / PAGE * 8)) ==
		  (ssize_t)sizeof(e));
	close(fd);
	for (unsigned p = 0; p < PAGES; p++)
		out[p] = (e[p] >> 63) & 1;
}

static bool touched(unsigned p)
{
	return p == 3 || (p >= 10 && p < 14) || p == 40;
}

/* Pages 48 to 63: 16 aligned pages with none touched, past any fault-around. */
static bool far(unsigned p)
{
	return p >= 48;
}

Test(working_set, the_first_machine_saves_what_its_guest_touched_and_later_ones_map_it)
{
	struct vm a, b, c;
	bool is[PAGES];

	vm_of(&a);
	/* Written: a page each (a read may map its neighbours too). */
	for (unsigned p = 0; p < PAGES; p++)
		if (touched(p))
			a.mem[p * PAGE] = 1;
	json_t *r = vm_api_working_set(&a);
	cr_assert(json_is_true(json_object_get(r, "ok")), "%s", json_dumps(r, 0));
	cr_expect(json_is_true(json_object_get(r, "saved")));
	cr_expect_eq(json_integer_value(json_object_get(r, "pages")), 6);
	json_decref(r);

	/* Saved once: another machine's set does not replace it. */
	vm_of(&c);
	c.mem[63 * PAGE] = 1;
	r = vm_api_working_set(&c);
	cr_expect(json_is_true(json_object_get(r, "ok")));
	cr_expect(json_is_false(json_object_get(r, "saved")), "the first machine's stays");
	json_decref(r);

	vm_of(&b);
	present(&b, is);
	for (unsigned p = 0; p < PAGES; p++)
		cr_assert(!is[p], "a fresh mapping: page %u not mapped yet", p);
	working_set_prefault(&b);
	present(&b, is);
	for (unsigned p = 0; p < PAGES; p++) {
		if (touched(p))
			cr_expect(is[p], "page %u: in the working set, mapped", p);
		if (far(p))
			cr_expect(!is[p], "page %u: far from it, not mapped", p);
	}
	cr_expect_eq(b.mem[40 * PAGE], 'x', "the file's page, not the first machine's write");
}

Test(working_set, a_file_of_another_size_or_header_maps_nothing)
{
	struct vm v;
	bool is[PAGES];
	char path[4200];
	struct den_err err = { 0 };
	uint8_t all[8 + 64];

	vm_of(&v);
	working_set_prefault(&v); /* no file: nothing */
	present(&v, is);
	for (unsigned p = 0; p < PAGES; p++)
		cr_expect(!is[p], "no file: page %u not mapped", p);

	snprintf(path, sizeof(path), "%s/workingset", dir);
	memset(all, 0xff, sizeof(all));
	cr_assert(den_write_file_atomic(path, "den-working-set 1 64\n\xff", 0600, &err) == 0);
	working_set_prefault(&v); /* cut short */
	memcpy(all, "den-ws 1", 8);
	int fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0 && write(fd, all, sizeof(all)) == (ssize_t)sizeof(all));
	close(fd);
	working_set_prefault(&v); /* another header */
	present(&v, is);
	for (unsigned p = 0; p < PAGES; p++)
		cr_expect(!is[p], "page %u not mapped", p);
}

Test(working_set, a_booted_vm_has_none)
{
	struct vm v;

	vm_of(&v);
	v.clone.made = false;
	json_t *r = vm_api_working_set(&v);
	cr_expect(json_is_false(json_object_get(r, "ok")));
	cr_expect_not_null(strstr(json_string_value(json_object_get(r, "error")), "warm image"));
	json_decref(r);
}
