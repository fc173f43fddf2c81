/* SPDX-License-Identifier: MIT */
/*
 * The kvm provider: den's own VMM runs a VM box's machine. Its supervisor
 * is `den vmm run` in the background (as `den container run` is the
 * container provider's), booting the box's kernel (vm_boot.h) over a
 * copy-on-write disk on the box's raw image (cow_disk.h), with the
 * NoCloud seed as a second, read-only disk, den's user-mode network with
 * the SSH and forwarded ports, the 9p synced folders (opened here, and
 * inherited), the console in console.log and its control socket at
 * control.sock; halted by its ACPI power button. package.c and snapshot.c
 * do `den box package` and `den snapshot`. docs/vmm.md, "The kvm provider".
 */
#include "core/cleanup.h"
#include "core/control.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/spawn.h"
#include "providers/host_kvm.h"
#include "providers/kvm/kvm-provider.h"
#include "providers/kvm/vm_boot.h"
#include "providers/kvm/vmm.h"
#include "providers/provider.h"
#include "providers/seed.h"
#include "providers/vm_ready.h"
#include "providers/vm_shares.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the VMM adds to the box's command line: its console, and a reboot that ends the VM. */
#define CMDLINE_VMM "reboot=k panic=1 i8042.noaux i8042.nomux i8042.nopnp"
#define MAX_ARGS 96
/* The VMM's descriptor numbers for what it inherits: 3, 4, ... (den_spawn's fds). */
#define VMM_FD0 3

static int probe(struct den_err *err)
{
	char why[512];

	if (kvm_host_usable(why, sizeof(why)))
		return 0;
	return den_err_set(err, 0, "%s; use provider: qemu (or container) on this host", why);
}

/* `den vmm run ...` for dm, malloc'd strings in v; false when out of memory. */
struct args {
	char *v[MAX_ARGS + 1];
	size_t n;
	bool oom;
};

static void add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n == MAX_ARGS) {
		a->oom = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n], fmt, ap) < 0) {
		a->v[a->n] = NULL;
		a->oom = true;
	} else {
		a->n++;
	}
	va_end(ap);
}

static void args_free(struct args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
}

/* What one start of the VMM runs: a boot of the box's kernel, or a snapshot restored. */
struct launch {
	const struct vm_boot *b; /* b->image always; the kernel's files unless restore */
	const char *restore;	 /* a snapshot's folder, or NULL */
	int port;		 /* SSH, on 127.0.0.1 */
	const int *hosts;	 /* the forwarded ports' host sides */
	struct vm_share shares[VMM_MAX_SHARES];
	size_t n_shares;
};

static void build_argv(const struct den_machine *dm, const struct launch *l, struct args *a)
{
	const struct machine *cfg = dm->cfg;
	const struct vm_boot *b = l->b;
	int port = l->port;
	const int *hosts = l->hosts;
	char net[4096];
	size_t at;

	add(a, "den");
	add(a, "vmm");
	add(a, "run");
	if (l->restore != NULL) {
		add(a, "--restore=%s", l->restore);
	} else {
		add(a, "--kernel=%s", b->kernel);
		if (b->initrd != NULL)
			add(a, "--initrd=%s", b->initrd);
		add(a, "--cmdline=%s " CMDLINE_VMM, b->cmdline);
	}
	add(a, "--cpus=%u", cfg->cpus);
	add(a, "--memory=%lluM", (unsigned long long)(cfg->memory >> 20));
	/* disk_size grows the disk (never shrinks it: the VMM refuses that). */
	if (cfg->disk_size != 0)
		add(a, "--disk=%s/disk.cow,base=%s,size=%lluK", dm->dir, b->image,
		    (unsigned long long)(cfg->disk_size >> 10));
	else
		add(a, "--disk=%s/disk.cow,base=%s", dm->dir, b->image);
	add(a, "--disk=%s/seed.iso,ro", dm->dir);
	at = (size_t)snprintf(net, sizeof(net), "user%s,hostfwd=tcp:127.0.0.1:%d-:22",
			      cfg->host_loopback ? "" : ",no-host-loopback", port);
	for (size_t i = 0; i < cfg->n_ports && at < sizeof(net); i++)
		at += (size_t)snprintf(net + at, sizeof(net) - at, ",hostfwd=%s:%s:%d-:%u",
				       cfg->ports[i].protocol == FWD_UDP ? "udp" : "tcp",
				       cfg->ports[i].host_ip, hosts[i], cfg->ports[i].guest);
	if (at >= sizeof(net))
		a->oom = true;
	add(a, "--net=%s", net);
	for (size_t i = 0; i < l->n_shares; i++)
		add(a, "--share=%s,tag=%s%s", l->shares[i].path, l->shares[i].tag,
		    l->shares[i].ro ? ",ro" : "");
	add(a, "--console=%s/console.log", dm->dir);
	add(a, "--api=%s/control.sock", dm->dir);
}

/*
 * Starts the VMM in its own session with its output in vmm.log, and
 * waits until its control socket answers: then the guest is booting.
 */
static int spawn_vmm(struct den_machine *dm, const struct launch *l, pid_t *pid,
		     struct den_err *err)
{
	cleanup_free char *log = provider_path(dm, "vmm.log");
	cleanup_close int fd = -1;
	struct args a = { .n = 0 };
	int fds[VMM_MAX_SHARES];
	int rc;

	if (log == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	for (size_t i = 0; i < l->n_shares; i++)
		fds[i] = l->shares[i].fd;
	build_argv(dm, l, &a);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct den_spawn sp = { .argv = (const char *const *)a.v,
				.path = "/proc/self/exe",
				.in = DEN_SPAWN_NULL,
				.out = fd,
				.err_fd = fd,
				.fds = fds,
				.n_fds = l->n_shares,
				.close_fds = true,
				.setsid = true };
	if (a.oom)
		rc = den_err_set(err, ENOMEM, "machine %s: its VMM's command line", dm->cfg->name);
	else
		rc = fd < 0 ? den_err_set(err, errno, "cannot write %s", log)
			    : den_spawn_start(&sp, pid, err);
	args_free(&a);
	if (rc < 0)
		return den_err_wrap(err, "cannot start machine %s", dm->cfg->name);
	return provider_wait_control(dm, *pid, "vmm.log", 10000, err);
}

/* The VMM started, with the machine's 9p folders opened by den for it to inherit. */
static int start_vmm(struct den_machine *dm, struct launch *l, pid_t *pid, struct den_err *err)
{
	/* The VMM gets each folder as /proc/self/fd/N: it never looks the path up itself. */
	if (vm_shares_open(dm, VMM_FD0, l->shares, VMM_MAX_SHARES, &l->n_shares, err) < 0)
		return -1;
	int rc = spawn_vmm(dm, l, pid, err);
	vm_shares_close(l->shares, l->n_shares);
	return rc;
}

/* Is pid still this machine's VMM (not a recycled pid)? */
static bool is_our_vmm(pid_t pid, const struct den_machine *dm)
{
	char buf[8192], want[4200];
	size_t n = den_proc_cmdline(pid, buf, sizeof(buf));

	snprintf(want, sizeof(want), "--api=%s/control.sock", dm->dir);
	for (const char *a = buf; n > 0 && a < buf + n; a += strlen(a) + 1)
		if (strcmp(a, want) == 0)
			return true;
	return false;
}

/* Waits up to ms for pid to be gone; true when it is. */
static bool wait_gone(pid_t pid, const struct den_machine *dm, unsigned ms)
{
	for (unsigned t = 0; t < ms && is_our_vmm(pid, dm); t += 20)
		usleep(20000);
	return !is_our_vmm(pid, dm);
}

/* A VMM left by a den killed mid-up (or a halt that failed): stopped, then killed (kvm-provider.h). */
int kvm_stop(struct den_machine *dm, struct den_err *err)
{
	cleanup_free char *sock = provider_path(dm, "control.sock");
	pid_t pid = dm->rec.supervisor;
	json_t *reply = NULL;
	struct den_err ignored = { 0 };

	if (sock != NULL && control_request(sock, "stop", &reply, &ignored) == 0)
		json_decref(reply);
	if (pid > 0 && !wait_gone(pid, dm, 3000)) {
		kill(pid, SIGKILL);
		if (!wait_gone(pid, dm, 3000))
			return den_err_set(err, 0, "machine %s: its VMM (pid %d) does not end",
					   dm->cfg->name, (int)pid);
	}
	if (sock != NULL)
		unlink(sock);
	return 0;
}

int kvm_start(struct den_machine *dm, const struct vm_boot *b, const char *restore,
	      struct den_err *err)
{
	cleanup_free char *seed = provider_path(dm, "seed.iso"),
			  *disk = provider_path(dm, "disk.cow"),
			  *base = provider_path(dm, KVM_DISK_BASE);
	cleanup_free int *hosts = NULL;
	struct launch l = { .b = b, .restore = restore };
	pid_t pid = -1;

	if (seed == NULL || disk == NULL || base == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (den_mkdir_p(dm->dir, 0700, err) < 0 || kvm_stop(dm, err) < 0)
		return -1;
	if (keys_ensure(dm->dir, err) < 0 || chmod(dm->dir, 0700) < 0)
		return den_err_is_set(err) ? -1
					   : den_err_set(err, errno, "cannot protect %s", dm->dir);
	if (dm->rec.created == 0)
		dm->rec.created = time(NULL);
	/* A new disk: the box's own key (a Vagrant box's) is the one its first boot answers to. */
	if (!den_exists(disk) && vm_box_key_record(dm, err) < 0)
		return -1;
	/* What the disk lies over, for `den box package` and snapshots. */
	if (den_write_file_atomic(base, b->image, 0600, err) < 0)
		return -1;
	/* state.json says running before the VMM starts (see provider.h). */
	if (seed_write_machine(dm, seed, err) < 0 ||
	    provider_record_start(dm, "kvm", &l.port, &hosts, err) < 0)
		return -1;
	l.hosts = hosts;
	den_crash_point("up:before-supervisor");
	if (start_vmm(dm, &l, &pid, err) < 0)
		return -1;
	den_crash_point("up:after-supervisor");
	dm->rec.supervisor = pid;
	return machine_save(dm, err);
}

static int up(struct den_machine *dm, const struct provider_up_args *args, struct den_err *err)
{
	struct vm_boot b;

	if (vm_shares_check(dm, VMM_MAX_SHARES, err) < 0)
		return -1;
	if (vm_boot_prepare(args->box_dir, &b, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	int rc = kvm_start(dm, &b, NULL, err);
	vm_boot_free(&b);
	return rc;
}

static int state(struct den_machine *dm, enum machine_state *out, struct den_err *err)
{
	cleanup_free char *sock = provider_path(dm, "control.sock");
	json_t *reply = NULL;
	struct den_err ignored = { 0 };

	(void)err;
	if (sock != NULL && control_request(sock, "status", &reply, &ignored) == 0) {
		const char *s = json_string_value(json_object_get(reply, "state"));
		*out = s != NULL && strcmp(s, "paused") == 0 ? MACHINE_SUSPENDED : MACHINE_RUNNING;
		json_decref(reply);
		return 0;
	}
	*out = dm->rec.running ? MACHINE_ABORTED : MACHINE_STOPPED;
	return 0;
}

/*
 * Graceful: the ACPI power button (den's VMM's GED device; the guest's
 * logind powers off, as on a laptop), waiting up to graceful_halt_timeout
 * for the VM to end; then, or at once when forced, the VMM is stopped.
 * It needs no SSH, so a guest whose sshd is broken still shuts down
 * cleanly (docs/decisions.md, "A power button for graceful halts").
 */
static int halt(struct den_machine *dm, bool force, struct den_err *err)
{
	pid_t pid = dm->rec.supervisor;
	enum machine_state st = MACHINE_STOPPED;

	state(dm, &st, err);
	if (!force && st == MACHINE_RUNNING) {
		cleanup_free char *sock = provider_path(dm, "control.sock");
		json_t *reply = NULL;
		struct den_err e = { 0 };
		if (sock != NULL && control_request(sock, "powerbutton", &reply, &e) == 0)
			json_decref(reply);
		if (!wait_gone(pid, dm, dm->cfg->graceful_halt_timeout * 1000))
			den_warn("machine %s did not power off within %u s of its power button; "
				 "stopping it",
				 dm->cfg->name, dm->cfg->graceful_halt_timeout);
	}
	if (kvm_stop(dm, err) < 0)
		return -1;
	return provider_record_halt(dm, err);
}

static int destroy(struct den_machine *dm, struct den_err *err)
{
	/* Its files go only once its VMM is gone (provider.h). */
	if (kvm_stop(dm, err) < 0)
		return den_err_wrap(err, "cannot destroy it");
	return provider_destroy(dm, halt, state, den_rm_rf, err);
}

static int control(struct den_machine *dm, const char *cmd, struct den_err *err)
{
	cleanup_free char *sock = provider_path(dm, "control.sock");
	json_t *reply = NULL;

	if (sock == NULL || control_request(sock, cmd, &reply, err) < 0)
		return den_err_wrap(err, "machine %s is not running", dm->cfg->name);
	json_decref(reply);
	return 0;
}

static int suspend(struct den_machine *dm, struct den_err *err)
{
	return control(dm, "pause", err);
}

static int resume(struct den_machine *dm, struct den_err *err)
{
	return control(dm, "resume", err);
}

static int ready(struct den_machine *dm, struct den_ssh *ssh, struct den_err *err)
{
	return vm_ready(&provider_kvm, dm, ssh, err);
}

const struct provider_ops provider_kvm = {
	.name = "kvm",
	.probe = probe,
	.up = up,
	.halt = halt,
	.destroy = destroy,
	.state = state,
	.ssh_info = vm_ssh_info,
	.ready = ready,
	.package = kvm_package,
	.snapshot_save = kvm_snapshot_save,
	.snapshot_restore = kvm_snapshot_restore,
	.snapshot_list = kvm_snapshot_list,
	.snapshot_delete = kvm_snapshot_delete,
	.suspend = suspend,
	.resume = resume,
};
