/* SPDX-License-Identifier: MIT */
/*
 * Warm images, the VMM's side (providers/kvm/clone.c, channel.c), with a
 * real-mode guest that does the hook's handshake (tests/vmm-guests/
 * warm.S), natively even where /dev/kvm is PVM: the template is saved
 * when it says ready on den's channel, and ends; each restore with
 * --clone gets a new boot_id where the guest said its kernel keeps it
 * (a version 4 UUID) and a new VM generation ID, the GED tells the guest,
 * and den's record reaches its memory, named on the channel after the
 * host's time; a hook naming the wrong
 * address, or garbling its line, gets no warm image. (A snapshot that is
 * not a warm image makes no clones: test_vmm_snapshot.c.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fsutil.h"
#include "providers/kvm/acpi.h"
#include "providers/kvm/vmm.h"
#include "tests/helpers/testutil.h"

static char *dir;

static void setup(void)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		cr_skip_test("/dev/kvm: %s (no KVM here, or not in group kvm)", strerror(errno));
	dir = make_temp_dir();
}

static void teardown(void)
{
	if (dir != NULL) {
		rm_rf(dir);
		free(dir);
		dir = NULL;
	}
}

TestSuite(vmm_warm, .init = setup, .fini = teardown);

struct run {
	char *program;
	size_t program_len;
	char console[4200];
	struct vmm_spec spec;
	struct den_err err;
	int rc, status;
};

/* A VM of the warm guest (or program), its console in dir/name.console. */
static void run_init(struct run *r, const char *program, const char *name)
{
	char path[4096];
	struct den_err err = { 0 };

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s.bin", DEN_VMM_GUESTS_DIR, program);
	cr_assert(den_read_file(path, 1 << 16, &r->program, &r->program_len, &err) == 0, "%s",
		  err.msg);
	snprintf(r->console, sizeof(r->console), "%s/%s.console", dir, name);
	r->spec = (struct vmm_spec){ .cpus = 1,
				     .memory = 16 << 20,
				     .console_in = -1,
				     .quiet_timeout = 20,
				     .program = (const uint8_t *)r->program,
				     .program_len = r->program_len };
	r->spec.console_out = open(r->console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(r->spec.console_out >= 0);
}

/* Runs it to its end; returns its console (malloc'd). */
static char *run(struct run *r)
{
	char *text = NULL;
	size_t len = 0;
	struct den_err err = { 0 };

	r->rc = vmm_run(&r->spec, &r->status, &r->err);
	close(r->spec.console_out);
	free(r->program);
	cr_assert(den_read_file(r->console, 1 << 20, &text, &len, &err) == 0, "%s", err.msg);
	return text;
}

/* The 32 hex digits after "key=" in the part of text after "mark", into out. */
static void id_after(const char *text, const char *mark, const char *key, char out[33])
{
	const char *p = strstr(text, mark);

	cr_assert_not_null(p, "'%s' in %s", mark, text);
	p = strstr(p, key);
	cr_assert_not_null(p, "'%s' after '%s' in %s", key, mark, text);
	p += strlen(key);
	cr_assert(strspn(p, "0123456789abcdef") >= 32, "32 hex digits: %s", p);
	memcpy(out, p, 32);
	out[32] = '\0';
}

/* The template: saved into dir/warm when it says ready; its console. */
static char *make_template(void)
{
	struct run t;
	char warm[4200];

	snprintf(warm, sizeof(warm), "%s/warm", dir);
	run_init(&t, "warm", "template");
	t.spec.warm_save = warm;
	char *text = run(&t);
	cr_assert_eq(t.rc, 0, "the template ends once saved: %s / %s", t.err.msg, text);
	return text;
}

/* A clone of dir/warm, with record as what den's channel sends; its console. */
static char *clone_of_template(const char *name, const char *record)
{
	struct run c;
	char warm[4200], in[4200];
	struct den_err err = { 0 };

	snprintf(warm, sizeof(warm), "%s/warm", dir);
	snprintf(in, sizeof(in), "%s/%s.in", dir, name);
	cr_assert(den_write_file_atomic(in, record, 0600, &err) == 0, "%s", err.msg);
	run_init(&c, "warm", name);
	c.spec.restore = warm;
	c.spec.clone = true;
	c.spec.channel_in = in;
	char *text = run(&c);
	cr_assert_eq(c.rc, 0, "the clone runs to its reset: %s / %s", c.err.msg, text);
	return text;
}

Test(vmm_warm, each_clone_gets_its_own_boot_id_and_generation_id_and_the_record)
{
	char boot0[33], gen0[33], boot1[33], gen1[33], boot2[33], gen2[33], after0[33];
	char *t = make_template();

	id_after(t, "before", "bootid=", boot0);
	id_after(t, "before", "vmgenid=", gen0);
	cr_expect_str_eq(boot0, "112233445566778899aabbccddeeff10", "the guest's own boot_id");
	cr_expect_str_neq(gen0, "00000000000000000000000000000000",
			  "a boot has a generation ID too");
	cr_expect_null(strstr(t, "after"), "the template never got past ready: %s", t);

	char *a = clone_of_template("a", "hello a!");
	char *b = clone_of_template("b", "hello b!");
	cr_expect_not_null(strstr(a, "ged=02"), "the GED told the guest of its new ID: %s", a);
	cr_expect_not_null(strstr(a, "record 8\nend\nhello a!"),
			   "the channel named den's record, in guest memory: %s", a);
	cr_expect_not_null(strstr(b, "hello b!"), "%s", b);
	id_after(a, "after", "bootid=", boot1);
	id_after(a, "after", "vmgenid=", gen1);
	id_after(b, "after", "bootid=", boot2);
	id_after(b, "after", "vmgenid=", gen2);
	cr_expect_str_neq(boot1, boot0, "a clone's boot_id is new");
	cr_expect_str_neq(boot1, boot2, "and its own");
	cr_expect_str_neq(gen1, gen0, "so is its generation ID");
	cr_expect_str_neq(gen1, gen2, "and its own");
	cr_expect_eq(boot1[12], '4', "a version 4 UUID: %s", boot1);
	cr_expect(strchr("89ab", boot1[16]) != NULL, "of RFC 4122's variant: %s", boot1);

	/* Before den's record the VMM sends the host's time, after it "end". */
	char *c = clone_of_template("c", "x!");
	const char *t_at = strstr(c, "time ");
	cr_assert_not_null(t_at, "the time comes first: %s", c);
	cr_expect_not_null(strstr(t_at, "\nrecord 2\nend\nx!\nafter"), "then the record: %s", c);
	long long secs = strtoll(t_at + 5, NULL, 10), now = (long long)time(NULL);
	cr_expect(secs <= now && secs >= now - 60, "the host's time, %lld (now %lld)", secs, now);
	free(c);

	/* Restored without --clone it is the same machine: same boot_id, a new generation ID. */
	struct run same;
	char warm[4200], in[4200];
	struct den_err err = { 0 };
	snprintf(warm, sizeof(warm), "%s/warm", dir);
	snprintf(in, sizeof(in), "%s/same.in", dir);
	cr_assert(den_write_file_atomic(in, "!", 0600, &err) == 0, "%s", err.msg);
	run_init(&same, "warm", "same");
	same.spec.restore = warm;
	same.spec.channel_in = in;
	char *s = run(&same);
	cr_assert_eq(same.rc, 0, "%s / %s", same.err.msg, s);
	id_after(s, "after", "bootid=", after0);
	cr_expect_str_eq(after0, boot0, "a plain restore keeps the boot: %s", s);
	id_after(s, "after", "vmgenid=", gen1);
	cr_expect_str_neq(gen1, gen0, "but no restore repeats the generation ID");
	free(t);
	free(a);
	free(b);
	free(s);
}

Test(vmm_warm, a_record_larger_than_its_place_in_memory_is_refused)
{
	struct run c;
	char warm[4200], in[4200];
	struct den_err err = { 0 };
	cleanup_free char *big = malloc(DEN_RECORD_MAX + 2);

	free(make_template());
	cr_assert_not_null(big);
	memset(big, 'x', DEN_RECORD_MAX + 1);
	big[DEN_RECORD_MAX + 1] = '\0';
	snprintf(warm, sizeof(warm), "%s/warm", dir);
	snprintf(in, sizeof(in), "%s/big.in", dir);
	cr_assert(den_write_file_atomic(in, big, 0600, &err) == 0, "%s", err.msg);
	run_init(&c, "warm", "big");
	c.spec.restore = warm;
	c.spec.clone = true;
	c.spec.channel_in = in;
	free(run(&c));
	cr_expect_neq(c.rc, 0, "a record past its %u bytes is not cut", DEN_RECORD_MAX);
	cr_expect_not_null(strstr(c.err.msg, "den's record"), "%s", c.err.msg);
}

Test(vmm_warm, a_hook_naming_the_wrong_address_gets_no_warm_image)
{
	struct run t;
	char warm[4200], state[4300];

	snprintf(warm, sizeof(warm), "%s/warm", dir);
	run_init(&t, "warm", "liar");
	/* The ready line names 0x3010, where the boot_id is not. */
	char *at = memmem(t.program, t.program_len, "at=00003000", 11);
	cr_assert_not_null(at);
	memcpy(at, "at=00003010", 11);
	t.spec.warm_save = warm;
	char *text = run(&t);
	cr_expect_neq(t.rc, 0, "the VMM fails: %s", text);
	cr_expect_not_null(strstr(t.err.msg, "0x3010"), "naming the address: %s", t.err.msg);
	cr_expect_not_null(strstr(t.err.msg, "no warm image"), "%s", t.err.msg);
	snprintf(state, sizeof(state), "%s/state", warm);
	cr_expect_neq(access(state, F_OK), 0, "and nothing was saved");
	free(text);
}

Test(vmm_warm, a_ready_line_past_guest_memory_or_garbled_is_refused)
{
	/* Past the 16 MiB of RAM (in the MMIO gap); a boot_id that is not hex; no boot_id. */
	static const char *const lies[][2] = { { "at=00003000", "at=ffffffff" },
					       { "bootid=1122", "bootid=11zz" },
					       { "ready bootid=", "ready bootie=" } };

	for (size_t i = 0; i < DEN_ARRAY_SIZE(lies); i++) {
		struct run t;
		char warm[4200], name[32];
		snprintf(warm, sizeof(warm), "%s/warm%zu", dir, i);
		snprintf(name, sizeof(name), "garbled%zu", i);
		run_init(&t, "warm", name);
		/* The ready line's own bytes, as many: the rest of it stays. */
		char *line = memmem(t.program, t.program_len, lies[i][0], strlen(lies[i][0]));
		cr_assert_not_null(line);
		memcpy(line, lies[i][1], strlen(lies[i][1]));
		t.spec.warm_save = warm;
		char *text = run(&t);
		cr_expect_neq(t.rc, 0, "refused: %s", text);
		cr_expect_not_null(strstr(t.err.msg, "no warm image"), "%s", t.err.msg);
		free(text);
	}
}
