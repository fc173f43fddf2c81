/* SPDX-License-Identifier: MIT */
/*
 * The container's root: overlayfs (lower: the box's rootfs, shared and
 * never written; upper/work: the machine's folder), synced folders bound
 * in, /proc, /sys read-only, a small /dev, then pivot_root. Everything is
 * mounted inside the container's own mount namespace, so nothing is left
 * mounted on the host whatever happens to den.
 *
 * den's root does this from inside the container's pid namespace (so
 * /proc counts its pids), before the container's first process starts.
 * The layers are idmapped mounts through the container's user namespace:
 * files keep the container's own ids on disk and show to it as its own,
 * while root inside is an unprivileged host id (idmap.h).
 */
#include "providers/container/container-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "providers/container/cgroup.h"
#include "providers/container/idmap.h"

#include <linux/mount.h>
#include <linux/securebits.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>

#include <dirent.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int mnt(const char *src, const char *dst, const char *type, unsigned long flags,
	       const char *data, struct den_err *err)
{
	if (mount(src, dst, type, flags, data) < 0)
		return den_err_set(err, errno, "cannot mount %s on %s",
				   type != NULL	 ? type
				   : src != NULL ? src
						 : "(remount)",
				   dst);
	return 0;
}

static char *in(const char *root, const char *rel)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", root, rel[0] == '/' ? rel + 1 : rel) < 0)
		return NULL;
	return p;
}

/*
 * Root inside, as mount options name it: den's root names host ids; a
 * PID 1 without root, as root of its own namespace, names its own.
 */
static void root_ids(const struct ctr_spec *s, unsigned *uid, unsigned *gid, unsigned *tty)
{
	*uid = s->rootless ? 0 : s->ids.uid;
	*gid = s->rootless ? 0 : s->ids.gid;
	*tty = *gid + 5; /* the tty group inside (gid 5), as sshd expects */
}

/* A device node; a user namespace may not make one: the host's is bound there instead. */
static int make_node(const struct ctr_spec *s, const char *path, const char *host, unsigned major,
		     unsigned minor, mode_t mode, struct den_err *err)
{
	if (!s->rootless) {
		if (mknod(path, S_IFCHR | mode, makedev(major, minor)) < 0 || chmod(path, mode) < 0)
			return den_err_set(err, errno, "cannot create %s", path);
		return 0;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return den_err_set(err, errno, "cannot create %s", path);
	close(fd);
	return mnt(host, path, NULL, MS_BIND, NULL, err);
}

static int make_dev(const struct ctr_spec *s, const char *dev, struct den_err *err)
{
	static const struct {
		const char *name;
		unsigned major, minor;
	} nodes[] = { { "null", 1, 3 },	  { "zero", 1, 5 },    { "full", 1, 7 },
		      { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } };
	static const struct {
		const char *name, *target;
	} links[] = { { "ptmx", "pts/ptmx" },
		      { "fd", "/proc/self/fd" },
		      { "stdin", "/proc/self/fd/0" },
		      { "stdout", "/proc/self/fd/1" },
		      { "stderr", "/proc/self/fd/2" } };
	char path[4096], host[64], opts[128];
	unsigned uid, gid, tty;

	root_ids(s, &uid, &gid, &tty);
	/* Owned by root inside. */
	snprintf(opts, sizeof(opts), "mode=755,size=65536k,uid=%u,gid=%u", uid, gid);
	if (mnt("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, opts, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, nodes[i].name);
		snprintf(host, sizeof(host), "/dev/%s", nodes[i].name);
		if (make_node(s, path, host, nodes[i].major, nodes[i].minor, 0666, err) < 0)
			return -1;
	}
	/* No host console inside: /dev/console is /dev/null until den gives it a pty. */
	snprintf(path, sizeof(path), "%s/console", dev);
	if (make_node(s, path, "/dev/null", 1, 3, 0600, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dev, links[i].name);
		if (symlink(links[i].target, path) < 0)
			return den_err_set(err, errno, "cannot create %s", path);
	}
	snprintf(path, sizeof(path), "%s/pts", dev);
	snprintf(opts, sizeof(opts), "newinstance,ptmxmode=0666,mode=0620,gid=%u", tty);
	if (mkdir(path, 0755) < 0 ||
	    mnt("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, opts, err) < 0)
		return den_err_is_set(err) ? -1 : den_err_set(err, errno, "cannot create %s", path);
	snprintf(path, sizeof(path), "%s/shm", dev);
	snprintf(opts, sizeof(opts), "mode=1777,size=65536k,uid=%u,gid=%u", uid, gid);
	if (mkdir(path, 01777) < 0 ||
	    mnt("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts, err) < 0)
		return den_err_is_set(err) ? -1 : den_err_set(err, errno, "cannot create %s", path);
	return 0;
}

/* A detached, idmapped copy of a host folder's mount, attached at dst. */
static int attach_idmapped(const char *src, const char *dst, int userns, struct den_err *err)
{
	cleanup_close int tree =
		(int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

	if (tree < 0)
		return den_err_set(err, errno, "cannot use %s as a container layer", src);
	if (ctr_idmap_tree(tree, userns, src, err) < 0)
		return -1;
	if (syscall(SYS_move_mount, tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return den_err_set(err, errno, "cannot use %s as a container layer", src);
	return 0;
}

/*
 * Without root the layers need no idmap: the box was unpacked, and the
 * upper layer is written, in the same user namespace (core/userns.h).
 * Folders den made as the user are the login user's inside: they become
 * root's. userxattr: overlayfs keeps its marks in user.* xattrs.
 */
static int overlay_rootless(const struct ctr_spec *s, const char *root, const char *upper,
			    const char *work, struct den_err *err)
{
	cleanup_free char *etc = in(upper, "etc"), *opts = NULL;
	const char *dirs[] = { upper, work, etc };
	struct stat st;

	if (etc == NULL)
		return den_err_set(err, ENOMEM, "cannot mount the root");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (lstat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == USERNS_LOGIN &&
		    lchown(dirs[i], 0, 0) < 0)
			return den_err_set(err, errno, "cannot give %s to the container's root",
					   dirs[i]);
	if (asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", s->rootfs, upper,
		     work) < 0)
		return den_err_set(err, ENOMEM, "cannot mount the root");
	return mnt("overlay", root, "overlay", MS_NODEV, opts, err);
}

/*
 * The overlay at merged/root. Its layers are idmapped copies attached on
 * a small tmpfs over merged/ (lower: the rootfs; layers: the machine's
 * folder with upper/ and work/). overlayfs writes into the upper layer
 * with its mounter's credentials: den mounts it with the file system ids
 * of the container's root (keeping its capabilities), so copy-ups land
 * with the container's own ids on disk.
 */
static int overlay(const struct ctr_spec *s, const char *merged, int userns, struct den_err *err)
{
	cleanup_free char *upper = in(s->state, "upper"), *work = in(s->state, "work");
	cleanup_free char *lower = in(merged, "lower"), *layers = in(merged, "layers");
	cleanup_free char *root = in(merged, "root"), *opts = NULL;

	if (upper == NULL || work == NULL || lower == NULL || layers == NULL || root == NULL)
		return den_err_set(err, ENOMEM, "cannot mount the root");
	/* overlayfs options are comma- and colon-separated: paths cannot hold them. */
	if (strpbrk(s->rootfs, ",:") || strpbrk(s->state, ",:"))
		return den_err_set(err, 0,
				   "cannot use %s or %s as a container root: the path contains "
				   "',' or ':'",
				   s->rootfs, s->state);
	/* den made them: a link there (planted when state lived in the project) is refused. */
	struct stat st;
	if (lstat(upper, &st) == 0 && !S_ISDIR(st.st_mode))
		return den_err_set(err, 0, "%s is not a folder den made: remove it", upper);
	if (lstat(work, &st) == 0 && !S_ISDIR(st.st_mode))
		return den_err_set(err, 0, "%s is not a folder den made: remove it", work);
	if (mnt("tmpfs", merged, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=700,size=64k",
		err) < 0)
		return -1;
	if (mkdir(lower, 0700) < 0 || mkdir(layers, 0700) < 0 || mkdir(root, 0755) < 0)
		return den_err_set(err, errno, "cannot prepare the root in %s", merged);
	if (s->rootless)
		return overlay_rootless(s, root, upper, work, err);
	if (attach_idmapped(s->rootfs, lower, userns, err) < 0 ||
	    attach_idmapped(s->state, layers, userns, err) < 0)
		return -1;
	if (asprintf(&opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, layers,
		     layers) < 0)
		return den_err_set(err, ENOMEM, "cannot mount the root");
	/*
	 * From here on den's root acts as the container's root on files
	 * (every file it makes inside is root's inside), capabilities kept.
	 */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) < 0)
		return den_err_set(err, errno, "cannot mount the root");
	setfsgid(s->ids.gid);
	setfsuid(s->ids.uid);
	if ((uid_t)setfsuid((uid_t)-1) != s->ids.uid || (gid_t)setfsgid((gid_t)-1) != s->ids.gid)
		return den_err_set(err, EPERM, "cannot act as the container's root");
	/* A new file system uid clears PDEATHSIG: the builder still dies with middle. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* nodev: a device node made inside (or shipped in the box) opens nothing. */
	return mnt("overlay", root, "overlay", MS_NODEV, opts, err);
}

/*
 * /sys/fs/cgroup inside, read-only: with the cgroup namespace the
 * container sees its own cgroup as the root, so its limits are readable
 * where tools look (memory.limit_in_bytes, cpu.max...). Best effort: a
 * host without cgroups still runs containers.
 */
static void mount_cgroups(const char *merged)
{
	char target[4096], path[4400];
	struct den_err ignored = { 0 };
	enum cg_mode mode = cg_detect("/sys/fs/cgroup");
	DIR *d;
	struct dirent *e;

	snprintf(target, sizeof(target), "%s/sys/fs/cgroup", merged);
	if (mode == CG_V2) {
		mnt("cgroup2", target, "cgroup2", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV,
		    NULL, &ignored);
		return;
	}
	if (mode == CG_NONE || mnt("tmpfs", target, "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
				   "mode=755", &ignored) < 0)
		return;
	d = opendir("/sys/fs/cgroup");
	while (d != NULL && (e = readdir(d)) != NULL) {
		struct stat st;
		char host[300];

		if (e->d_name[0] == '.' || strcmp(e->d_name, "unified") == 0 ||
		    strcmp(e->d_name, "systemd") == 0)
			continue;
		snprintf(host, sizeof(host), "/sys/fs/cgroup/%s", e->d_name);
		snprintf(path, sizeof(path), "%s/%s", target, e->d_name);
		if (lstat(host, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char to[256];
			ssize_t n = readlink(host, to, sizeof(to) - 1);
			if (n > 0) {
				to[n] = '\0';
				(void)!symlink(to, path);
			}
		} else if (S_ISDIR(st.st_mode) && mkdir(path, 0755) == 0) {
			mnt("cgroup", path, "cgroup", MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV,
			    e->d_name, &ignored);
		}
	}
	if (d != NULL)
		closedir(d);
	mnt(NULL, target, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV,
	    "mode=755", &ignored);
}

/*
 * Parts of /proc and /sys that reach the host kernel: masked (/dev/null or
 * an empty read-only tmpfs over them) or read-only, as Docker does.
 */
static int mask_kernel_files(const char *merged, struct den_err *err)
{
	static const char *const masked[] = {
		"proc/kcore",	      "proc/keys",
		"proc/timer_list",    "proc/sched_debug",
		"proc/latency_stats", "proc/acpi",
		"proc/scsi",	      "sys/firmware",
		"proc/asound",	      "sys/devices/virtual/powercap"
	};
	static const char *const readonly[] = { "proc/sys", "proc/sysrq-trigger", "proc/irq",
						"proc/bus", "proc/fs" };
	char path[4400], null[4400];
	struct stat st;

	snprintf(null, sizeof(null), "%s/dev/null", merged);
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", merged, masked[i]);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) ? mnt("tmpfs", path, "tmpfs", MS_RDONLY, "size=0", err)
					: mnt(null, path, NULL, MS_BIND, NULL, err))
			return -1;
	}
	for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", merged, readonly[i]);
		if (stat(path, &st) < 0)
			continue;
		if (mnt(path, path, NULL, MS_BIND | MS_REC, NULL, err) < 0 ||
		    mnt(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * What systemd as PID 1 expects of a container (it cannot mount them
 * itself without CAP_SYS_ADMIN): /run and /run/lock as tmpfs, and a
 * writable cgroup2 tree at /sys/fs/cgroup whose root is the container's
 * delegated cgroup (cg_delegate), so it can make its slices and scopes.
 */
static int mount_for_system_init(const struct ctr_spec *s, const char *merged, struct den_err *err)
{
	char path[4400], opts[128];
	unsigned uid, gid, tty;

	root_ids(s, &uid, &gid, &tty);
	snprintf(path, sizeof(path), "%s/run", merged);
	mkdir(path, 0755);
	snprintf(opts, sizeof(opts), "mode=755,size=20%%,uid=%u,gid=%u", uid, gid);
	if (mnt("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/run/lock", merged);
	snprintf(opts, sizeof(opts), "mode=1777,size=5120k,uid=%u,gid=%u", uid, gid);
	if (mkdir(path, 01777) < 0 ||
	    mnt("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts, err) < 0)
		return den_err_is_set(err) ? -1 : den_err_set(err, errno, "cannot create %s", path);
	snprintf(path, sizeof(path), "%s/sys/fs/cgroup", merged);
	if (mnt("cgroup2", path, "cgroup2", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, err) < 0)
		return -1;
	/*
	 * Without root the delegated cgroup is the user's, the login user's
	 * inside: root of the namespace gives it to root inside (den's root
	 * gave it to the container's root already, cg_give).
	 */
	return s->rootless ? cg_give_dir(path, 0, 0, err) : 0;
}

/*
 * /sys, read-only. Only the owner of the network namespace may mount
 * sysfs: without root and with the host's network, the host's is bound.
 */
static int mount_sys(const struct ctr_spec *s, const char *sys, struct den_err *err)
{
	if (!(s->rootless && s->host_network))
		return mnt("sysfs", sys, "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY,
			   NULL, err);
	if (mnt("/sys", sys, NULL, MS_BIND | MS_REC, NULL, err) < 0)
		return -1;
	return mnt(NULL, sys, NULL,
		   MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, err);
}

int ctr_setup_root_rootless(const struct ctr_spec *s, struct den_err *err)
{
	return ctr_setup_root(s, -1, err);
}

int ctr_setup_root(const struct ctr_spec *s, int userns, struct den_err *err)
{
	cleanup_free char *merged = in(s->state, "merged"), *root = NULL;
	cleanup_free char *proc = NULL, *sys = NULL, *dev = NULL;

	if (merged == NULL || (root = in(merged, "root")) == NULL)
		return den_err_set(err, ENOMEM, "cannot set up the root");
	/* Nothing mounted here may reach the host's mount table. */
	if (mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL, err) < 0 ||
	    overlay(s, merged, userns, err) < 0)
		return -1;
	int bind_fds[CTR_MAX_BINDS];
	if (ctr_open_binds(s, bind_fds, err) < 0)
		return -1;
	proc = in(root, "proc");
	sys = in(root, "sys");
	dev = in(root, "dev");
	if (proc == NULL || sys == NULL || dev == NULL)
		return den_err_set(err, ENOMEM, "cannot set up the root");
	mkdir(proc, 0555);
	mkdir(sys, 0555);
	mkdir(dev, 0755);
	if (mnt("proc", proc, "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL, err) < 0 ||
	    mount_sys(s, sys, err) < 0 || make_dev(s, dev, err) < 0)
		return -1;
	if (!s->system_init)
		mount_cgroups(root);
	else if (mount_for_system_init(s, root, err) < 0)
		return -1;
	if (mask_kernel_files(root, err) < 0)
		return -1;
	if (sethostname(s->hostname, strlen(s->hostname)) < 0)
		return den_err_set(err, errno, "cannot set the host name %s", s->hostname);
	/* pivot_root(".", "."): the old root ends up under the new, then goes. */
	if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return den_err_set(err, errno, "cannot switch to the container's root");
	return ctr_bind_inside(s, bind_fds, err);
}
