/* SPDX-License-Identifier: MIT */
/*
 * den's VMM with small hand-made real-mode guests (tests/vmm-guests/, one .S each),
 * which run natively even where /dev/kvm is PVM: port I/O exits (the
 * UART both ways, i8042 reset, ACPI poweroff), virtio-blk and virtio-net
 * driven through their MMIO registers with notifies on ioeventfd, a
 * hostile queue, the control socket's pause, resume and stop, the ACPI
 * power button, the quiet timeout, hugetlbfs memory; and the console's
 * Ctrl-A keys.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/control.h"
#include "core/fsutil.h"
#include "providers/kvm/vm-internal.h"
#include "providers/kvm/vmm.h"
#include "tests/helpers/testutil.h"

struct guest {
	char *dir, console[4096];
	char *program;
	size_t program_len;
	struct vmm_spec spec;
	struct vmm_stats stats;
	struct den_err err;
	int rc, status;
};

static void need_kvm(void)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		cr_skip_test("/dev/kvm: %s (no KVM here, or not in group kvm)", strerror(errno));
}

/* A guest from tests/vmm-guests, its console into a file. */
static void guest_init(struct guest *g, const char *name)
{
	char path[4096];
	struct den_err err = { 0 };

	need_kvm();
	memset(g, 0, sizeof(*g));
	snprintf(path, sizeof(path), "%s/%s.bin", DEN_VMM_GUESTS_DIR, name);
	cr_assert(den_read_file(path, 1 << 16, &g->program, &g->program_len, &err) == 0, "%s",
		  err.msg);
	g->dir = make_temp_dir();
	snprintf(g->console, sizeof(g->console), "%s/console", g->dir);
	g->spec = (struct vmm_spec){ .cpus = 1,
				     .memory = 16 << 20,
				     .console_in = -1,
				     .quiet_timeout = 20,
				     .program = (const uint8_t *)g->program,
				     .program_len = g->program_len,
				     .stats = &g->stats };
	g->spec.console_out = open(g->console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(g->spec.console_out >= 0);
}

static void guest_run(struct guest *g)
{
	g->rc = vmm_run(&g->spec, &g->status, &g->err);
}

static void *guest_thread(void *arg)
{
	guest_run(arg);
	return NULL;
}

static char *guest_output(struct guest *g)
{
	char *text = NULL;
	size_t len = 0;
	struct den_err err = { 0 };

	cr_assert(den_read_file(g->console, 1 << 20, &text, &len, &err) == 0);
	return text;
}

static void guest_free(struct guest *g)
{
	close(g->spec.console_out);
	free(g->program);
	rm_rf(g->dir);
	free(g->dir);
}

Test(vmm_guests, the_uart_prints_and_the_i8042_reset_ends_the_vm)
{
	struct guest g;

	guest_init(&g, "hello");
	guest_run(&g);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	cr_expect_eq(g.status, 0, "a reset ends the VM with status 0");
	char *out = guest_output(&g);
	cr_expect_str_eq(out, "den-guest: hello from real mode\n");
	cr_expect_gt(g.stats.io_exits, 32, "each byte went out through a port I/O exit");
	free(out);
	guest_free(&g);
}

/* den offers no nested guests: a Debian box would load kvm_amd and fall over in it. */
Test(vmm_guests, cpuid_shows_a_hypervisor_and_no_vmx_or_svm)
{
	struct guest g;

	guest_init(&g, "cpuid");
	guest_run(&g);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	char *out = guest_output(&g);
	cr_expect_str_eq(out, "vmx=0 svm=0 hv=1\n");
	free(out);
	guest_free(&g);
}

Test(vmm_guests, acpi_poweroff_ends_the_vm)
{
	struct guest g;

	guest_init(&g, "poweroff");
	guest_run(&g);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	cr_expect_eq(g.status, 0);
	char *out = guest_output(&g);
	cr_expect_str_eq(out, "den-guest: powering off\n");
	free(out);
	guest_free(&g);
}

Test(vmm_guests, console_input_reaches_the_guest_through_the_uart)
{
	struct guest g;
	int p[2];

	guest_init(&g, "echo");
	cr_assert(pipe(p) == 0);
	/* More than the UART's FIFO holds: input is paced, never dropped. */
	const char *in = "hello, den: the quick brown fox jumps over the lazy dog, "
			 "twice over the lazy dog.";
	cr_assert(write(p[1], in, strlen(in)) == (ssize_t)strlen(in));
	close(p[1]);
	g.spec.console_in = p[0];
	guest_run(&g);
	close(p[0]);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	char *out = guest_output(&g);
	cr_expect_str_eq(out, "den-guest: echo: HELLO, DEN: THE QUICK BROWN FOX JUMPS OVER "
			      "THE LAZY DOG, TWICE OVER THE LAZY DOG\n");
	free(out);
	guest_free(&g);
}

Test(vmm_guests, virtio_blk_serves_a_driver_on_ioeventfd_and_survives_a_hostile_one)
{
	struct guest g;
	char disk[4096], sector[512];

	guest_init(&g, "blk");
	snprintf(disk, sizeof(disk), "%s/disk.img", g.dir);
	FILE *f = fopen(disk, "w");
	cr_assert_not_null(f);
	memset(sector, 0, sizeof(sector));
	fwrite(sector, 1, sizeof(sector), f);
	for (size_t i = 0; i < sizeof(sector); i++)
		sector[i] = "den-sector-one.."[i % 16];
	fwrite(sector, 1, sizeof(sector), f);
	memset(sector, 0, sizeof(sector));
	fwrite(sector, 1, sizeof(sector), f);
	fwrite(sector, 1, sizeof(sector), f);
	fclose(f);
	g.spec.disks[0] = (struct vmm_disk){ .path = disk };
	g.spec.n_disks = 1;
	guest_run(&g);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	char *out = guest_output(&g);
	cr_expect(strstr(out, "den-blk: hostile queue, status 4f after reset 00") != NULL,
		  "a broken queue sets DEVICE_NEEDS_RESET, and a reset clears it: %s", out);
	cr_expect(strstr(out, "den-blk: read 'den-sector-one..' status 00 write 00 flush 00 "
			      "isr 01") != NULL,
		  "read, write and flush succeed, with the used-buffer interrupt: %s", out);
	cr_expect_eq(g.stats.notify_exits, 0,
		     "every queue notify reached the device through ioeventfd, with no exit");
	cr_expect_gt(g.stats.mmio_exits, 0);
	f = fopen(disk, "r");
	cr_assert_not_null(f);
	fseek(f, 2 * 512, SEEK_SET);
	cr_assert_eq(fread(sector, 1, 32, f), 32);
	fclose(f);
	cr_expect(memcmp(sector, "written by a real-mode guest...\n", 32) == 0,
		  "the guest's write is in the image");
	free(out);
	guest_free(&g);
}

Test(vmm_guests, virtio_net_carries_an_arp_exchange_with_the_user_mode_network)
{
	struct guest g;

	guest_init(&g, "net");
	g.spec.net = true;
	guest_run(&g);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	char *out = guest_output(&g);
	/* rx: length (header + 42), then the ARP reply: from the gateway's MAC to the guest. */
	cr_expect(strstr(out, "den-net: rx ") != NULL, "a frame came back: %s", out);
	cr_expect(strstr(out, "525400123456"
			      "52550a000202"
			      "0806"
			      "0001080006040002"
			      "52550a000202"
			      "0a000202"
			      "525400123456"
			      "0a00020f") != NULL,
		  "it is the ARP reply for 10.0.2.2: %s", out);
	cr_expect_eq(g.stats.notify_exits, 0);
	free(out);
	guest_free(&g);
}

Test(vmm_guests, a_forwarded_port_in_use_is_refused_clearly)
{
	struct guest g;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	guest_init(&g, "hello");
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	cr_assert(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 1) == 0);
	getsockname(s, (struct sockaddr *)&a, &len);
	g.spec.net = true;
	g.spec.n_fwds = 1;
	cr_assert(usernet_parse_hostfwd("tcp:127.0.0.1:1-:80", &g.spec.fwds[0], &g.err) == 0);
	g.spec.fwds[0].host_port = ntohs(a.sin_port);
	guest_run(&g);
	cr_expect_eq(g.rc, -1);
	cr_expect(strstr(g.err.msg, "in use") != NULL, "%s", g.err.msg);
	close(s);
	guest_free(&g);
}

static json_t *api(const char *sock, const char *cmd)
{
	json_t *reply = NULL;
	struct den_err err = { 0 };

	cr_assert(control_request(sock, cmd, &reply, &err) == 0, "%s: %s", cmd, err.msg);
	return reply;
}

static off_t size_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void wait_for_output(const char *path, off_t more_than, const char *when)
{
	for (int i = 0; i < 500 && size_of(path) <= more_than; i++)
		usleep(10000);
	cr_assert_gt(size_of(path), more_than, "the guest prints %s", when);
}

/* The ticker guest on cpus vCPUs in a thread, with --api at sock; returns once it prints. */
static void start_ticker(struct guest *g, char *sock, size_t len, unsigned cpus, pthread_t *t)
{
	guest_init(g, "ticker");
	snprintf(sock, len, "%s/api.sock", g->dir);
	g->spec.api = sock;
	g->spec.cpus = cpus;
	cr_assert(pthread_create(t, NULL, guest_thread, g) == 0);
	for (int i = 0; i < 500 && access(sock, F_OK) != 0; i++)
		usleep(10000);
	wait_for_output(g->console, 10, "from the start");
}

Test(vmm_guests, the_control_socket_pauses_resumes_and_stops_the_vm)
{
	struct guest g;
	char sock[4096];
	pthread_t t;

	start_ticker(&g, sock, sizeof(sock), 2, &t);

	json_t *r = api(sock, "status");
	cr_expect_str_eq(json_string_value(json_object_get(r, "state")), "running");
	cr_expect_eq(json_integer_value(json_object_get(r, "cpus")), 2);
	cr_expect_eq(json_integer_value(json_object_get(r, "memory")), 16 << 20);
	json_decref(r);

	r = api(sock, "pause");
	cr_expect(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	off_t paused_at = size_of(g.console);
	usleep(300000);
	cr_expect_eq(size_of(g.console), paused_at, "a paused guest runs no instruction");
	r = api(sock, "status");
	cr_expect_str_eq(json_string_value(json_object_get(r, "state")), "paused");
	json_decref(r);

	r = api(sock, "resume");
	cr_expect(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	wait_for_output(g.console, paused_at + 10, "after resume");

	r = api(sock, "reboot");
	cr_expect(json_is_false(json_object_get(r, "ok")), "an unknown command is refused");
	json_decref(r);
	r = api(sock, "stop");
	cr_expect(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	pthread_join(t, NULL);
	cr_expect_eq(g.rc, 0, "%s", g.err.msg);
	cr_expect_eq(g.status, 0, "stop ends the VM as a poweroff");
	cr_expect_neq(access(sock, F_OK), 0, "the socket is gone with the VM");
	guest_free(&g);
}

/*
 * --api powerbutton: the GED's event register (which read nothing before)
 * holds the power button's bit, reading it clears it, and IRQ 15 was
 * pulsed; the guest then powers off, as Linux's would through logind.
 */
Test(vmm_guests, the_power_button_reaches_the_guest_through_the_ged)
{
	struct guest g;
	char sock[4096];
	pthread_t t;

	guest_init(&g, "powerbutton");
	snprintf(sock, sizeof(sock), "%s/api.sock", g.dir);
	g.spec.api = sock;
	g.spec.quiet_timeout = 10; /* a press that never arrives: the guest stays silent */
	cr_assert(pthread_create(&t, NULL, guest_thread, &g) == 0);
	for (int i = 0; i < 500 && access(sock, F_OK) != 0; i++)
		usleep(10000);
	/* Its first line is written after its reads with nothing pressed. */
	wait_for_output(g.console, 0, "what it read before the press");
	usleep(200000);
	char *out = guest_output(&g);
	cr_expect_str_eq(out, "den-ged: idle 00 irq15 00\n",
			 "no event, no IRQ, and nothing more until the press");
	free(out);

	json_t *r = api(sock, "powerbutton");
	cr_expect(json_is_true(json_object_get(r, "ok")), "%s",
		  json_string_value(json_object_get(r, "error")));
	json_decref(r);
	pthread_join(t, NULL);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	out = guest_output(&g);
	cr_expect_str_eq(out,
			 "den-ged: idle 00 irq15 00\n"
			 "den-ged: events 01 again 00 irq15 80\n",
			 "the button's bit, cleared by the read, and IRQ 15 pulsed");
	cr_expect(g.stats.powered_off, "the guest powered off (S5), not reset");
	free(out);
	guest_free(&g);
}

Test(vmm_guests, a_vm_with_many_vcpus_starts_and_stops)
{
	struct guest g;
	char sock[4096];
	pthread_t t;

	start_ticker(&g, sock, sizeof(sock), 40, &t); /* past what the MP table can hold */
	json_t *r = api(sock, "pause");
	cr_expect(json_is_true(json_object_get(r, "ok")), "every vCPU parks");
	json_decref(r);
	r = api(sock, "status");
	cr_expect_eq(json_integer_value(json_object_get(r, "cpus")), 40);
	json_decref(r);
	json_decref(api(sock, "stop"));
	pthread_join(t, NULL);
	cr_expect_eq(g.rc, 0, "%s", g.err.msg);
	guest_free(&g);
}

Test(vmm_guests, a_silent_guest_is_reported_as_stuck)
{
	struct guest g;

	guest_init(&g, "silent");
	g.spec.quiet_timeout = 1;
	guest_run(&g);
	cr_expect_eq(g.rc, -1);
	cr_expect(strstr(g.err.msg, "printed nothing on its console for 1 s") != NULL, "%s",
		  g.err.msg);
	guest_free(&g);
}

Test(vmm_guests, an_oversized_program_is_refused)
{
	struct guest g;
	static uint8_t big[VMM_PROGRAM_MAX + 1];

	guest_init(&g, "hello");
	g.spec.program = big;
	g.spec.program_len = sizeof(big);
	guest_run(&g);
	cr_expect_eq(g.rc, -1);
	cr_expect(strstr(g.err.msg, "at most") != NULL, "%s", g.err.msg);
	guest_free(&g);
}

/* Reserved huge pages, as an administrator sets them: the VMM's RAM comes from them. */
Test(vmm_guests, guest_ram_comes_from_hugetlbfs_when_pages_are_reserved)
{
	const char *knob = "/proc/sys/vm/nr_hugepages";
	char *before = NULL;
	size_t len = 0;
	struct den_err err = { 0 };
	struct guest g;

	need_kvm();
	if (den_read_file(knob, 64, &before, &len, &err) < 0 || access(knob, W_OK) != 0)
		cr_skip_test("cannot reserve huge pages here (%s)", knob);
	unsigned long n = strtoul(before, NULL, 10);
	FILE *f = fopen(knob, "w");
	cr_assert_not_null(f);
	fprintf(f, "%lu\n", n + 16); /* 8 for this VM, 8 for a test beside it */
	fclose(f);
	guest_init(&g, "hello");
	guest_run(&g);
	f = fopen(knob, "w");
	fputs(before, f);
	fclose(f);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	cr_expect(g.stats.hugetlb, "16 MiB of guest RAM in 8 reserved 2 MiB pages");
	free(before);
	guest_free(&g);
}

Test(vmm_guests, without_reserved_huge_pages_guest_ram_is_anonymous)
{
	struct guest g;

	guest_init(&g, "hello");
	g.spec.memory = 17 << 20; /* not whole huge pages */
	guest_run(&g);
	cr_assert_eq(g.rc, 0, "%s", g.err.msg);
	cr_expect(!g.stats.hugetlb);
	guest_free(&g);
}

/* Ctrl-A keys on a terminal console (no VM needed). */
Test(vmm_console, ctrl_a_x_stops_and_ctrl_a_ctrl_a_sends_one)
{
	struct vm vm = { .stop_fd = -1 };
	uint8_t out[64];
	int p[2];

	cr_assert(pipe(p) == 0);
	vm.out_fd = p[1];
	pthread_mutex_init(&vm.pause_lock, NULL);
	pthread_cond_init(&vm.resumed, NULL);
	size_t n = vm_console_escape(&vm,
				     (const uint8_t *)"ab\x01\x01"
						      "c\x01h",
				     7, out);
	cr_expect_eq(n, 4);
	cr_expect(memcmp(out,
			 "ab\x01"
			 "c",
			 4) == 0,
		  "Ctrl-A Ctrl-A is one Ctrl-A; h is help");
	n = vm_console_escape(&vm, (const uint8_t *)"\x01", 1, out);
	cr_expect_eq(n, 0, "a lone Ctrl-A waits for its key");
	n = vm_console_escape(&vm, (const uint8_t *)"z", 1, out);
	cr_expect_eq(n, 2);
	cr_expect(memcmp(out, "\x01z", 2) == 0, "any other key goes through with the Ctrl-A");
	cr_expect_eq(atomic_load(&vm.end), VM_RUNNING);
	n = vm_console_escape(&vm, (const uint8_t *)"q\x01xrest", 7, out);
	cr_expect_eq(n, 1, "nothing after Ctrl-A x reaches the guest");
	cr_expect_eq(atomic_load(&vm.end), VM_POWEROFF, "Ctrl-A x stops the VM");
	close(p[1]);
	char said[512] = { 0 };
	cr_expect_gt(read(p[0], said, sizeof(said) - 1), 0);
	cr_expect(strstr(said, "Ctrl-A x  stop the VM") != NULL, "help: %s", said);
	cr_expect(strstr(said, "the VM is stopped") != NULL, "%s", said);
	close(p[0]);
}
