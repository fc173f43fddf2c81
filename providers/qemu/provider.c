/* SPDX-License-Identifier: MIT */
/*
 * The qemu provider's lifecycle: `den up` makes the machine's disk (a
 * qcow2 overlay on the box's image), its NoCloud seed and keys, then
 * starts qemu-system-x86_64 -daemonize: QEMU itself is the supervisor,
 * answering QMP on .den/machines/NAME/qmp.sock. Halt asks the guest to
 * power down (ACPI), then QEMU to quit, then kills it.
 */
#include "providers/qemu/accel.h"
#include "providers/qemu/cmdline.h"
#include "providers/qemu/disk.h"
#include "providers/qemu/qemu-internal.h"
#include "providers/qemu/seed.h"
#include "providers/kvm/host.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/hostpath.h"
#include "core/keys.h"
#include "core/log.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QEMU "qemu-system-x86_64"
#define MAX_SHARES 64

char *qemu_path(const struct den_machine *m, const char *name)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s", m->dir, name) < 0 ? NULL : p;
}

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
static bool is_our_qemu(pid_t pid, const struct den_machine *m)
{
	char path[64], buf[16384];
	cleanup_close int fd = -1;
	ssize_t n;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return false;
	buf[n] = '\0';
	for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
		char *file = a + strlen(a) + 1, *slash;
		if (strcmp(a, "-pidfile") != 0 || file >= buf + n)
			continue;
		slash = strrchr(file, '/');
		if (slash == NULL || strcmp(slash, "/qemu.pid") != 0)
			return false;
		*slash = '\0';
		return machine_is_dir(m, file);
	}
	return false;
}

pid_t qemu_running_pid(const struct den_machine *m)
{
	cleanup_free char *pidfile = qemu_path(m, "qemu.pid"), *text = NULL;
	struct den_err ignored = { 0 };
	size_t len;

	if (pidfile == NULL || den_read_own_file(pidfile, 64, &text, &len, &ignored) < 0)
		return 0;
	pid_t pid = (pid_t)atoi(text);
	return is_our_qemu(pid, m) ? pid : 0;
}

static bool wait_gone(const struct den_machine *m, pid_t pid, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 20) {
		if (!is_our_qemu(pid, m))
			return true;
		usleep(20000);
	}
	return !is_our_qemu(pid, m);
}

/* The box's image and its format (metadata.json's "format": qcow2 or raw). */
static int box_image(const struct den_machine *m, char **img, char **fmt, struct den_err *err)
{
	cleanup_free char *meta = NULL;
	json_t *j;

	if (m->box_dir == NULL || asprintf(&meta, "%s/metadata.json", m->box_dir) < 0 ||
	    asprintf(img, "%s/box.img", m->box_dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	if (!den_exists(*img))
		return den_err_set(err, 0,
				   "box %s has no box.img: it is not a qemu (libvirt) box; "
				   "build one with `den box build debian-12 --provider qemu`",
				   m->box_dir);
	j = json_load_file(meta, 0, NULL);
	const char *f = json_string_value(json_object_get(j, "format"));
	*fmt = strdup(f ? f : "qcow2");
	json_decref(j);
	if (*fmt == NULL)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	if (strcmp(*fmt, "qcow2") != 0 && strcmp(*fmt, "raw") != 0)
		return den_err_set(err, 0, "box %s: its image format '%s' is not qcow2 or raw",
				   m->box_dir, *fmt);
	return 0;
}

static int write_seed(struct den_machine *m, struct den_err *err)
{
	cleanup_free char *seed = qemu_path(m, "seed.iso"), *key = NULL, *host_priv = NULL,
			  *host_pub = NULL, *hostkey_path = qemu_path(m, KEYS_HOST), *id = NULL;
	size_t len;

	if (seed == NULL || hostkey_path == NULL ||
	    asprintf(&id, "den-%s-%lld", m->cfg->name, m->rec.created) < 0)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	if (keys_public(m->dir, KEYS_CLIENT, &key, err) < 0 ||
	    keys_public(m->dir, KEYS_HOST, &host_pub, err) < 0 ||
	    den_read_own_file(hostkey_path, 64 << 10, &host_priv, &len, err) < 0)
		return -1;
	struct seed_spec s = { id, m->cfg->hostname, m->ssh_user, key, host_priv, host_pub };
	return seed_write(seed, &s, err);
}

/* QEMU's descriptor numbers for what it inherits: 3, 4, ... (see start_qemu). */
#define QEMU_FD0 3

/*
 * Runs QEMU, which daemonizes once the machine is set up; its errors go to
 * qemu.log. fds[i] (the shares' folders, then its network) become QEMU's
 * descriptor QEMU_FD0 + i.
 */
static int start_qemu(struct den_machine *m, char **argv, const int *fds, size_t n_fds,
		      struct den_err *err)
{
	cleanup_free char *log = qemu_path(m, "qemu.log");
	char tail[2048] = "";
	int status;

	if (log == NULL)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	pid_t pid = fork();
	if (pid < 0)
		return den_err_set(err, errno, "cannot start " QEMU);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		/* Out of the way first, so that moving one down never overwrites another. */
		int high[MAX_SHARES + 1];
		for (size_t i = 0; i < n_fds; i++)
			if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 256)) < 0)
				_exit(126);
		for (size_t i = 0; i < n_fds; i++)
			if (dup2(high[i], QEMU_FD0 + (int)i) < 0)
				_exit(126);
		/* QEMU outlives den: no SSH socket of another machine goes with it. */
		close_range(QEMU_FD0 + (unsigned)n_fds, ~0U, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return den_err_set(err, errno, "cannot wait for " QEMU);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	den_read_tail(log, 6, tail, sizeof(tail));
	for (size_t n = strlen(tail); n > 0 && tail[n - 1] == '\n'; n--)
		tail[n - 1] = '\0';
	return den_err_set(err, 0, "machine %s: " QEMU " did not start (%s %d): %s", m->cfg->name,
			   WIFEXITED(status) ? "exit" : "signal",
			   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			   tail[0] ? tail : "no message");
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * The Envfile's native synced folders as 9p shares. Each folder is opened
 * here, following no link (a machine syncing the project could have
 * replaced a nested folder with one), and QEMU gets the descriptor as
 * /proc/self/fd/N: it never looks the path up itself.
 */
static size_t plan_shares(struct den_machine *m, struct qemu_share *shares, char tags[][24],
			  char paths[][32], int *fds, struct den_err *err)
{
	size_t n = 0;

	for (size_t i = 0; i < m->cfg->n_folders && n < MAX_SHARES; i++) {
		const struct synced_folder *f = &m->cfg->folders[i];
		bool ro = false;
		if (f->disabled || f->type != SYNC_NATIVE)
			continue;
		if (provider_create_folder(m, f, err) < 0)
			return (size_t)-1;
		for (size_t j = 0; j < f->n_mount_options; j++)
			ro |= strcmp(f->mount_options[j], "ro") == 0;
		fds[n] = hostpath_open(m->root, f->host_path, 0, O_PATH | O_DIRECTORY, err);
		if (fds[n] < 0) {
			close_all(fds, n);
			return (size_t)-1;
		}
		qemu_share_tag(i, tags[n], 24);
		snprintf(paths[n], 32, "/proc/self/fd/%d", QEMU_FD0 + (int)n);
		shares[n] = (struct qemu_share){ tags[n], paths[n], ro };
		n++;
	}
	return n;
}

static int launch(struct den_machine *m, int ssh_port, const int *hosts, struct den_err *err)
{
	cleanup_free char *disk = qemu_path(m, "disk.qcow2"), *seed = qemu_path(m, "seed.iso"),
			  *qmp = qemu_path(m, "qmp.sock"), *serial = qemu_path(m, "console.log"),
			  *pidfile = qemu_path(m, "qemu.pid");
	struct qemu_share shares[MAX_SHARES];
	char tags[MAX_SHARES][24], paths[MAX_SHARES][32], why[256] = "", note[512] = "";
	int fds[MAX_SHARES + 1]; /* the shares' folders, then the network */
	const char *accel;
	size_t n_shares;

	if (!disk || !seed || !qmp || !serial || !pidfile)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	bool kvm = kvm_host_usable(why, sizeof(why));
	if (qemu_accel(m->cfg->accel, kvm, why, &accel, note, sizeof(note), err) < 0)
		return den_err_wrap(err, "machine %s", m->cfg->name);
	if (note[0] != '\0')
		den_info("%s: %s", m->cfg->name, note);
	n_shares = plan_shares(m, shares, tags, paths, fds, err);
	if (n_shares == (size_t)-1)
		return den_err_wrap(err, "machine %s", m->cfg->name);
	/* Ports in use are an error here, before QEMU starts. */
	if (qemu_net_start(m, ssh_port, hosts, &fds[n_shares], err) < 0) {
		close_all(fds, n_shares);
		return -1;
	}
	struct qemu_launch l = {
		.name = m->cfg->name,
		.accel = accel,
		.cpus = m->cfg->cpus,
		.memory = m->cfg->memory,
		.disk = disk,
		.seed = seed,
		.qmp = qmp,
		.serial = serial,
		.pidfile = pidfile,
		.net_fd = QEMU_FD0 + (int)n_shares,
		.shares = shares,
		.n_shares = n_shares,
		.daemonize = true,
	};
	char **argv = qemu_argv(&l);
	if (argv == NULL) {
		close_all(fds, n_shares + 1);
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	}
	unlink(pidfile);
	unlink(qmp);
	den_crash_point("up:before-supervisor");
	int rc = start_qemu(m, argv, fds, n_shares + 1, err);
	close_all(fds, n_shares + 1);
	qemu_argv_free(argv);
	return rc;
}

/* Kills the machine's QEMU; an error when it will not go (its pid file is then kept). */
static int kill_qemu(struct den_machine *m, pid_t pid, struct den_err *err)
{
	kill(pid, SIGKILL);
	if (wait_gone(m, pid, 10000))
		return 0;
	return den_err_set(err, 0,
			   "machine %s: QEMU (pid %d) does not end even when killed; find out "
			   "why (stuck in the kernel?) before starting the machine again",
			   m->cfg->name, (int)pid);
}

/* A QEMU still running this machine's disk (a den killed mid-up): ended first. */
static int stop_leftover(struct den_machine *m, struct den_err *err)
{
	pid_t pid = qemu_running_pid(m);

	return pid > 0 ? kill_qemu(m, pid, err) : 0;
}

/*
 * The machine's disk, made on first up through a temporary name (a den
 * killed meanwhile leaves no half-made disk). Before it is made, a
 * Vagrant box's first-login key is recorded: whatever happens next, the
 * machine's first boot is known to need it.
 */
static int prepare_disk(struct den_machine *m, struct den_err *err)
{
	cleanup_free char *img = NULL, *fmt = NULL, *disk = qemu_path(m, "disk.qcow2"),
			  *part = qemu_path(m, "disk.qcow2.part"),
			  *marker = qemu_path(m, "host_key_in");

	if (disk == NULL || part == NULL || marker == NULL)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	if (box_image(m, &img, &fmt, err) < 0)
		return -1;
	if (den_exists(disk))
		return 0;
	free(m->rec.ssh_key);
	m->rec.ssh_key = NULL;
	if (m->cfg->ssh.private_key_path != NULL &&
	    (m->rec.ssh_key = strdup(m->cfg->ssh.private_key_path)) == NULL)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	unlink(marker);
	unlink(part);
	if (machine_save(m, err) < 0)
		return -1;
	if (qemu_disk_create(img, fmt, part, m->cfg->disk_size, err) < 0) {
		unlink(part);
		return den_err_wrap(err, "machine %s", m->cfg->name);
	}
	if (rename(part, disk) < 0) {
		unlink(part);
		return den_err_set(err, errno, "cannot write %s", disk);
	}
	return 0;
}

static int up(struct den_machine *m, struct den_err *err)
{
	int port;

	if (den_mkdir_p(m->dir, 0700, err) < 0 || stop_leftover(m, err) < 0)
		return -1;
	if (keys_ensure(m->dir, err) < 0 || chmod(m->dir, 0700) < 0)
		return den_err_is_set(err) ? den_err_wrap(err, "machine %s", m->cfg->name)
					   : den_err_set(err, errno, "cannot protect %s", m->dir);
	if (m->rec.created == 0)
		m->rec.created = time(NULL);
	/*
	 * A Vagrant box lets den in with its own (insecure) key the first time;
	 * den then puts its keys in (guest.c) and forgets that one.
	 */
	if (prepare_disk(m, err) < 0)
		return -1;
	cleanup_free int *hosts = NULL;
	if (write_seed(m, err) < 0 || provider_record_start(m, "qemu", &port, &hosts, err) < 0 ||
	    launch(m, port, hosts, err) < 0)
		return -1;
	den_crash_point("up:after-supervisor");
	m->rec.supervisor = qemu_running_pid(m);
	return machine_save(m, err);
}

static int halt(struct den_machine *m, bool force, struct den_err *err)
{
	pid_t pid = qemu_running_pid(m);
	struct den_err ignored = { 0 };
	unsigned grace = m->cfg->graceful_halt_timeout * 1000;

	if (pid > 0 && !force) {
		enum machine_state st;
		/* A paused guest cannot hear the power button. */
		if (qemu_state(m, &st, &ignored) == 0 && st == MACHINE_SUSPENDED)
			qemu_qmp(m, "cont", NULL, NULL, &ignored);
		if (qemu_qmp(m, "system_powerdown", NULL, NULL, &ignored) == 0 &&
		    !wait_gone(m, pid, grace))
			den_warn("machine %s did not power down within %u s; stopping QEMU",
				 m->cfg->name, m->cfg->graceful_halt_timeout);
	}
	if (pid > 0 && !wait_gone(m, pid, 0)) {
		qemu_qmp(m, "quit", NULL, NULL, &ignored);
		if (!wait_gone(m, pid, 3000) && kill_qemu(m, pid, err) < 0)
			return -1;
	}
	cleanup_free char *qmp = qemu_path(m, "qmp.sock"), *pidfile = qemu_path(m, "qemu.pid");
	if (qmp != NULL)
		unlink(qmp);
	if (pidfile != NULL)
		unlink(pidfile);
	m->rec.running = false;
	m->rec.supervisor = 0;
	return machine_save(m, err);
}

static int destroy(struct den_machine *m, struct den_err *err)
{
	/* Its files go only once its QEMU is gone. */
	if (stop_leftover(m, err) < 0 || (m->exists && halt(m, true, err) < 0))
		return den_err_wrap(err, "cannot destroy it");
	den_crash_point("destroy:after-halt");
	if (den_rm_rf(m->dir, err) < 0)
		return den_err_wrap(err, "machine %s", m->cfg->name);
	m->exists = false;
	return 0;
}

static int ssh_info(struct den_machine *m, struct ssh_info *out, struct den_err *err)
{
	cleanup_free char *marker = qemu_path(m, "host_key_in");

	if (marker == NULL)
		return den_err_set(err, ENOMEM, "machine %s", m->cfg->name);
	if (provider_ssh_info(m, m->rec.ssh_key, out, err) < 0)
		return -1;
	/* A Vagrant box's first boot: its host key is its own until den's is in. */
	out->host_key_unchecked = m->rec.ssh_key != NULL && !den_exists(marker);
	return 0;
}

const struct provider_ops provider_qemu = {
	.name = "qemu",
	.probe = probe,
	.up = up,
	.halt = halt,
	.destroy = destroy,
	.state = qemu_state,
	.ssh_info = ssh_info,
	.suspend = qemu_suspend,
	.resume = qemu_resume,
	.snapshot_save = qemu_snapshot_save,
	.snapshot_restore = qemu_snapshot_restore,
	.snapshot_list = qemu_snapshot_list,
	.snapshot_delete = qemu_snapshot_delete,
	.ready = qemu_ready,
	.package = qemu_package,
};
