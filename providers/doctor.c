/* SPDX-License-Identifier: MIT */
/*
 * `den doctor`'s checks. Each one does what the provider does, as far as
 * it can without changing the host: /dev/kvm is opened and asked its API
 * version, the namespaces a container gets are made in a child that then
 * ends, a clone of a folder's mount is idmapped and dropped, QEMU is asked
 * its accelerators and LXD its version.
 */
#include "providers/doctor.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/project.h"
#include "core/spawn.h"
#include "core/userns.h"
#include "providers/container/cgroup.h"
#include "providers/container/idmap.h"
#include "providers/host_kvm.h"
#include "providers/lxd/lxd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((format(printf, 5, 6))) static bool add(struct doctor_report *r, const char *area,
						      const char *what, enum doctor_state state,
						      const char *fmt, ...)
{
	va_list ap;

	if (r->n == DOCTOR_MAX)
		return state == DOCTOR_OK;
	struct doctor_check *c = &r->checks[r->n++];
	c->area = area;
	c->what = what;
	c->state = state;
	va_start(ap, fmt);
	vsnprintf(c->said, sizeof(c->said), fmt, ap);
	va_end(ap);
	return state == DOCTOR_OK;
}

/* What a program prints on stdout, into buf (its exit status ignored; "" when it cannot run). */
static void capture(const char *const *argv, char *buf, size_t len)
{
	struct den_spawn sp = { .argv = argv,
				.in = DEN_SPAWN_NULL,
				.out = DEN_SPAWN_CAPTURE,
				.err_fd = DEN_SPAWN_NULL,
				.out_buf = buf,
				.out_size = len };
	struct den_err err = { 0 };

	buf[0] = '\0';
	(void)den_spawn_run(&sp, &err);
}

/* The first line a program prints on stdout, or "" when it cannot run. */
static void first_line(const char *const *argv, char *out, size_t len)
{
	char buf[4096];

	capture(argv, buf, sizeof(buf));
	snprintf(out, len, "%.*s", (int)strcspn(buf, "\n"), buf);
}

static bool check_kvm(struct doctor_report *r)
{
	char why[512];
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	bool dev;

	if (fd < 0)
		dev = add(r, "kvm", "/dev/kvm", DOCTOR_NO, "cannot open /dev/kvm: %s (%s)",
			  strerror(errno),
			  errno == ENOENT ? "load kvm_intel or kvm_amd, and turn virtualisation on "
					    "in the firmware"
			  : errno == EACCES ? "add your user to the kvm group: usermod -aG kvm USER"
					    : "is KVM loaded?");
	else {
		int api = ioctl(fd, KVM_GET_API_VERSION, 0);
		close(fd);
		dev = add(r, "kvm", "/dev/kvm", api == KVM_API_VERSION ? DOCTOR_OK : DOCTOR_NO,
			  "KVM API %d%s", api, api == KVM_API_VERSION ? "" : ": den needs 12");
	}
	if (!dev)
		return add(r, "kvm", "den's VMM", DOCTOR_NO,
			   "needs /dev/kvm: use provider: qemu (TCG, slower) or container");
	if (kvm_host_usable(why, sizeof(why)))
		return add(r, "kvm", "den's VMM", DOCTOR_OK, "boots stock kernels here");
	return add(r, "kvm", "den's VMM", DOCTOR_NO,
		   "%s: use provider: qemu (TCG, slower) or container", why);
}

static bool check_qemu(struct doctor_report *r)
{
	static const char *const version[] = { "qemu-system-x86_64", "--version", NULL };
	static const char *const accels[] = { "qemu-system-x86_64", "-accel", "help", NULL };
	char line[256], list[4096], why[512], names[128] = "";

	first_line(version, line, sizeof(line));
	if (line[0] == '\0')
		return add(r, "qemu", "qemu-system-x86_64", DOCTOR_NO,
			   "not found: apt-get install qemu-system-x86 (provider: qemu)");
	capture(accels, list, sizeof(list));
	/* "Accelerators supported in QEMU binary:\nkvm\ntcg\n" */
	for (char *save = NULL, *l = strtok_r(list, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save))
		if (strchr(l, ' ') == NULL && strlen(names) + strlen(l) + 2 < sizeof(names))
			strcat(strcat(names, names[0] ? " " : ""), l);
	bool kvm = kvm_host_usable(why, sizeof(why)) && strstr(names, "kvm") != NULL;
	add(r, "qemu", "qemu-system-x86_64", DOCTOR_OK,
	    "%s; accelerators: %s; machines run with %s", line, names[0] ? names : "(none said)",
	    kvm ? "kvm" : "tcg (emulated: slow, but it works)");
	/* The qemu provider makes each machine's disk with qemu-img: no machine without it. */
	static const char *const img[] = { "qemu-img", "--version", NULL };
	first_line(img, line, sizeof(line));
	if (line[0] == '\0')
		return add(r, "qemu", "qemu-img", DOCTOR_NO,
			   "not found: apt-get install qemu-utils (the qemu provider's disks)");
	return add(r, "qemu", "qemu-img", DOCTOR_OK, "%s", line);
}

/*
 * Runs fn in a child, which returns 0 or an errno; returns that. What the
 * child made (namespaces, a mount) goes with it.
 */
static int in_child(int (*fn)(void *), void *arg)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg) & 0xff);
	if (pid < 0)
		return errno;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

static int make_namespaces(void *arg)
{
	return unshare(*(int *)arg) < 0 ? errno : 0;
}

/* Clones path's mount and idmaps the clone (dropped when the child ends). */
static int idmap_a_mount(void *arg)
{
	const char *path = arg;
	struct den_err err = { 0 };
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return errno;
	int userns = ctr_userns_fd("0 1000000 65536\n", "0 1000000 65536\n", &err);
	if (userns < 0 || ctr_idmap_tree(tree, userns, path, &err) < 0)
		return err.errno_ != 0 ? err.errno_ : EINVAL;
	return 0;
}

/* The longest leading part of path that exists (DEN_HOME may not yet): path, cut. */
static char *existing_part(char *path)
{
	struct stat st;
	char *slash;

	while (stat(path, &st) < 0 && (slash = strrchr(path, '/')) != NULL && slash != path)
		*slash = '\0';
	if (stat(path, &st) < 0)
		strcpy(path, "/");
	return path;
}

static bool filesystem_known(const char *name)
{
	cleanup_fclose FILE *f = fopen("/proc/filesystems", "re");
	char line[128];

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		const char *fs = strrchr(line, '\t');
		if (strcmp(fs != NULL ? fs + 1 : line, name) == 0)
			return true;
	}
	return false;
}

static bool check_container(struct doctor_report *r)
{
	bool root = geteuid() == 0, ok = true;
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
		    CLONE_NEWCGROUP | (root ? 0 : CLONE_NEWUSER);
	struct userns_map m;
	struct den_err err = { 0 };
	cleanup_free char *home = NULL;
	struct utsname u;

	if (root)
		add(r, "container", "user", DOCTOR_OK, "root");
	else if (userns_map_for_user(&m, &err) == 0)
		add(r, "container", "user", DOCTOR_OK,
		    "not root: containers run rootless, with the ids /etc/subuid gives you");
	else
		ok = add(r, "container", "user", DOCTOR_NO, "not root, and %s (docs/rootless.md)",
			 err.msg);
	int e = in_child(make_namespaces, &flags);
	if (e == 0)
		add(r, "container", "namespaces", DOCTOR_OK,
		    "mount, pid, net, uts, ipc and cgroup%s", root ? "" : ", in a user namespace");
	else
		ok = add(r, "container", "namespaces", DOCTOR_NO,
			 "cannot make them: %s (is kernel.unprivileged_userns_clone or "
			 "user.max_user_namespaces 0?)",
			 strerror(e));
	if (filesystem_known("overlay"))
		add(r, "container", "overlayfs", DOCTOR_OK, "in the kernel");
	else
		ok = add(r, "container", "overlayfs", DOCTOR_NO,
			 "not in /proc/filesystems: modprobe overlay");
	enum cg_mode cg = cg_detect("/sys/fs/cgroup");
	if (cg == CG_NONE)
		ok = add(r, "container", "cgroups", DOCTOR_NO,
			 "no cgroup file system under /sys/fs/cgroup: mount cgroup2 there");
	else
		add(r, "container", "cgroups", DOCTOR_OK, "%s", cg_mode_name(cg));
	int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun >= 0) {
		close(tun);
		add(r, "container", "/dev/net/tun", DOCTOR_OK, "there");
	} else {
		add(r, "container", "/dev/net/tun", DOCTOR_NO, "cannot open it: %s (modprobe tun)",
		    strerror(errno));
	}
	if (uname(&u) < 0)
		u.release[0] = '\0';
	if (!root)
		add(r, "container", "idmapped mounts", DOCTOR_NOTE,
		    "not tried without root (Linux %s); synced folders need them", u.release);
	else if (den_home(&home, &err) < 0)
		ok = add(r, "container", "idmapped mounts", DOCTOR_NO, "%s", err.msg);
	else if ((e = in_child(idmap_a_mount, existing_part(home))) == 0)
		add(r, "container", "idmapped mounts", DOCTOR_OK, "on %s's file system (Linux %s)",
		    home, u.release);
	else
		ok = add(r, "container", "idmapped mounts", DOCTOR_NO,
			 "cannot idmap a mount of %s: %s (Linux %s); synced folders need Linux "
			 "5.12 or later and ext4, xfs or btrfs (tmpfs from 6.3)",
			 home, strerror(e), u.release);
	return ok;
}

static bool check_lxd(struct doctor_report *r)
{
	char version[64], where[512];
	struct den_err err = { 0 };

	if (lxd_probe(version, sizeof(version), where, sizeof(where), &err) == 0)
		return add(r, "lxd", "LXD", DOCTOR_OK, "LXD %s answers at %s", version, where);
	add(r, "lxd", "LXD", DOCTOR_NOTE, "%s (only provider: lxd needs it)", err.msg);
	return false;
}

static void check_tool(struct doctor_report *r, const char *prog, const char *for_what,
		       const char *package)
{
	if (den_on_path(prog))
		add(r, "tools", prog, DOCTOR_OK, "for %s", for_what);
	else
		add(r, "tools", prog, DOCTOR_NO, "not found: apt-get install %s (for %s)", package,
		    for_what);
}

void doctor_run(struct doctor_report *r)
{
	memset(r, 0, sizeof(*r));
	r->kvm = check_kvm(r);
	r->qemu = check_qemu(r);
	r->container = check_container(r);
	r->lxd = check_lxd(r);
	check_tool(r, "ssh", "den ssh and the ansible provisioner", "openssh-client");
	check_tool(r, "rsync", "rsync synced folders", "rsync");
	check_tool(r, "ansible-playbook", "the ansible provisioner", "ansible-core");
	check_tool(r, "debootstrap", "den box build", "debootstrap");
}
