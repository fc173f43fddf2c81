/* SPDX-License-Identifier: MIT */
#include "providers/container/cgroup.h"
#include "core/cleanup.h"
#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PERIOD_US 100000

static bool is_dir(const char *root, const char *rel)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *root, const char *rel)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

enum cg_mode cg_detect(const char *root)
{
	if (is_file(root, "cgroup.controllers"))
		return CG_V2;
	if (is_dir(root, "memory") || is_dir(root, "cpu"))
		return is_dir(root, "unified") ? CG_HYBRID : CG_V1;
	return CG_NONE;
}

const char *cg_mode_name(enum cg_mode m)
{
	static const char *const names[] = { "none", "v1", "v2", "hybrid" };
	return names[m];
}

static int put(const char *dir, const char *file, const char *value, struct den_err *err)
{
	char p[4096];
	cleanup_close int fd = -1;
	size_t len = strlen(value);

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC | O_CREAT, 0644);
	if (fd < 0 || write(fd, value, len) != (ssize_t)len)
		return den_err_set(err, errno, "cannot set %s to %s", p, value);
	return 0;
}

static int get(const char *dir, const char *file, char *buf, size_t n)
{
	char p[4096];
	cleanup_close int fd = -1;
	ssize_t r;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (r = read(fd, buf, n - 1)) < 0)
		return -1;
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* den's own cgroup path for a v1 controller ("memory") or v2 (""), from /proc/self/cgroup. */
static int own_path(const char *self, const char *controller, char *out, size_t n)
{
	for (const char *l = self; l != NULL && *l != '\0';) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		char line[1024], *ctrls, *path;

		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		ctrls = strchr(line, ':');
		path = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (path != NULL) {
			*path++ = '\0';
			ctrls++;
			bool match = controller[0] == '\0' ? ctrls[0] == '\0' : false;
			for (char *c = strtok(ctrls, ","); c && !match; c = strtok(NULL, ","))
				match = strcmp(c, controller) == 0;
			if (match) {
				snprintf(out, n, "%s", path);
				return 0;
			}
		}
		l = end ? end + 1 : NULL;
	}
	snprintf(out, n, "/");
	return -1;
}

/*
 * rmdir of a cgroup and, first, of the cgroups below it (a container's
 * systemd makes its own). The kernel lets a cgroup go once its last
 * process has: a busy one is given half a second.
 */
/*
 * Ends what is left in a container's cgroup: after a forced halt its
 * processes may still be dying (the kernel kills a pid namespace's
 * processes after its PID 1). Only the container ever runs in there.
 */
static void kill_members(const char *dir)
{
	char path[4200];
	FILE *f;
	long pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f != NULL && fscanf(f, "%ld", &pid) == 1)
		if (pid > 1)
			kill((pid_t)pid, SIGKILL);
	if (f != NULL)
		fclose(f);
}

static void remove_tree(const char *dir, int depth, bool wait)
{
	DIR *d = depth < 32 ? opendir(dir) : NULL;
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char sub[4096];
		if (e->d_type != DT_DIR || e->d_name[0] == '.' ||
		    snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub))
			continue;
		remove_tree(sub, depth + 1, wait);
	}
	if (d != NULL)
		closedir(d);
	for (int tries = 0; tries < (wait ? 200 : 1) && rmdir(dir) < 0 && errno == EBUSY; tries++) {
		if (wait)
			kill_members(dir);
		usleep(10000);
	}
}

/*
 * Cgroups of earlier runs of the same machine ("web-<pid>") whose
 * supervisor was killed: empty now, so rmdir takes them; busy ones stay.
 */
static void sweep_stale(const char *base, const char *name)
{
	const char *dash = strrchr(name, '-');
	size_t prefix = dash ? (size_t)(dash - name) + 1 : 0;
	DIR *d = prefix ? opendir(base) : NULL;
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char p[4400];
		if (e->d_type != DT_DIR || strncmp(e->d_name, name, prefix) != 0 ||
		    strcmp(e->d_name, name) == 0)
			continue;
		/* Only a supervisor that is gone: a live one's init owns its tree. */
		char *end;
		long pid = strtol(e->d_name + prefix, &end, 10);
		if (pid <= 0 || *end != '\0' || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(p, sizeof(p), "%s/%s", base, e->d_name);
		remove_tree(p, 0, false);
	}
	if (d != NULL)
		closedir(d);
}

static int add_dir(struct ctr_cgroup *cg, const char *root, const char *ctrl, const char *self,
		   const char *name, char **out, struct den_err *err)
{
	char own[1024], base[4096];
	char *dir = NULL;

	/* cgroup2 (at the root, or at unified/ on hybrid) is the "0::" line. */
	own_path(self, strcmp(ctrl, "unified") == 0 ? "" : ctrl, own, sizeof(own));
	snprintf(base, sizeof(base), "%s%s%s%s/den", root, ctrl[0] ? "/" : "", ctrl,
		 strcmp(own, "/") == 0 ? "" : own);
	sweep_stale(base, name);
	if (asprintf(&dir, "%s/%s", base, name) < 0)
		return den_err_set(err, ENOMEM, "cannot make a cgroup");
	if (den_mkdir_p(dir, 0755, err) < 0) {
		free(dir);
		return den_err_wrap(err, "cgroup for %s", name);
	}
	cg->dirs[cg->n++] = dir;
	*out = dir;
	return 0;
}

/* "0-1" style list of the first `want` CPUs of parent's list, or "" when not enough. */
static void first_cpus(const char *list, unsigned want, char *out, size_t n)
{
	unsigned got = 0;
	size_t o = 0;

	out[0] = '\0';
	for (const char *p = list; *p != '\0' && got < want;) {
		unsigned a, b;
		int used = 0;

		if (sscanf(p, "%u-%u%n", &a, &b, &used) != 2 && sscanf(p, "%u%n", &a, &used) == 1)
			b = a;
		else if (used == 0)
			break;
		for (unsigned c = a; c <= b && got < want; c++, got++)
			o += (size_t)snprintf(out + o, n - o, "%s%u", o ? "," : "", c);
		p += used;
		if (*p == ',')
			p++;
	}
	if (got < want)
		out[0] = '\0';
}

/*
 * pids limits from the host's pid_max (docs/container.md): each container
 * pid_max/8 (at least 256), and den's folder, which holds every
 * container, pid_max/2: however many containers run, half of the host's
 * pids stay the host's.
 */
static void pids_limits(char one[32], char all[32])
{
	long max = 32768;
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");

	if (f != NULL) {
		if (fscanf(f, "%ld", &max) != 1 || max < 1024)
			max = 32768;
		fclose(f);
	}
	snprintf(one, 32, "%ld", max / 8 < 256 ? 256 : max / 8);
	snprintf(all, 32, "%ld", max / 2);
}

/* pids.max for the container's folder dir and for den's, its parent. */
static int put_pids(const char *dir, struct den_err *err)
{
	char one[32], all[32], parent[4096];

	pids_limits(one, all);
	snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(dir, '/') - dir), dir);
	if (put(parent, "pids.max", all, err) < 0)
		return -1;
	return put(dir, "pids.max", one, err);
}

static int setup_v1(const char *root, const char *self, const char *name, unsigned cpus,
		    uint64_t memory, struct ctr_cgroup *cg, struct den_err *err)
{
	char val[64], cpulist[256], mems[64], *dir;

	snprintf(val, sizeof(val), "%llu", (unsigned long long)memory);
	if (add_dir(cg, root, "memory", self, name, &dir, err) < 0 ||
	    put(dir, "memory.limit_in_bytes", val, err) < 0)
		return -1;
	snprintf(val, sizeof(val), "%u", PERIOD_US);
	if (add_dir(cg, root, "cpu", self, name, &dir, err) < 0 ||
	    put(dir, "cpu.cfs_period_us", val, err) < 0)
		return -1;
	snprintf(val, sizeof(val), "%llu", (unsigned long long)cpus * PERIOD_US);
	if (put(dir, "cpu.cfs_quota_us", val, err) < 0)
		return -1;
	if (is_dir(root, "pids") &&
	    (add_dir(cg, root, "pids", self, name, &dir, err) < 0 || put_pids(dir, err) < 0))
		return -1;
	/* cpuset: `nproc` inside says cpus. Each level needs cpus and mems set. */
	if (is_dir(root, "cpuset")) {
		char top[4096], all[256] = "";
		if (add_dir(cg, root, "cpuset", self, name, &dir, err) < 0)
			return -1;
		snprintf(top, sizeof(top), "%.*s", (int)(strrchr(dir, '/') - dir), dir);
		char parent[4096];
		snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(top, '/') - top), top);
		if (get(parent, "cpuset.cpus", all, sizeof(all)) < 0 ||
		    get(parent, "cpuset.mems", mems, sizeof(mems)) < 0)
			return 0; /* no cpuset to narrow: the quota still holds */
		first_cpus(all, cpus, cpulist, sizeof(cpulist));
		if (put(top, "cpuset.cpus", all, err) < 0 ||
		    put(top, "cpuset.mems", mems, err) < 0 ||
		    put(dir, "cpuset.cpus", cpulist[0] ? cpulist : all, err) < 0 ||
		    put(dir, "cpuset.mems", mems, err) < 0)
			return -1;
	}
	return 0;
}

static int setup_v2(const char *root, const char *self, const char *name, unsigned cpus,
		    uint64_t memory, struct ctr_cgroup *cg, struct den_err *err)
{
	char val[64], *dir, base[4096];

	if (add_dir(cg, root, "", self, name, &dir, err) < 0)
		return -1;
	/* Controllers must be enabled on the way down: den/ and the container's parent. */
	snprintf(base, sizeof(base), "%.*s", (int)(strrchr(dir, '/') - dir), dir);
	if (put(base, "cgroup.subtree_control", "+cpu +memory +pids", err) < 0)
		return den_err_wrap(err, "cannot enable the cpu and memory controllers (cgroup v2 "
					 "needs them delegated to den's cgroup)");
	snprintf(val, sizeof(val), "%llu", (unsigned long long)memory);
	if (put(dir, "memory.max", val, err) < 0)
		return -1;
	snprintf(val, sizeof(val), "%llu %u", (unsigned long long)cpus * PERIOD_US, PERIOD_US);
	if (put(dir, "cpu.max", val, err) < 0 || put_pids(dir, err) < 0)
		return -1;
	return 0;
}

int cg_create(const char *root, const char *self_cgroup, const char *name, unsigned cpus,
	      uint64_t memory, struct ctr_cgroup *cg, struct den_err *err)
{
	cleanup_free char *self = NULL;
	int rc;

	memset(cg, 0, sizeof(*cg));
	cg->mode = cg_detect(root);
	if (self_cgroup == NULL) {
		if (den_read_file("/proc/self/cgroup", 1 << 16, &self, NULL, err) < 0)
			return -1;
		self_cgroup = self;
	}
	switch (cg->mode) {
	case CG_V1:
	case CG_HYBRID:
		rc = setup_v1(root, self_cgroup, name, cpus, memory, cg, err);
		break;
	case CG_V2:
		rc = setup_v2(root, self_cgroup, name, cpus, memory, cg, err);
		break;
	default:
		return den_err_set(err, 0, "no cgroups at %s: cannot limit cpus and memory", root);
	}
	if (rc < 0)
		cg_destroy(cg);
	return rc;
}

int cg_delegate(const char *root, const char *self_cgroup, const char *name, struct ctr_cgroup *cg,
		struct den_err *err)
{
	cleanup_free char *self = NULL;
	char *dir;

	if (cg->n == CG_MAX_DIRS)
		return den_err_set(err, 0, "too many cgroups for %s", name);
	if (cg->mode == CG_V2) {
		/* The limited cgroup is dirs[0]: its child "payload" is the container's. */
		if (asprintf(&dir, "%s/payload", cg->dirs[0]) < 0)
			return den_err_set(err, ENOMEM, "cannot make a cgroup");
		if (den_mkdir_p(dir, 0755, err) < 0) {
			free(dir);
			return den_err_wrap(err, "cgroup for %s", name);
		}
		cg->holds_limits[0] = true;
		cg->dirs[cg->n++] = dir;
		return 0;
	}
	if (cg->mode != CG_HYBRID)
		return den_err_set(
			err, 0,
			"this machine's cgroups are v1 only: a box whose own init "
			"(systemd) runs as PID 1 needs cgroup2 (boot with "
			"systemd.unified_cgroup_hierarchy=1, or use a box with init: den)");
	if (self_cgroup == NULL) {
		if (den_read_file("/proc/self/cgroup", 1 << 16, &self, NULL, err) < 0)
			return -1;
		self_cgroup = self;
	}
	return add_dir(cg, root, "unified", self_cgroup, name, &dir, err);
}

int cg_give_dir(const char *dir, uid_t uid, gid_t gid, struct den_err *err)
{
	static const char *const files[] = { "", "/cgroup.procs", "/cgroup.threads",
					     "/cgroup.subtree_control" };
	char p[4200];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", dir, files[i]);
		if (lchown(p, uid, gid) < 0)
			return den_err_set(err, errno, "cannot give %s to the container's root", p);
	}
	return 0;
}

int cg_give(const struct ctr_cgroup *cg, uid_t uid, gid_t gid, struct den_err *err)
{
	return cg->n == 0 ? 0 : cg_give_dir(cg->dirs[cg->n - 1], uid, gid, err);
}

int cg_attach(const struct ctr_cgroup *cg, pid_t pid, struct den_err *err)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->holds_limits[i] && put(cg->dirs[i], "cgroup.procs", val, err) < 0)
			return -1;
	return 0;
}

void cg_destroy(struct ctr_cgroup *cg)
{
	/* Children before parents: a delegated leaf comes after its parent. */
	while (cg->n > 0) {
		cg->n--;
		remove_tree(cg->dirs[cg->n], 0, true);
		free(cg->dirs[cg->n]);
		cg->holds_limits[cg->n] = false;
	}
}
