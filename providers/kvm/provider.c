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
#include "core/clock.h"
#include "core/cleanup.h"
#include "core/control.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/log.h"
#include "providers/host_kvm.h"
#include "providers/network/network.h"
#include "providers/kvm/kvm-provider.h"
#include "providers/kvm/launch.h"
#include "providers/kvm/cow_disk.h"
#include "providers/kvm/warm.h"
#include "providers/kvm/vm_boot.h"
#include "providers/kvm/vmm.h"
#include "providers/provider.h"
#include "providers/seed.h"
#include "providers/vm_ready.h"
#include "providers/vm_shares.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int probe(struct den_err *err)
{
	char why[512];

	if (kvm_host_usable(why, sizeof(why)))
		return 0;
	return den_err_set(err, 0, "%s; use provider: qemu (or container) on this host", why);
}

/*
 * Starts the VMM in its own session with its output in vmm.log, and
 * waits until its control socket answers: then the guest is booting.
 */
static int spawn_vmm(struct den_machine *dm, const struct kvm_launch *l, pid_t *pid,
		     struct den_err *err)
{
	cleanup_free char *log = provider_path(dm, "vmm.log");

	if (log == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (kvm_launch_spawn(dm->cfg, l, log, 0644, true, pid, err) < 0)
		return den_err_wrap(err, "cannot start machine %s", dm->cfg->name);
	return provider_wait_control(dm, *pid, "vmm.log", 10000, err);
}

/* The VMM started, with the machine's 9p folders opened by den for it to inherit. */
static int start_vmm(struct den_machine *dm, struct kvm_launch *l, pid_t *pid, struct den_err *err)
{
	struct network_port nets[VMM_MAX_PRIVATE];
	size_t n_nets = dm->cfg->n_networks;

	if (n_nets > VMM_MAX_PRIVATE)
		return den_err_set(err, 0, "machine %s: den's VMM has at most %d private networks",
				   dm->cfg->name, VMM_MAX_PRIVATE);
	/* The VMM gets each folder as /proc/self/fd/N: it never looks the path up itself. */
	if (vm_shares_open(dm, KVM_FD0, l->shares, VMM_MAX_SHARES, &l->n_shares, err) < 0)
		return -1;
	/* Its ports on the project's switches, a packet a frame: the VMM's cards hold them. */
	if (n_nets > 0 && network_join_all(dm, SOCK_SEQPACKET, nets, err) < 0) {
		vm_shares_close(l->shares, l->n_shares);
		return -1;
	}
	for (size_t i = 0; i < n_nets; i++) {
		l->privates[i].fd = nets[i].fd;
		memcpy(l->privates[i].mac, nets[i].mac, 6);
	}
	l->n_privates = n_nets;
	int rc = spawn_vmm(dm, l, pid, err);
	vm_shares_close(l->shares, l->n_shares);
	network_close_all(nets, n_nets);
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

/* A new machine's disk and den's record, from the warm image in warm (warm.h). */
static int from_warm(struct den_machine *dm, const char *warm, struct kvm_launch *l, char **seed,
		     char **record, struct den_err *err)
{
	cleanup_free char *src = NULL, *disk = provider_path(dm, "disk.cow");

	if (disk == NULL || asprintf(&src, "%s/disk.cow", warm) < 0 ||
	    asprintf(seed, "%s/seed.iso", warm) < 0 ||
	    (*record = provider_path(dm, "channel.in")) == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	/* The template's disk as it was when saved (what its memory knows of it); synced by its first flush. */
	long long t0 = den_now_ms();
	if (cow_disk_copy(src, disk, false, err) < 0)
		return -1;
	long long t1 = den_now_ms();
	if (warm_record_write(dm, *record, err) < 0)
		return -1;
	den_debug("%s: disk copied in %lld ms, den's record written in %lld ms", dm->cfg->name,
		  t1 - t0, den_now_ms() - t1);
	l->restore = warm;
	l->clone = true;
	l->seed = *seed;
	l->channel_in = *record;
	return 0;
}

int kvm_start(struct den_machine *dm, const struct vm_boot *b, const char *restore,
	      const char *warm, const char *hosts_lines, struct den_err *err)
{
	cleanup_free char *seed = provider_path(dm, "seed.iso"),
			  *disk = provider_path(dm, "disk.cow"),
			  *base = provider_path(dm, KVM_DISK_BASE), *warm_seed = NULL,
			  *record = NULL;
	cleanup_free int *hosts = NULL;
	struct kvm_launch l = { .b = b, .dir = dm->dir, .restore = restore };
	pid_t pid = -1;

	if (seed == NULL || disk == NULL || base == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	long long t0 = den_now_ms();
	if (den_mkdir_p(dm->dir, 0700, err) < 0 || kvm_stop(dm, err) < 0)
		return -1;
	if (keys_ensure(dm->dir, err) < 0 || chmod(dm->dir, 0700) < 0)
		return den_err_is_set(err) ? -1
					   : den_err_set(err, errno, "cannot protect %s", dm->dir);
	den_debug("%s: keys ready in %lld ms", dm->cfg->name, den_now_ms() - t0);
	if (dm->rec.created == 0)
		dm->rec.created = time(NULL);
	/* A new disk: the box's own key (a Vagrant box's) is the one its first boot answers to. */
	if (!den_exists(disk) && vm_box_key_record(dm, err) < 0)
		return -1;
	/* What the disk lies over, for `den box package` and snapshots. */
	if (den_write_file_atomic(base, b->image, 0600, err) < 0)
		return -1;
	/*
	 * The machine's own seed, for its boots; a clone starts on its warm
	 * image's, and its own is written at its first boot (each start here).
	 */
	if (warm == NULL ? seed_write_machine(dm, seed, hosts_lines, err) < 0
			 : from_warm(dm, warm, &l, &warm_seed, &record, err) < 0)
		return -1;
	/* state.json says running before the VMM starts (see provider.h). */
	if (provider_record_start(dm, "kvm", &l.port, &hosts, err) < 0)
		return -1;
	l.hosts = hosts;
	long long t1 = den_now_ms();
	den_crash_point("up:before-supervisor");
	if (start_vmm(dm, &l, &pid, err) < 0)
		return -1;
	den_debug("%s: keys, seed%s in %lld ms; its VMM answering in %lld ms", dm->cfg->name,
		  warm != NULL ? ", disk and record" : "", t1 - t0, den_now_ms() - t1);
	den_crash_point("up:after-supervisor");
	dm->rec.supervisor = pid;
	return machine_save(dm, err);
}

/*
 * A new machine of a box whose seed hook does den's warm-image handshake
 * is restored from the box's warm image (made on the first up); any other
 * start boots. A warm image that fails to start leaves the machine to boot.
 */
static int up(struct den_machine *dm, const struct provider_up_args *args, struct den_err *err)
{
	cleanup_free char *disk = provider_path(dm, "disk.cow"), *warm = NULL;
	struct vm_boot b;
	struct warm_want want;
	size_t shares = 0;
	int rc;

	if (disk == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	long long t0 = den_now_ms();
	if (vm_shares_check(dm, VMM_MAX_SHARES, &shares, err) < 0)
		return -1;
	if (vm_boot_prepare(args->box_dir, &b, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	warm_want_of(dm->cfg, dm->rec.ssh_user, shares, &want);
	/* A machine on a private network boots: its cards are not in the warm image. */
	if (args->box_warm && !den_exists(disk) && dm->cfg->n_networks == 0 &&
	    warm_image_get(args->box_dir, &b, &want, &warm, err) < 0) {
		vm_boot_free(&b);
		return -1;
	}
	den_debug("%s: box ready%s in %lld ms", dm->cfg->name,
		  warm != NULL ? ", warm image checked" : "", den_now_ms() - t0);
	rc = kvm_start(dm, &b, NULL, warm, args->hosts, err);
	if (rc < 0 && warm != NULL) {
		den_warn("machine %s: its warm image did not start (%s); booting it", dm->cfg->name,
			 err->msg);
		den_err_clear(err);
		unlink(disk);
		rc = kvm_start(dm, &b, NULL, NULL, args->hosts, err);
	}
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

/*
 * What the VMM's status says of a machine from a warm image (its hook's
 * steps, vm-internal.h), in one request: the two boolean keys' values
 * into v; one absent (a booted machine, or no answer) leaves v as it was.
 */
static void clone_status2(struct den_machine *dm, const char *const keys[2], bool v[2])
{
	cleanup_free char *sock = provider_path(dm, "control.sock");
	json_t *reply = NULL;
	struct den_err ignored = { 0 };

	if (sock != NULL && control_request(sock, "status", &reply, &ignored) == 0) {
		for (int i = 0; i < 2; i++) {
			json_t *j = json_object_get(reply, keys[i]);
			if (json_is_boolean(j))
				v[i] = json_is_true(j);
		}
		json_decref(reply);
	}
}

static bool clone_status(struct den_machine *dm, const char *key, bool dflt)
{
	const char *const keys[2] = { key, key };
	bool v[2] = { dflt, dflt };

	clone_status2(dm, keys, v);
	return v[0];
}

/* A machine from a warm image is not made yet: its hook has not said so. */
static bool not_ready_yet(struct den_machine *dm)
{
	return !clone_status(dm, "personalised", true);
}

/*
 * Ready once den is logged in; a machine from a warm image then has its VMM
 * record the image's working set if no machine did yet (working_set.c):
 * what its guest touched up to here, which later machines map at once.
 */
static int ready(struct den_machine *dm, struct den_ssh *ssh, struct den_err *err)
{
	const char *const keys[2] = { "personalised", "folders_mounted" };
	bool v[2] = { false, false }; /* one status: made, and its folders mounted */
	struct den_err ignored = { 0 };

	clone_status2(dm, keys, v);
	if (v[0])
		control(dm, "working-set", &ignored); /* a cache: without it, only slower */
	return vm_ready(&provider_kvm, dm, ssh, v[0] && v[1], err);
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
	.not_ready_yet = not_ready_yet,
	.package = kvm_package,
	.snapshot_save = kvm_snapshot_save,
	.snapshot_restore = kvm_snapshot_restore,
	.snapshot_list = kvm_snapshot_list,
	.snapshot_delete = kvm_snapshot_delete,
	.suspend = suspend,
	.resume = resume,
};
