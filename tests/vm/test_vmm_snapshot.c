/* SPDX-License-Identifier: MIT */
/*
 * VM snapshots (providers/kvm/snapshot_*.c) with a real-mode guest that
 * counts (tests/vmm-guests/counter.S), natively even where /dev/kvm is
 * PVM: saved over the control socket mid-count, restored in a new VMM,
 * where the count goes on from where it was, virtio-rng's queue working
 * (on 1 and 3 vCPUs); a buffer posted without a notify served after the
 * restore (every queue is kicked); a snapshot leaving the VM running or
 * paused; and restores refused with the reason when the VM differs or
 * the snapshot is damaged, or a clone is asked of a plain snapshot.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/control.h"
#include "core/fsutil.h"
#include "providers/kvm/vmm.h"
#include "tests/helpers/testutil.h"

struct guest {
	char console[4096], sock[4096];
	char *program;
	size_t program_len;
	struct vmm_spec spec;
	struct den_err err;
	int rc, status;
	pthread_t thread;
};

static char *dir, snap[4096];

static void need_kvm(void)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		cr_skip_test("/dev/kvm: %s (no KVM here, or not in group kvm)", strerror(errno));
}

static void setup(void)
{
	dir = make_temp_dir();
	snprintf(snap, sizeof(snap), "%s/snap", dir);
}

static void teardown(void)
{
	if (dir != NULL) {
		rm_rf(dir);
		free(dir);
		dir = NULL;
	}
}

TestSuite(vmm_snapshot, .init = setup, .fini = teardown);

/* The guest program (tests/vmm-guests/), named name (its console and socket), from a snapshot when restore is set. */
static void guest_init_program(struct guest *g, const char *program, const char *name,
			       const char *restore)
{
	char path[4096];
	struct den_err err = { 0 };

	need_kvm();
	memset(g, 0, sizeof(*g));
	snprintf(path, sizeof(path), "%s/%s.bin", DEN_VMM_GUESTS_DIR, program);
	cr_assert(den_read_file(path, 1 << 16, &g->program, &g->program_len, &err) == 0, "%s",
		  err.msg);
	snprintf(g->console, sizeof(g->console), "%s/%s.console", dir, name);
	snprintf(g->sock, sizeof(g->sock), "%s/%s.sock", dir, name);
	g->spec = (struct vmm_spec){ .cpus = 1,
				     .memory = 16 << 20,
				     .console_in = -1,
				     .quiet_timeout = 20,
				     .api = g->sock,
				     .program = (const uint8_t *)g->program,
				     .program_len = g->program_len,
				     .restore = restore };
	g->spec.console_out = open(g->console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(g->spec.console_out >= 0);
}

/* The counter guest. */
static void guest_init(struct guest *g, const char *name, const char *restore)
{
	guest_init_program(g, "counter", name, restore);
}

static void *guest_thread(void *arg)
{
	struct guest *g = arg;

	g->rc = vmm_run(&g->spec, &g->status, &g->err);
	return NULL;
}

static char *console(const struct guest *g)
{
	char *text = NULL;
	size_t len = 0;
	struct den_err err = { 0 };

	cr_assert(den_read_file(g->console, 1 << 20, &text, &len, &err) == 0, "%s", err.msg);
	return text;
}

static int lines(const struct guest *g)
{
	char *text = console(g);
	int n = 0;

	for (char *p = text; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(text);
	return n;
}

/* Starts g in a thread; returns once it has printed n lines. */
static void guest_start(struct guest *g, int n)
{
	cr_assert(pthread_create(&g->thread, NULL, guest_thread, g) == 0);
	for (int i = 0; i < 1000 && (access(g->sock, F_OK) != 0 || lines(g) < n); i++)
		usleep(10000);
	char *text = console(g);
	cr_assert_geq(lines(g), n, "the guest prints %d lines: %s / %s", n, text, g->err.msg);
	free(text);
}

static void guest_end(struct guest *g)
{
	pthread_join(g->thread, NULL);
	close(g->spec.console_out);
	free(g->program);
}

/* {"cmd": "snapshot", "dir": dir[, "then": then]} over g's socket. */
static json_t *snapshot(struct guest *g, const char *to, const char *then)
{
	json_t *req = json_pack("{s:s, s:s}", "cmd", "snapshot", "dir", to), *reply = NULL;
	struct den_err err = { 0 };

	if (then != NULL)
		json_object_set_new(req, "then", json_string(then));
	cr_assert(control_call(g->sock, req, 60000, &reply, &err) == 0, "%s", err.msg);
	json_decref(req);
	return reply;
}

static json_t *api(struct guest *g, const char *cmd)
{
	json_t *reply = NULL;
	struct den_err err = { 0 };

	cr_assert(control_request(g->sock, cmd, &reply, &err) == 0, "%s: %s", cmd, err.msg);
	return reply;
}

/* The count in text, line by line: every line 8 hex digits, each one more than the last. */
static void expect_counting(const char *text, unsigned long *first, unsigned long *last)
{
	unsigned long prev = 0;
	int n = 0;

	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		if (nl == NULL)
			break; /* a line still being printed */
		cr_assert_eq(nl - p, 8, "a count per line: '%.*s' in %s", (int)(nl - p), p, text);
		unsigned long v = strtoul(p, NULL, 16);
		if (n++ == 0)
			*first = v;
		else
			cr_assert_eq(v, prev + 1, "%lx follows %lx: the count goes on by one", v,
				     prev);
		prev = v;
		p = nl + 1;
	}
	*last = prev;
}

/* The counter on cpus vCPUs (the others wait for a SIPI), saved mid-count, restored. */
static void counts_on_after_a_restore(unsigned cpus)
{
	struct guest a, b;
	unsigned long first, last, first_after, last_after;
	struct stat st;
	char path[4200];

	guest_init(&a, "a", NULL);
	a.spec.cpus = cpus;
	guest_start(&a, 10);
	json_t *r = snapshot(&a, snap, "stop");
	cr_assert(json_is_true(json_object_get(r, "ok")), "%s",
		  json_string_value(json_object_get(r, "error")));
	cr_expect(json_is_integer(json_object_get(r, "ms")));
	json_decref(r);
	guest_end(&a);
	cr_assert_eq(a.rc, 0, "%s", a.err.msg);
	char *before = console(&a);
	expect_counting(before, &first, &last);
	cr_expect_eq(first, 1, "the count starts at 1");
	cr_assert_geq(last, 10);

	/* 16 MiB of guest RAM, of which the guest touched a few pages: a few KiB on disk. */
	snprintf(path, sizeof(path), "%s/memory", snap);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_size, 16 << 20);
	cr_expect_lt(st.st_blocks * 512, 1 << 20, "zero pages are holes: %lld bytes taken",
		     (long long)st.st_blocks * 512);

	guest_init(&b, "b", snap);
	b.spec.cpus = cpus;
	guest_start(&b, 10);
	r = api(&b, "status");
	cr_expect_str_eq(json_string_value(json_object_get(r, "memory_backing")), "snapshot");
	json_decref(r);
	json_decref(api(&b, "stop"));
	guest_end(&b);
	cr_assert_eq(b.rc, 0, "%s", b.err.msg);
	char *after = console(&b);
	/* The restored guest may finish a line the first one had begun: read them as one text. */
	char *both = NULL;
	cr_assert(asprintf(&both, "%s%s", before, after) > 0);
	expect_counting(both, &first, &last_after);
	cr_expect_eq(first, 1);
	cr_expect_gt(last_after, last + 5, "the restored guest went on counting");
	/* The first line the restored guest ended, begun before the save or not. */
	const char *nl = strchr(both + strlen(before), '\n');
	cr_assert_not_null(nl);
	first_after = strtoul(nl - 8, NULL, 16);
	cr_expect_eq(first_after, last + 1,
		     "the first count after the restore (%lx) is the next after the last one "
		     "before (%lx), not a count from zero",
		     first_after, last);
	free(both);
	free(before);
	free(after);
}

Test(vmm_snapshot, a_restored_guest_counts_on_from_where_it_was_saved)
{
	counts_on_after_a_restore(1);
}

Test(vmm_snapshot, a_restored_vm_of_three_vcpus_counts_on_too)
{
	counts_on_after_a_restore(3);
}

Test(vmm_snapshot, a_snapshot_leaves_the_vm_running_or_paused_as_asked)
{
	struct guest a;
	char state[4200];
	char *first = NULL, *second = NULL;
	size_t first_len = 0, second_len = 0;
	struct den_err err = { 0 };

	guest_init(&a, "a", NULL);
	guest_start(&a, 3);
	json_t *r = snapshot(&a, snap, NULL);
	cr_assert(json_is_true(json_object_get(r, "ok")), "%s",
		  json_string_value(json_object_get(r, "error")));
	json_decref(r);
	int n = lines(&a);
	for (int i = 0; i < 500 && lines(&a) < n + 3; i++)
		usleep(10000);
	cr_expect_geq(lines(&a), n + 3, "a running VM runs on after its snapshot");
	snprintf(state, sizeof(state), "%s/state", snap);
	cr_assert_eq(den_read_file(state, 1 << 20, &first, &first_len, &err), 0, "%s", err.msg);

	/* Again into the same folder, the VM left paused: the snapshot there is replaced. */
	r = snapshot(&a, snap, "pause");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	cr_assert_eq(den_read_file(state, 1 << 20, &second, &second_len, &err), 0, "%s", err.msg);
	/* The guest ran on in between: its registers and TSC are not what they were. */
	cr_expect(first_len != second_len || memcmp(first, second, first_len) != 0,
		  "the second snapshot replaced the first");
	free(first);
	free(second);
	r = api(&a, "status");
	cr_expect_str_eq(json_string_value(json_object_get(r, "state")), "paused");
	json_decref(r);

	r = snapshot(&a, "relative/path", NULL);
	cr_expect(json_is_false(json_object_get(r, "ok")));
	cr_expect(strstr(json_string_value(json_object_get(r, "error")), "absolute") != NULL);
	json_decref(r);
	r = snapshot(&a, snap, "later");
	cr_expect(json_is_false(json_object_get(r, "ok")));
	json_decref(r);
	r = api(&a, "status");
	cr_expect_str_eq(json_string_value(json_object_get(r, "state")), "paused",
			 "a refused snapshot leaves the VM as it was");
	json_decref(r);
	json_decref(api(&a, "stop"));
	guest_end(&a);
	cr_expect_eq(a.rc, 0, "%s", a.err.msg);
}

/* What the guest posted just before the save, without a notify seen, is served after the restore. */
Test(vmm_snapshot, a_restore_notifies_every_queue_once)
{
	struct guest a, b;

	guest_init_program(&a, "unnotified", "a", NULL);
	guest_start(&a, 1);
	usleep(200000);
	json_t *r = snapshot(&a, snap, "stop");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	guest_end(&a);
	char *before = console(&a);
	cr_assert(strstr(before, "posted, not notified\n..") != NULL, "%s", before);
	cr_assert(strstr(before, "served") == NULL, "the first VM never serves it: %s", before);

	guest_init_program(&b, "unnotified", "b", snap);
	guest_start(&b, 2); /* "\nserved\n": the line before it ends, then "served" */
	json_decref(api(&b, "stop"));
	guest_end(&b);
	cr_assert_eq(b.rc, 0, "%s", b.err.msg);
	char *after = console(&b);
	cr_expect(strstr(after, "\nserved\n") != NULL, "the restored VM serves it: %s", after);
	free(before);
	free(after);
}

/* A restore of snap into a VM as spec says, which must fail saying what. */
static void expect_refused(void (*change)(struct vmm_spec *), const char *said, const char *why)
{
	struct guest b;

	guest_init(&b, "b", snap);
	if (change != NULL)
		change(&b.spec);
	b.rc = vmm_run(&b.spec, &b.status, &b.err);
	cr_expect_eq(b.rc, -1, "%s: refused", why);
	cr_expect(strstr(b.err.msg, said) != NULL, "%s: '%s' in: %s", why, said, b.err.msg);
	close(b.spec.console_out);
	free(b.program);
}

static void two_cpus(struct vmm_spec *s)
{
	s->cpus = 2;
}

static void more_memory(struct vmm_spec *s)
{
	s->memory = 32 << 20;
}

static void a_network(struct vmm_spec *s)
{
	s->net = true;
}

static void a_clone(struct vmm_spec *s)
{
	s->clone = true;
}

Test(vmm_snapshot, a_restore_into_another_vm_or_from_a_damaged_snapshot_is_refused)
{
	struct guest a;
	char path[4200];

	guest_init(&a, "a", NULL);
	guest_start(&a, 2);
	json_t *r = snapshot(&a, snap, "stop");
	cr_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	guest_end(&a);

	expect_refused(two_cpus, "a VM with 1 vCPUs; this VM has 2", "another vCPU count");
	expect_refused(more_memory, "16 MiB of memory; this VM has 32 MiB", "another memory size");
	expect_refused(a_network, "1 devices; this VM has 2", "another set of devices");
	expect_refused(a_clone, "is a snapshot, not a warm image", "a clone of a plain snapshot");

	snprintf(path, sizeof(path), "%s/memory", snap);
	cr_assert_eq(truncate(path, 8 << 20), 0);
	expect_refused(NULL, "is 8388608 bytes; its VM had 16777216", "a memory file cut short");

	snprintf(path, sizeof(path), "%s/state", snap);
	cr_assert_eq(truncate(path, 20), 0);
	expect_refused(NULL, "is truncated", "a state file cut short");
	cr_assert_eq(unlink(path), 0);
	expect_refused(NULL, "no snapshot there", "no state file");
}
