/* SPDX-License-Identifier: MIT */
/*
 * `den box warm BOX [--version V] [--cpus N] [--memory SIZE] [--disk-size
 * SIZE] [--folders N]`: makes (or finds) the warm image of a VM box in the
 * store ahead of the first `den up` (docs/vmm.md, "Warm images"), for
 * machines of that shape: by default the Envfile's defaults, with the one
 * synced folder every machine has (/vagrant).
 */
#include "boxes/catalog.h"
#include "boxes/identity.h"
#include "boxes/store.h"
#include "cmd/cmd.h"
#include "cmd/machines.h"
#include "core/cleanup.h"
#include "core/project.h"
#include "core/size.h"
#include "providers/host_kvm.h"
#include "providers/kvm/vm_boot.h"
#include "providers/kvm/vmm.h"
#include "providers/kvm/warm.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cmd_usage cmd_usage_box_warm = {
	.path = "box warm",
	.operands = { CMD_VALUE_BOX },
	.opts = {
		CMD_OPT("version", 0, CMD_VALUE_WORD, "V", "the box's version V (default the newest)"),
		CMD_OPT("box-version", 0, CMD_VALUE_WORD, "V", "the same as --version"),
		CMD_OPT("cpus", 0, CMD_VALUE_WORD, "N", "a warm image for N vCPUs"),
		CMD_OPT("memory", 0, CMD_VALUE_WORD, "SIZE", "a warm image for SIZE of memory"),
		CMD_OPT("disk-size", 0, CMD_VALUE_WORD, "SIZE", "a warm image for a disk of SIZE"),
		CMD_OPT("folders", 0, CMD_VALUE_WORD, "N", "a warm image for N synced folders"),
	},
};

#define USAGE                                                                                      \
	"usage: den box warm BOX [--version V] [--cpus N] [--memory SIZE] [--disk-size SIZE] "     \
	"[--folders N]"

/* A size option between lo and hi (0 also, when zero_ok), as the Envfile takes it. */
static int size_opt(const char *opt, const char *arg, uint64_t lo, uint64_t hi, bool zero_ok,
		    uint64_t *out, struct den_err *err)
{
	const char *why = NULL;
	char los[32], his[32];

	if (den_size_parse(arg, DEN_MIB, out, &why) < 0)
		return den_err_usage(err, "%s %s: %s", opt, arg, why);
	if ((*out == 0 && zero_ok) || (*out >= lo && *out <= hi))
		return 0;
	den_size_format(lo, los, sizeof(los));
	den_size_format(hi, his, sizeof(his));
	return den_err_usage(err, "%s %s: out of range; expected %s%s to %s", opt, arg,
			     zero_ok ? "0 (the box's) or " : "", los, his);
}

/* Why the store has no VM box name (version) for this host, and how to get one. */
static void no_vm_box(const char *name, const char *version, bool named, const char *other,
		      bool other_arch, struct den_err *err)
{
	if (!named)
		den_err_set(err, 0,
			    "no box %s in the store; add it with `den box add %s`, or build it "
			    "with `den box build RECIPE --provider qemu`",
			    name, name);
	else if (other_arch)
		den_err_set(err, 0,
			    "the store's VM box %s is for another architecture than this host's "
			    "(%s); add this host's with `den box add %s --provider kvm`",
			    name, box_host_arch(), name);
	else if (other != NULL)
		den_err_set(err, 0,
			    "box %s%s%s is not a VM box (the store has it for provider %s); warm "
			    "images are of VM boxes: add one with `den box add %s --provider kvm`, "
			    "or build one with `den box build RECIPE --provider qemu`",
			    name, version ? " " : "", version ? version : "", other, name);
	else
		den_err_set(err, 0, "box %s has no version %s in the store (see `den box list`)",
			    name, version);
}

/*
 * The store's VM box name (version, when given) for this host: *out, or an
 * error saying what the store has instead and how to get the right one.
 */
static int find_vm_box(const char *home, const char *name, const char *version,
		       struct store_entry *out, struct den_err *err)
{
	struct store_entry *list = NULL;
	size_t n = 0, named = 0;
	bool other_arch = false;
	const char *vm = box_provider_of("kvm"), *other = NULL;
	int rc = -1;

	if (store_list(home, &list, &n, err) < 0)
		return den_err_wrap(err, "cannot read the box store");
	/* store_list sorts newest first within a name: the first match is the newest. */
	for (size_t i = 0; i < n && rc < 0; i++) {
		struct store_entry *e = &list[i];
		if (strcmp(e->name, name) != 0)
			continue;
		named++;
		if (version != NULL && strcmp(e->version, version) != 0)
			continue;
		if (strcmp(e->provider, vm) != 0) {
			other = other ? other : e->provider;
			continue;
		}
		if (strcmp(e->arch, box_host_arch()) != 0 && strcmp(e->arch, "unknown") != 0) {
			other_arch = true;
			continue;
		}
		*out = *e;
		memset(e, 0, sizeof(*e));
		rc = 0;
	}
	if (rc < 0)
		no_vm_box(name, version, named > 0, other, other_arch, err);
	store_list_free(list, n);
	return rc;
}

int cmd_box_warm(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'V' },
		{ "box-version", required_argument, NULL, 'V' }, /* as `den box add` says it */
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "disk-size", required_argument, NULL, 'd' },
		{ "folders", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct warm_want want = { .cpus = ENVFILE_DEFAULT_CPUS,
				  .memory = ENVFILE_DEFAULT_MEMORY,
				  .disk_size = 0,
				  .shares = 1,
				  .boot_timeout = ENVFILE_DEFAULT_BOOT_TIMEOUT };
	const char *version = NULL, *name;
	cleanup_free char *home = NULL, *hook = NULL, *dir = NULL, *user = NULL;
	struct store_entry e = { 0 };
	struct vm_boot b;
	char why[512];
	uint64_t v;
	int c, rc;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			version = optarg;
			break;
		case 'c':
			if (!den_parse_u64(optarg, &v) || v < 1 || v > VMM_MAX_CPUS)
				return den_err_usage(err, "--cpus takes 1 to %d, not '%s'",
						     VMM_MAX_CPUS, optarg);
			want.cpus = (unsigned)v;
			break;
		case 'm':
			if (size_opt("--memory", optarg, 16 * DEN_MIB, 4 * DEN_TIB, false,
				     &want.memory, err) < 0)
				return -1;
			break;
		case 'd':
			if (size_opt("--disk-size", optarg, 64 * DEN_MIB, 64 * DEN_TIB, true,
				     &want.disk_size, err) < 0)
				return -1;
			break;
		case 'f':
			if (!den_parse_u64(optarg, &v) || v > VMM_MAX_SHARES)
				return den_err_usage(err,
						     "--folders takes 0 to %d (synced folders, "
						     "/vagrant counted), not '%s'",
						     VMM_MAX_SHARES, optarg);
			want.shares = (size_t)v;
			break;
		default:
			return den_err_usage(err, "unknown option '%s' for `den box warm`; " USAGE,
					     argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return den_err_usage(err, USAGE);
	if (den_home(&home, err) < 0 || find_vm_box(home, argv[optind], version, &e, err) < 0)
		return -1;
	hook = box_dir_meta(e.dir, "warm");
	if (hook == NULL || strcmp(hook, BOX_WARM_PROTOCOL) != 0) {
		rc = den_err_set(err, 0,
				 "box %s %s cannot make warm images: its seed hook does not do "
				 "den's warm-image handshake (version %s); rebuild it with a den "
				 "of this version: den box build RECIPE --provider qemu",
				 e.name, e.version, BOX_WARM_PROTOCOL);
		goto out;
	}
	if (!kvm_host_usable(why, sizeof(why))) {
		rc = den_err_set(err, 0,
				 "den's VMM cannot run on this host: %s; warm images are the kvm "
				 "provider's, and the qemu provider boots without them",
				 why);
		goto out;
	}
	rc = vm_boot_prepare(e.dir, &b, err);
	if (rc < 0) {
		den_err_wrap(err, "box %s %s", e.name, e.version);
		goto out;
	}
	/* The user `den up` logs in as with this box when the Envfile names none. */
	struct machine none = { .name = "warm" };
	user = cmd_login_user(&none, e.dir);
	want.user = user ? user : "den";
	rc = warm_image_get(e.dir, &b, &want, &dir, err);
	vm_boot_free(&b);
	if (rc < 0)
		goto out;
	if (dir == NULL) {
		rc = den_err_set(err, 0,
				 "den could not make a warm image of box %s %s (the warning above "
				 "says why); its machines boot without one",
				 e.name, e.version);
		goto out;
	}
	name = strrchr(dir, '/') + 1; /* BOX_DIR/kvm/warm/NAME */
	if (ctx->json) {
		rc = cmd_print_json(json_pack("{s:s, s:s, s:s, s:s}", "box", e.name, "version",
					      e.version, "name", name, "path", dir),
				    err);
	} else {
		den_info("the warm image %s of box %s %s is ready", name, e.name, e.version);
		puts(dir);
	}
out:
	store_entry_free(&e);
	return rc;
}
