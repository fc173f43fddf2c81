/* SPDX-License-Identifier: MIT */
/*
 * The qemu provider's lifecycle: `den up` makes the machine's disk (a
 * qcow2 overlay on the box's image), its NoCloud seed and keys, then
 * starts qemu-system-x86_64 -daemonize: QEMU itself is the supervisor,
 * answering QMP on .den/machines/NAME/qmp.sock. Halt asks the guest to
 * power down (ACPI), then QEMU to quit, then kills it.
 */
#include "providers/network/network.h"
#include "providers/qemu/accel.h"
#include "providers/qemu/cmdline.h"
#include "providers/qemu/disk.h"
#include "providers/qemu/qemu-internal.h"
#include "providers/seed.h"
#include "providers/host_kvm.h"
#include "providers/vm_ready.h"
#include "providers/vm_shares.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/spawn.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QEMU "qemu-system-x86_64"

static int probe(struct den_err *err)
{
	if (!den_on_path(QEMU) || !den_on_path("qemu-img"))
		return den_err_set(err, 0,
				   "the qemu provider needs " QEMU " and qemu-img: install "
				   "qemu-system-x86 and qemu-utils (`make deps` does)");
	return 0;
}

/*
 * Is pid a QEMU started for this machine: is its -pidfile argument
 * DIR/qemu.pid, DIR this machine's folder?
 */
static bool is_our_qemu(pid_t pid, const struct den_machine *dm)
{
	char buf[16384];
	size_t n = den_proc_cmdline(pid, buf, sizeof(buf));

	for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
		char *file = a + strlen(a) + 1, *slash;
		if (strcmp(a, "-pidfile") != 0 || file >= buf + n)
			continue;
		slash = strrchr(file, '/');
		if (slash == NULL || strcmp(slash, "/qemu.pid") != 0)
			return false;
		*slash = '\0';
		return machine_is_dir(dm, file);
	}
	return false;
}

pid_t qemu_running_pid(const struct den_machine *dm)
{
	cleanup_free char *pidfile = provider_path(dm, "qemu.pid"), *text = NULL;
	struct den_err ignored = { 0 };
	size_t len;

	if (pidfile == NULL || den_read_own_file(pidfile, 64, &text, &len, &ignored) < 0)
		return 0;
	pid_t pid = (pid_t)atoi(text);
	return is_our_qemu(pid, dm) ? pid : 0;
}

static bool wait_gone(const struct den_machine *dm, pid_t pid, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 20) {
		if (!is_our_qemu(pid, dm))
			return true;
		usleep(20000);
	}
	return !is_our_qemu(pid, dm);
}

/* The box's image and its format (metadata.json's "format": qcow2 or raw). */
static int box_image(const struct den_machine *dm, const char *box_dir, char **img, char **fmt,
		     struct den_err *err)
{
	cleanup_free char *meta = NULL;
	json_t *j;

	if (asprintf(&meta, "%s/metadata.json", box_dir) < 0 ||
	    asprintf(img, "%s/box.img", box_dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (!den_exists(*img))
		return den_err_set(err, 0,
				   "box %s has no box.img: it is not a qemu (libvirt) box; "
				   "build one with `den box build debian-12 --provider qemu`",
				   box_dir);
	j = json_load_file(meta, 0, NULL);
	const char *f = json_string_value(json_object_get(j, "format"));
	*fmt = strdup(f ? f : "qcow2");
	json_decref(j);
	if (*fmt == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (strcmp(*fmt, "qcow2") != 0 && strcmp(*fmt, "raw") != 0)
		return den_err_set(err, 0, "box %s: its image format '%s' is not qcow2 or raw",
				   box_dir, *fmt);
	return 0;
}

static int write_seed(struct den_machine *dm, const char *hosts, struct den_err *err)
{
	cleanup_free char *seed = provider_path(dm, "seed.iso");

	return seed == NULL ? den_err_set(err, ENOMEM, "machine %s", dm->cfg->name)
			    : seed_write_machine(dm, seed, hosts, err);
}

/* QEMU's descriptor numbers for what it inherits: 3, 4, ... (den_spawn's fds). */
#define QEMU_FD0 3
#define QEMU_MAX_PRIVATE 8 /* private networks of a machine */

/*
 * Runs QEMU, which daemonizes once the machine is set up; its errors go to
 * qemu.log. fds[i] (the shares' folders, then its network) become QEMU's
 * descriptor QEMU_FD0 + i.
 */
static int start_qemu(struct den_machine *dm, char **argv, const int *fds, size_t n_fds,
		      struct den_err *err)
{
	cleanup_free char *log = provider_path(dm, "qemu.log");
	cleanup_close int fd = -1;
	char tail[2048] = "";
	int status;
	pid_t pid;

	if (log == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return den_err_set(err, errno, "machine %s: cannot write %s", dm->cfg->name, log);
	/* QEMU outlives den: no SSH socket of another machine goes with it (close_fds). */
	struct den_spawn sp = { .argv = (const char *const *)argv,
				.in = DEN_SPAWN_NULL,
				.out = fd,
				.err_fd = fd,
				.fds = fds,
				.n_fds = n_fds,
				.close_fds = true,
				.install = "install qemu-system-x86: `make deps` does" };
	if (den_spawn_start(&sp, &pid, err) < 0 || den_spawn_wait(pid, &status, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	den_read_tail(log, 6, tail, sizeof(tail));
	for (size_t n = strlen(tail); n > 0 && tail[n - 1] == '\n'; n--)
		tail[n - 1] = '\0';
	return den_err_set(err, 0, "machine %s: " QEMU " did not start (%s %d): %s", dm->cfg->name,
			   WIFEXITED(status) ? "exit" : "signal",
			   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			   tail[0] ? tail : "no message");
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static int launch(struct den_machine *dm, int ssh_port, const int *hosts, struct den_err *err)
{
	cleanup_free char *disk = provider_path(dm, "disk.qcow2"),
			  *seed = provider_path(dm, "seed.iso"),
			  *qmp = provider_path(dm, "qmp.sock"),
			  *serial = provider_path(dm, "console.log"),
			  *pidfile = provider_path(dm, "qemu.pid");
	struct vm_share vs[VM_MAX_SHARES];
	struct qemu_share shares[VM_MAX_SHARES];
	char why[256] = "", note[512] = "";
	/* The shares' folders, the network, then the private networks' switch ports. */
	int fds[VM_MAX_SHARES + 1 + QEMU_MAX_PRIVATE];
	struct network_port nets[QEMU_MAX_PRIVATE];
	struct qemu_private privates[QEMU_MAX_PRIVATE];
	size_t n_nets = dm->cfg->n_networks;
	const char *accel;
	size_t n_shares;

	if (!disk || !seed || !qmp || !serial || !pidfile)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (n_nets > QEMU_MAX_PRIVATE)
		return den_err_set(err, 0, "machine %s: a VM is on at most %d private networks",
				   dm->cfg->name, QEMU_MAX_PRIVATE);
	bool kvm = kvm_host_usable(why, sizeof(why));
	if (qemu_accel(dm->cfg->accel, kvm, why, &accel, note, sizeof(note), err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	if (note[0] != '\0')
		den_info("%s: %s", dm->cfg->name, note);
	/* QEMU gets each folder as /proc/self/fd/N: it never looks the path up itself. */
	if (vm_shares_open(dm, QEMU_FD0, vs, VM_MAX_SHARES, &n_shares, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	for (size_t i = 0; i < n_shares; i++) {
		fds[i] = vs[i].fd;
		shares[i] = (struct qemu_share){ vs[i].tag, vs[i].path, vs[i].ro };
	}
	/* Ports in use are an error here, before QEMU starts. */
	if (qemu_net_start(dm, ssh_port, hosts, &fds[n_shares], err) < 0) {
		close_all(fds, n_shares);
		return -1;
	}
	/* Its ports on the project's switches, in QEMU's stream framing. */
	if (n_nets > 0 && network_join_all(dm, SOCK_STREAM, nets, err) < 0) {
		close_all(fds, n_shares + 1);
		return -1;
	}
	for (size_t i = 0; i < n_nets; i++) {
		fds[n_shares + 1 + i] = nets[i].fd;
		privates[i].fd = QEMU_FD0 + (int)(n_shares + 1 + i);
		memcpy(privates[i].mac, nets[i].mac, 6);
	}
	size_t n_fds = n_shares + 1 + n_nets;
	struct qemu_launch l = {
		.name = dm->cfg->name,
		.accel = accel,
		.cpus = dm->cfg->cpus,
		.memory = dm->cfg->memory,
		.disk = disk,
		.seed = seed,
		.qmp = qmp,
		.serial = serial,
		.pidfile = pidfile,
		.net_fd = QEMU_FD0 + (int)n_shares,
		.shares = shares,
		.n_shares = n_shares,
		.privates = privates,
		.n_privates = n_nets,
		.daemonize = true,
	};
	char **argv = qemu_argv(&l);
	if (argv == NULL) {
		close_all(fds, n_fds);
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	}
	unlink(pidfile);
	unlink(qmp);
	den_crash_point("up:before-supervisor");
	int rc = start_qemu(dm, argv, fds, n_fds, err);
	close_all(fds, n_fds);
	qemu_argv_free(argv);
	return rc;
}

/* Kills the machine's QEMU; an error when it will not go (its pid file is then kept). */
static int kill_qemu(struct den_machine *dm, pid_t pid, struct den_err *err)
{
	kill(pid, SIGKILL);
	if (wait_gone(dm, pid, 10000))
		return 0;
	return den_err_set(err, 0,
			   "machine %s: QEMU (pid %d) does not end even when killed; find out "
			   "why (stuck in the kernel?) before starting the machine again",
			   dm->cfg->name, (int)pid);
}

/* A QEMU still running this machine's disk (a den killed mid-up): ended first. */
static int stop_leftover(struct den_machine *dm, struct den_err *err)
{
	pid_t pid = qemu_running_pid(dm);

	return pid > 0 ? kill_qemu(dm, pid, err) : 0;
}

/*
 * The machine's disk, made on first up through a temporary name (a den
 * killed meanwhile leaves no half-made disk). Before it is made, a
 * Vagrant box's first-login key is recorded: whatever happens next, the
 * machine's first boot is known to need it.
 */
static int prepare_disk(struct den_machine *dm, const char *box_dir, struct den_err *err)
{
	cleanup_free char *img = NULL, *fmt = NULL, *disk = provider_path(dm, "disk.qcow2"),
			  *part = provider_path(dm, "disk.qcow2.part");

	if (disk == NULL || part == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (box_image(dm, box_dir, &img, &fmt, err) < 0)
		return -1;
	if (den_exists(disk))
		return 0;
	unlink(part);
	if (vm_box_key_record(dm, err) < 0)
		return -1;
	if (qemu_disk_create(img, fmt, part, dm->cfg->disk_size, err) < 0) {
		unlink(part);
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	}
	if (rename(part, disk) < 0) {
		unlink(part);
		return den_err_set(err, errno, "cannot write %s", disk);
	}
	return 0;
}

static int up(struct den_machine *dm, const struct provider_up_args *args, struct den_err *err)
{
	int port;

	if (vm_shares_check(dm, VM_MAX_SHARES, NULL, err) < 0)
		return -1;
	if (den_mkdir_p(dm->dir, 0700, err) < 0 || stop_leftover(dm, err) < 0)
		return -1;
	if (keys_ensure(dm->dir, err) < 0 || chmod(dm->dir, 0700) < 0)
		return den_err_is_set(err) ? den_err_wrap(err, "machine %s", dm->cfg->name)
					   : den_err_set(err, errno, "cannot protect %s", dm->dir);
	if (dm->rec.created == 0)
		dm->rec.created = time(NULL);
	/*
	 * A Vagrant box lets den in with its own (insecure) key the first time;
	 * den then puts its keys in (guest.c) and forgets that one.
	 */
	if (prepare_disk(dm, args->box_dir, err) < 0)
		return -1;
	cleanup_free int *hosts = NULL;
	if (write_seed(dm, args->hosts, err) < 0 ||
	    provider_record_start(dm, "qemu", &port, &hosts, err) < 0 ||
	    launch(dm, port, hosts, err) < 0)
		return -1;
	den_crash_point("up:after-supervisor");
	dm->rec.supervisor = qemu_running_pid(dm);
	return machine_save(dm, err);
}

static int halt(struct den_machine *dm, bool force, struct den_err *err)
{
	pid_t pid = qemu_running_pid(dm);
	struct den_err ignored = { 0 };
	unsigned grace = dm->cfg->graceful_halt_timeout * 1000;

	if (pid > 0 && !force) {
		enum machine_state st;
		/* A paused guest cannot hear the power button. */
		if (qemu_state(dm, &st, &ignored) == 0 && st == MACHINE_SUSPENDED)
			qemu_qmp(dm, "cont", NULL, NULL, &ignored);
		if (qemu_qmp(dm, "system_powerdown", NULL, NULL, &ignored) == 0 &&
		    !wait_gone(dm, pid, grace))
			den_warn("machine %s did not power down within %u s; stopping QEMU",
				 dm->cfg->name, dm->cfg->graceful_halt_timeout);
	}
	if (pid > 0 && !wait_gone(dm, pid, 0)) {
		qemu_qmp(dm, "quit", NULL, NULL, &ignored);
		if (!wait_gone(dm, pid, 3000) && kill_qemu(dm, pid, err) < 0)
			return -1;
	}
	cleanup_free char *qmp = provider_path(dm, "qmp.sock"),
			  *pidfile = provider_path(dm, "qemu.pid");
	if (qmp != NULL)
		unlink(qmp);
	if (pidfile != NULL)
		unlink(pidfile);
	return provider_record_halt(dm, err);
}

static int destroy(struct den_machine *dm, struct den_err *err)
{
	/* Its files go only once its QEMU is gone (provider.h). */
	if (stop_leftover(dm, err) < 0)
		return den_err_wrap(err, "cannot destroy it");
	return provider_destroy(dm, halt, qemu_state, den_rm_rf, err);
}

static int ready(struct den_machine *dm, struct den_ssh *ssh, struct den_err *err)
{
	return vm_ready(&provider_qemu, dm, ssh, false, err);
}

const struct provider_ops provider_qemu = {
	.name = "qemu",
	.probe = probe,
	.up = up,
	.halt = halt,
	.destroy = destroy,
	.state = qemu_state,
	.ssh_info = vm_ssh_info,
	.suspend = qemu_suspend,
	.resume = qemu_resume,
	.snapshot_save = qemu_snapshot_save,
	.snapshot_restore = qemu_snapshot_restore,
	.snapshot_list = qemu_snapshot_list,
	.snapshot_delete = qemu_snapshot_delete,
	.ready = ready,
	.package = qemu_package,
};
