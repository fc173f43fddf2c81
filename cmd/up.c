/* SPDX-License-Identifier: MIT */
/*
 * `den up [MACHINE...] [--provider P] [--no-provision] [--provision-with
 * NAME,...]`: for each machine, the box (as Envfile.lock says, fetched
 * when missing), then the provider starts it, then den waits until SSH
 * answers with the host key it gave the machine and runs `true` there.
 * Once every machine is up, they are provisioned (cmd/provision.c).
 */
#include "boxes/identity.h"
#include "boxes/lock.h"
#include "boxes/resolve.h"
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/machine_index.h"
#include "core/project.h"
#include "core/size.h"
#include "core/ssh.h"
#include "providers/key_support.h"
#include "providers/network/network.h"
#include "providers/provider.h"
#include "provisioners/engine.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const struct cmd_usage cmd_usage_up = {
	.path = "up",
	.operands = { CMD_VALUE_MACHINE },
	.many = true,
	.opts = {
		CMD_OPT("provider", 'p', CMD_VALUE_PROVIDER, "P",
			"start new machines with provider P (container, qemu, kvm, lxd)"),
		CMD_OPT("no-provision", 0, CMD_VALUE_NONE, NULL, "do not run the provisioners"),
		CMD_OPT("provision-with", 0, CMD_VALUE_STEP, "NAME,...",
			"run only the provisioner steps named"),
		CMD_OPT("provision", 0, CMD_VALUE_NONE, NULL,
			"run every provisioner step but run: never ones, done or not"),
	},
};

char *cmd_login_user(const struct machine *cfg, const char *box_dir)
{
	char *user;

	if (cfg->ssh.username != NULL)
		return strdup(cfg->ssh.username);
	user = box_dir_meta(box_dir, "ssh_user");
	/* A box is not trusted: its user name goes on command lines and into sudoers. */
	if (user != NULL && !machine_is_user_name(user)) {
		/* Not shown: it could hold escape sequences for the terminal. */
		den_warn("the box's ssh_user is not a user name; using den");
		free(user);
		user = NULL;
	}
	/* A box that comes with its own key is a Vagrant box: Vagrant's user. */
	if (user == NULL && cfg->ssh.private_key_path != NULL)
		return strdup("vagrant");
	return user ? user : strdup("den");
}

/* What the machine printed last, for an error about its boot. */
static void add_console_tail(const struct den_machine *dm, struct den_err *err)
{
	cleanup_free char *log = NULL;
	char tail[1024] = "", why[DEN_ERR_MSG_MAX];

	snprintf(why, sizeof(why), "%s", err->msg);
	if (asprintf(&log, "%s/console.log", dm->dir) >= 0)
		den_read_tail(log, 6, tail, sizeof(tail));
	for (size_t n = strlen(tail); n > 0 && tail[n - 1] == '\n'; n--)
		tail[n - 1] = '\0';
	den_err_set(err, 0, "%s; the end of %s:\n%s", why, log ? log : "console.log",
		    tail[0] ? tail : "(empty)");
}

/* A provider this den does not have: said, with what it has. */
static int missing_provider(const struct machine *cfg, const char *provider, struct den_err *err)
{
	if (provider_find(provider) != NULL)
		return 0;
	return den_err_set(err, 0,
			   "machine %s: no provider %s in this den; use provider: container, qemu, "
			   "kvm or lxd",
			   cfg->name, provider);
}

/* A made machine runs with the provider that made it: another one is said, not started over it. */
static int provider_matches(const struct den_machine *dm, const char *provider, struct den_err *err)
{
	if (!dm->exists || dm->rec.provider == NULL || strcmp(dm->rec.provider, provider) == 0)
		return 0;
	return den_err_set(err, 0,
			   "machine %s was made with provider %s, not %s; `den destroy %s` first "
			   "to change its provider",
			   dm->cfg->name, dm->rec.provider, provider, dm->cfg->name);
}

/* The machine's box, found in the store or fetched, with its version locked in lock. */
static int resolve_box(struct den_ctx *ctx, const struct machine *cfg, const char *provider,
		       struct boxlock *lock, struct store_entry *box, struct den_err *err)
{
	cleanup_free char *home = NULL;
	struct boxlock own;
	int rc;

	if (den_home(&home, err) < 0)
		return -1;
	if (lock == NULL) {
		if (boxlock_read(ctx->envfile_path, &own, err) < 0)
			return -1;
		lock = &own;
	}
	struct resolve_opts ro = { .home = home, .progress = cmd_progress() };
	struct box_want w = { cfg->box, cfg->box_version, box_provider_of(provider),
			      cfg->box_url ? cfg->box_url : getenv("DEN_BOX_SERVER"), ctx->root };
	rc = box_resolve(&ro, &w, lock, box, err);
	if (lock == &own) {
		if (rc == 0 && boxlock_write(lock, err) < 0)
			rc = -1;
		boxlock_free(lock);
	}
	return rc < 0 ? den_err_wrap(err, "machine %s", cfg->name) : 0;
}

/*
 * The machine as it starts: an imported box's CPU count and memory (its
 * machine description's: boxes/vm_import.h) where the Envfile sets none.
 * 1 when *sized differs from cfg.
 */
static int box_sized(const struct machine *cfg, const char *box_dir, struct machine *sized)
{
	cleanup_free char *cpus = box_dir_meta(box_dir, "cpus"),
			  *memory = box_dir_meta(box_dir, "memory");
	const char *why;
	uint64_t bytes;
	int changed = 0;

	*sized = *cfg;
	if (cpus != NULL && !(cfg->set & KEYBIT(ENVFILE_KEY_CPUS)) &&
	    strspn(cpus, "0123456789") == strlen(cpus) && strlen(cpus) <= 3 && atoi(cpus) >= 1 &&
	    atoi(cpus) <= 255) {
		sized->cpus = (unsigned)atoi(cpus);
		changed = 1;
	}
	if (memory != NULL && !(cfg->set & KEYBIT(ENVFILE_KEY_MEMORY)) &&
	    den_size_parse(memory, DEN_MIB, &bytes, &why) == 0 && bytes >= (16ull << 20) &&
	    bytes <= (4ull << 40)) {
		sized->memory = bytes;
		changed = 1;
	}
	return changed;
}

int cmd_start_machine(struct den_ctx *ctx, struct den_machine *dm, const char *provider,
		      struct boxlock *lock, struct den_err *err)
{
	const struct provider_ops *ops = provider_find(provider);
	const struct machine *cfg = dm->cfg;
	cleanup_free char *home = NULL;
	struct store_entry box;
	int rc;

	if (missing_provider(cfg, provider, err) < 0)
		return -1;
	if (provider_check_keys(provider, cfg, ctx->ef->path, err) < 0)
		return -1;
	if (den_home(&home, err) < 0 || resolve_box(ctx, cfg, provider, lock, &box, err) < 0)
		return -1;
	cleanup_free char *ssh = box_dir_meta(box.dir, "ssh");
	if (ssh != NULL && strcmp(ssh, "den") == 0 && strcmp(provider, "container") != 0) {
		den_err_set(err, 0,
			    "machine %s: box %s %s is a container image with no SSH server: "
			    "use provider: container",
			    cfg->name, box.name, box.version);
		store_entry_free(&box);
		return -1;
	}
	cleanup_free char *init = box_dir_meta(box.dir, "init"),
			  *warm = box_dir_meta(box.dir, "warm"),
			  *hosts = network_hosts_lines(ctx->ef, cfg);
	struct provider_up_args args = {
		.box_dir = box.dir,
		.hosts = hosts,
		.box_system_init = init != NULL && strcmp(init, "system") == 0,
		.box_warm = warm != NULL && strcmp(warm, BOX_WARM_PROTOCOL) == 0,
		.box_den_ssh = ssh != NULL && strcmp(ssh, "den") == 0
	};
	free(dm->rec.box);
	free(dm->rec.box_version);
	free(dm->rec.ssh_user);
	dm->rec.box = strdup(box.name);
	dm->rec.box_version = strdup(box.version);
	dm->rec.ssh_user = cmd_login_user(cfg, box.dir);
	den_info("%s: starting (%s %s, %s)", cfg->name, box.name, box.version, provider);
	struct machine sized;
	if (box_sized(cfg, box.dir, &sized)) {
		den_info("%s: %u CPU%s and %llu MiB, as its box says", cfg->name, sized.cpus,
			 sized.cpus == 1 ? "" : "s", (unsigned long long)(sized.memory >> 20));
		dm->cfg = &sized;
	}
	long long t0 = den_now_ms();
	rc = ops->up(dm, &args, err);
	dm->cfg = cfg;
	den_debug("%s: started by the %s provider in %lld ms", cfg->name, provider,
		  den_now_ms() - t0);
	if (rc == 0)
		rc = machine_index_add(home, ctx->root, ctx->envfile_path, err);
	store_entry_free(&box);
	return rc;
}

/* One machine up and answering SSH; t->ssh is the session that proved it. */
static int up_one(struct den_ctx *ctx, struct prov_target *t, const char *provider,
		  struct boxlock *lock, struct den_err *err)
{
	struct den_machine *dm = t->dm;
	const struct provider_ops *ops = provider_find(provider);
	enum machine_state st = MACHINE_NOT_CREATED;

	if (ops != NULL && ops->probe(err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	if (ops != NULL && dm->exists && ops->state(dm, &st, err) == 0 && st == MACHINE_RUNNING) {
		/* Maybe still booting (a den killed mid-up started it): usable once SSH answers. */
		den_info("%s is already running", dm->cfg->name);
		if (provider_ssh_wait(ops, dm, &t->ssh, err) < 0)
			return -1;
		return ops->ready != NULL ? ops->ready(dm, t->ssh, err) : 0;
	}
	den_err_clear(err);
	if (ops != NULL && st == MACHINE_SUSPENDED && ops->resume != NULL) {
		den_info("%s is suspended: resuming it", dm->cfg->name);
		if (ops->resume(dm, err) < 0)
			return -1;
	} else if (cmd_start_machine(ctx, dm, provider, lock, err) < 0) {
		return -1;
	}
	if (provider_ssh_wait(ops, dm, &t->ssh, err) < 0) {
		add_console_tail(dm, err);
		return -1;
	}
	long long t0 = den_now_ms();
	if (ops->ready != NULL && ops->ready(dm, t->ssh, err) < 0)
		return -1;
	if (network_check_addresses(t->ssh, dm->cfg, err) < 0)
		return -1;
	long long t1 = den_now_ms();
	if (provider_rsync_folders(ops, dm, err) < 0)
		return -1;
	den_debug("%s: made ready in %lld ms, folders copied in %lld ms", dm->cfg->name, t1 - t0,
		  den_now_ms() - t1);
	den_info("%s is up: `den ssh %s` logs in (%s:%d)", dm->cfg->name, dm->cfg->name,
		 dm->rec.ssh_host ? dm->rec.ssh_host : "127.0.0.1", dm->rec.ssh_port);
	return 0;
}

/*
 * The boxes of the machines that will start, each fetched once (a box
 * shared by several is found in the store the second time), with the
 * progress bar on den's own terminal. A box that cannot be had is that
 * machine's error (errs[i]), not the others'.
 */
static void fetch_boxes(struct den_ctx *ctx, struct den_machine *dms, const char **provs, size_t n,
			struct boxlock *lock, struct den_err *errs)
{
	for (size_t i = 0; i < n; i++) {
		const struct provider_ops *ops = provider_find(provs[i]);
		enum machine_state st = MACHINE_NOT_CREATED;
		struct store_entry box;
		if (dms[i].exists && ops != NULL && ops->state(&dms[i], &st, &errs[i]) == 0 &&
		    (st == MACHINE_RUNNING || st == MACHINE_SUSPENDED))
			continue;
		den_err_clear(&errs[i]);
		if (resolve_box(ctx, dms[i].cfg, provs[i], lock, &box, &errs[i]) == 0)
			store_entry_free(&box);
	}
}

struct up_job {
	struct den_ctx *ctx;
	struct prov_target *t;
	const char **provs;
	struct boxlock *lock;
	const struct den_err *box_errs; /* fetch_boxes' */
};

/* Machine i up; in a child of its own, its SSH session goes with it (provisioning opens its own). */
static int up_job_one(void *arg, size_t i, struct den_err *err)
{
	struct up_job *j = arg;

	if (den_err_is_set(&j->box_errs[i])) {
		*err = j->box_errs[i];
		return -1;
	}
	int rc = up_one(j->ctx, &j->t[i], j->provs[i], j->lock, err);

	if (parallel_in_child()) {
		den_ssh_close(j->t[i].ssh);
		j->t[i].ssh = NULL;
	}
	return rc;
}

int cmd_up(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ "no-provision", no_argument, NULL, 'n' },
		{ "provision-with", required_argument, NULL, 'w' },
		{ "provision", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *provider = NULL, *with = NULL;
	struct machine **sel = NULL;
	struct boxlock lock;
	bool provision = true, all_steps = false;
	size_t n = 0, started = 0, opened = 0;
	int c, rc = 0;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
		if (c == 'p')
			provider = optarg;
		else if (c == 'n')
			provision = false;
		else if (c == 'w')
			with = optarg;
		else if (c == 'P')
			all_steps = true; /* den reload --provision */
		else
			return den_err_usage(err, "unknown option '%s' for `den up`",
					     argv[optind - 1]);
	}
	if (provider != NULL && provider_find(provider) == NULL)
		return den_err_usage(
			err, "no provider '%s' in this den (it has container, qemu, kvm and lxd)",
			provider);
	if (!provision && with != NULL)
		return den_err_usage(err, "--no-provision and --provision-with do not go together");
	if (cmd_select(ctx, argv + optind, (size_t)(argc - optind), true, &sel, &n, err) < 0)
		return -1;
	struct den_machine *dms = calloc(n + 1, sizeof(*dms));
	struct prov_target *t = calloc(n + 1, sizeof(*t));
	const char **provs = calloc(n + 1, sizeof(*provs));
	bool *up = calloc(n + 1, sizeof(*up));
	struct den_err *box_errs = calloc(n + 1, sizeof(*box_errs));
	if (dms == NULL || t == NULL || provs == NULL || up == NULL || box_errs == NULL) {
		free(dms), free(t), free(provs), free(up), free(box_errs), free(sel);
		return den_err_set(err, ENOMEM, "den up");
	}
	for (; opened < n && rc == 0; opened++)
		rc = machine_open(ctx->root, sel[opened], &dms[opened], err);
	/* A provider or a key one of them cannot have stops the command before any starts. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		provs[i] = provider ? provider : cmd_machine_provider_of(&dms[i]);
		rc = provider_matches(&dms[i], provs[i], err);
		if (rc == 0)
			rc = missing_provider(sel[i], provs[i], err);
		if (rc == 0)
			rc = provider_check_keys(provs[i], sel[i], ctx->ef->path, err);
	}
	if (rc == 0)
		rc = boxlock_read(ctx->envfile_path, &lock, err);
	if (rc < 0)
		goto out;
	/* Each box once, here, before the machines start side by side (they find it then). */
	fetch_boxes(ctx, dms, provs, n, &lock, box_errs);
	if (boxlock_write(&lock, err) < 0) {
		boxlock_free(&lock);
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		t[i].dm = &dms[i];
	started = n;
	struct up_job j = { ctx, t, provs, &lock, box_errs };
	rc = cmd_run_machines(ctx, sel, n, up_job_one, &j, up, err);
	boxlock_free(&lock);
	/* What a machine's child recorded (its ports, its pid) is in its state.json: read again. */
	for (size_t i = 0; i < n; i++) {
		struct den_err ignored = { 0 };
		machine_close(&dms[i]);
		if (machine_open(ctx->root, sel[i], &dms[i], &ignored) < 0)
			up[i] = false;
	}
	/* The machines that came up are provisioned, as if the others had not been asked for. */
	if (provision) {
		size_t k = 0;
		struct den_err perr = { 0 };
		for (size_t i = 0; i < n; i++)
			if (up[i])
				t[k++] = t[i];
			else
				den_ssh_close(t[i].ssh), t[i].ssh = NULL;
		started = k;
		if (k > 0 &&
		    cmd_provision_targets(ctx, t, k, all_steps ? PROV_WHEN_ASKED : PROV_WHEN_UP,
					  with, &perr) < 0 &&
		    rc == 0) {
			*err = perr;
			rc = -1;
		} else if (den_err_is_set(&perr)) {
			den_warn("%s", perr.msg);
		}
	}
out:
	for (size_t i = 0; i < started; i++)
		den_ssh_close(t[i].ssh);
	for (size_t i = 0; i < opened; i++)
		machine_close(&dms[i]);
	free(provs);
	free(t);
	free(dms);
	free(up);
	free(box_errs);
	free(sel);
	return rc;
}
