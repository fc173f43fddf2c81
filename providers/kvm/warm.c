/* SPDX-License-Identifier: MIT */
/*
 * Warm images, the kvm provider's side (warm.h; docs/vmm.md, "Warm
 * images"): the key, the template's boot (`den vmm run --warm-save`, in
 * the foreground, dying with den), the check of a warm image before it is
 * used, and the record a restored machine gets on den's channel.
 */
#include "providers/kvm/warm.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/envfile.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/lazylib.h"
#include "core/log.h"
#include "core/machine.h"
#include "providers/kvm/launch.h"
#include "providers/kvm/snapshot_file.h"
#include "providers/kvm/vm_boot.h"
#include "providers/seed.h"
#include "providers/vm_ready.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/kvm.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Changes whenever what a warm image holds, or how it is made, changes. */
#define WARM_KEY_VERSION "den-warm-4"
#define WARM_JSON "warm.json"
#define CPUID_ENTRIES 256

void warm_want_of(const struct machine *cfg, const char *user, size_t shares, struct warm_want *out)
{
	*out = (struct warm_want){ .cpus = cfg->cpus,
				   .memory = cfg->memory,
				   .disk_size = cfg->disk_size,
				   .shares = shares,
				   .boot_timeout = cfg->boot_timeout,
				   .user = user };
}

int warm_host_cpu(char hex[DIGEST_HEX_MAX], struct den_err *err)
{
	cleanup_close int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	size_t size = sizeof(struct kvm_cpuid2) + CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	cleanup_free struct kvm_cpuid2 *c = calloc(1, size);

	if (c == NULL)
		return den_err_set(err, ENOMEM, "cannot read this host's CPU features");
	c->nent = CPUID_ENTRIES;
	if (kvm < 0 || ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
		return den_err_set(err, errno, "cannot read the CPU features /dev/kvm offers");
	if (den_crypto_load(err) < 0)
		return -1;
	struct digest *d = digest_new(DIGEST_SHA256);
	if (d == NULL)
		return den_err_set(err, ENOMEM, "cannot read this host's CPU features");
	/* The APIC id of the CPU den asked from is in three leaves: not a feature, left out. */
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1)
			e->ebx &= 0x00ffffff;
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = 0;
	}
	digest_update(d, c->entries, c->nent * sizeof(c->entries[0]));
	digest_final_hex(d, hex);
	digest_free(d);
	return 0;
}

struct warm_key {
	char cpu[DIGEST_HEX_MAX]; /* host_cpu_id */
	char hex[DIGEST_HEX_MAX]; /* the whole key's digest */
	char name[96];		  /* its folder: c2-m1024-d0-s1-<16 hex> */
};

static int warm_key(const struct vm_boot *b, const struct warm_want *w, struct warm_key *k,
		    struct den_err *err)
{
	cleanup_free char *text = NULL;

	if (warm_host_cpu(k->cpu, err) < 0)
		return -1;
	if (asprintf(&text,
		     "%s\nden %s\nsnapshot %u\ncpu %s\ncmdline %s\ncpus %u\nmemory %llu\n"
		     "disk %llu\nshares %zu\nuser %s\n",
		     WARM_KEY_VERSION, DEN_VERSION, SNAP_FORMAT, k->cpu, b->cmdline, w->cpus,
		     (unsigned long long)w->memory, (unsigned long long)w->disk_size, w->shares,
		     w->user) < 0)
		return den_err_set(err, ENOMEM, "cannot name a warm image");
	struct digest *d = digest_new(DIGEST_SHA256);
	if (d == NULL)
		return den_err_set(err, ENOMEM, "cannot name a warm image");
	digest_update(d, text, strlen(text));
	digest_final_hex(d, k->hex);
	digest_free(d);
	snprintf(k->name, sizeof(k->name), "c%u-m%llu-d%llu-s%zu-%.16s", w->cpus,
		 (unsigned long long)(w->memory >> 20), (unsigned long long)(w->disk_size >> 20),
		 w->shares, k->hex);
	return 0;
}

/* dir/name, malloc'd (NULL when out of memory). */
static char *path_in(const char *dir, const char *name)
{
	char *p = NULL;

	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* Is the warm image in dir whole, of this key? err says what is wrong when not. */
static bool warm_whole(const char *dir, const struct warm_key *k, const struct warm_want *w,
		       struct den_err *err)
{
	cleanup_free char *meta = path_in(dir, WARM_JSON), *state = path_in(dir, SNAP_STATE_FILE),
			  *memory = path_in(dir, SNAP_MEMORY_FILE),
			  *disk = path_in(dir, "disk.cow"), *seed = path_in(dir, "seed.iso"),
			  *text = NULL;
	struct snap_file f;
	size_t len = 0;

	if (meta == NULL || state == NULL || memory == NULL || disk == NULL || seed == NULL) {
		den_err_set(err, ENOMEM, "warm image %s", dir);
		return false;
	}
	if (den_read_own_file(meta, 64 << 10, &text, &len, err) < 0)
		return false;
	json_t *j = json_loads(text, 0, NULL);
	const char *key = json_string_value(json_object_get(j, "key"));
	bool same = key != NULL && strcmp(key, k->hex) == 0;
	json_decref(j);
	if (!same) {
		den_err_set(err, 0, "%s is not the warm image's record", meta);
		return false;
	}
	if (snap_file_read(state, &f, err) < 0)
		return false;
	int rc = snap_file_check_vm(&f, w->cpus, w->memory, err);
	snap_file_free(&f);
	if (rc < 0)
		return false;
	int fd = snap_memory_open(memory, w->memory, err);
	if (fd < 0)
		return false;
	close(fd);
	if (!den_exists(disk) || !den_exists(seed)) {
		den_err_set(err, 0, "its disk or seed is missing");
		return false;
	}
	return true;
}

/* The template's 9p folders: as many as the machine's, each an empty folder, read-only. */
static int template_shares(const char *tmp, struct kvm_launch *l, size_t n, struct den_err *err)
{
	cleanup_free char *empty = path_in(tmp, "empty");

	if (empty == NULL)
		return den_err_set(err, ENOMEM, "cannot make a warm image");
	if (mkdir(empty, 0555) < 0)
		return den_err_set(err, errno, "cannot make %s", empty);
	for (size_t i = 0; i < n; i++) {
		struct vm_share *s = &l->shares[i];
		s->fd = open(empty, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->fd < 0)
			return den_err_set(err, errno, "cannot open %s", empty);
		l->n_shares = i + 1;
		vm_share_tag(i, s->tag, sizeof(s->tag));
		snprintf(s->path, sizeof(s->path), "/proc/self/fd/%zu", KVM_FD0 + i);
		s->ro = true;
	}
	return 0;
}

/*
 * Boots the template in tmp until its hook says it is ready and den's VMM
 * has saved it there (the VMM then ends, status 0), within timeout_s.
 */
static int run_template(const char *tmp, const struct vm_boot *b, const struct warm_want *w,
			struct den_err *err)
{
	struct machine cfg = {
		.name = "warm", .cpus = w->cpus, .memory = w->memory, .disk_size = w->disk_size
	};
	struct kvm_launch l = { .b = b, .dir = tmp, .warm_save = tmp };
	cleanup_free char *log = path_in(tmp, "vmm.log"), *seed = path_in(tmp, "seed.iso");
	int status = 0, rc = -1;
	pid_t pid = -1;

	if (log == NULL || seed == NULL)
		return den_err_set(err, ENOMEM, "cannot make a warm image");
	if (seed_write_warm(seed, w->user, err) < 0 || template_shares(tmp, &l, w->shares, err) < 0)
		goto out;
	if (kvm_launch_spawn(&cfg, &l, log, 0600, false, &pid, err) < 0) {
		den_err_wrap(err, "cannot start the template");
		goto out;
	}
	/* Its boot, at most boot_timeout: a template that never says ready is not waited for. */
	for (unsigned ms = 0; waitpid(pid, &status, WNOHANG) == 0; ms += 100) {
		if (ms >= w->boot_timeout * 1000u) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			den_err_set(err, 0, "its hook did not say it was ready within %u s",
				    w->boot_timeout);
			goto out;
		}
		usleep(100000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = 0;
	} else {
		char tail[1024];
		den_read_tail(log, 4, tail, sizeof(tail));
		den_err_set(err, 0, "den's VMM failed:\n%s", tail);
	}
out:
	for (size_t i = 0; i < l.n_shares; i++)
		close(l.shares[i].fd);
	return rc;
}

/* Writes warm.json into dir: the key and what it was made for, for checks and `box list`. */
static int write_record(const char *dir, const struct warm_key *k, const struct warm_want *w,
			long long ms, struct den_err *err)
{
	cleanup_free char *path = path_in(dir, WARM_JSON);
	json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:i, s:I, s:I, s:I, s:I, s:I}", "key", k->hex,
			      "den", DEN_VERSION, "snapshot_format", SNAP_FORMAT, "cpu", k->cpu,
			      "cpus", (int)w->cpus, "memory", (json_int_t)w->memory, "disk_size",
			      (json_int_t)w->disk_size, "shares", (json_int_t)w->shares, "made",
			      (json_int_t)time(NULL), "boot_ms", (json_int_t)ms);
	cleanup_free char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;

	json_decref(j);
	if (path == NULL || text == NULL)
		return den_err_set(err, ENOMEM, "cannot write a warm image's record");
	return den_write_file_atomic(path, text, 0600, err);
}

/* Makes the warm image final (dir) from a template booted in a folder of its own. */
static int make(const char *root, const char *dir, const struct vm_boot *b,
		const struct warm_want *w, const struct warm_key *k, struct den_err *err)
{
	cleanup_free char *tmp = NULL;
	long long start = den_now_ms();

	if (asprintf(&tmp, "%s/.new-%s", root, k->name) < 0)
		return den_err_set(err, ENOMEM, "cannot make a warm image");
	/* What a killed den left (the lock is ours: no other den works here). */
	if (den_rm_rf(tmp, err) < 0 || den_rm_rf(dir, err) < 0)
		return -1;
	if (mkdir(tmp, 0700) < 0)
		return den_err_set(err, errno, "cannot make %s", tmp);
	den_info("making a warm image of this box (%u vCPUs, %llu MiB): it boots once; then "
		 "each new machine of it is restored, not booted",
		 w->cpus, (unsigned long long)(w->memory >> 20));
	int rc = run_template(tmp, b, w, err);
	if (rc == 0)
		rc = write_record(tmp, k, w, den_now_ms() - start, err);
	if (rc == 0 && den_sync_dir(tmp, err) == 0 && rename(tmp, dir) < 0)
		den_err_set(err, errno, "cannot keep the warm image in %s", dir);
	if (rc == 0 && (den_err_is_set(err) || den_sync_dir(root, err) < 0))
		rc = -1;
	if (rc < 0) {
		struct den_err ignored = { 0 };
		den_rm_rf(tmp, &ignored);
		return -1;
	}
	den_info("warm image made in %.1f s", (double)(den_now_ms() - start) / 1000);
	return 0;
}

int warm_image_get(const char *box_dir, const struct vm_boot *b, const struct warm_want *want,
		   char **dir, struct den_err *err)
{
	cleanup_free char *root = NULL, *lock = NULL, *path = NULL;
	cleanup_close int fd = -1;
	struct warm_key k;
	struct den_err why = { 0 };

	*dir = NULL;
	if (warm_key(b, want, &k, &why) < 0)
		goto none;
	if (asprintf(&root, "%s/kvm/warm", box_dir) < 0 ||
	    asprintf(&lock, "%s/%s.lock", root, k.name) < 0 ||
	    asprintf(&path, "%s/%s", root, k.name) < 0)
		return den_err_set(err, ENOMEM, "cannot find a warm image");
	if (den_mkdir_p(root, 0700, &why) < 0)
		goto none;
	/* Two dens making the same warm image: the second waits, then finds it made. */
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		den_err_set(&why, errno, "cannot lock %s", lock);
		goto none;
	}
	if (den_exists(path) && !warm_whole(path, &k, want, &why)) {
		den_warn("the warm image %s is damaged (%s): making it again", path, why.msg);
		den_err_clear(&why);
	} else if (den_exists(path)) {
		*dir = steal_pointer(&path);
		return 0;
	}
	if (make(root, path, b, want, &k, &why) < 0)
		goto none;
	*dir = steal_pointer(&path);
	return 0;
none:
	den_warn("no warm image (%s): the machine boots", why.msg);
	return 0;
}
