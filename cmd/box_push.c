/* SPDX-License-Identifier: MIT */
/*
 * `den box push BOX REF`: a box of the store to a container registry,
 * every provider and architecture of its version under one tag
 * (registry/box.h). Teammates add it with `den box add oci://REF`, or an
 * Envfile names it with box_url: oci://HOST/REPO.
 */
#include "boxes/identity.h"
#include "cmd/cmd.h"
#include "core/cleanup.h"
#include "core/project.h"
#include "registry/box.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

const struct cmd_usage cmd_usage_box_push = {
	.path = "box push",
	.operands = { CMD_VALUE_BOX, CMD_VALUE_WORD },
	.opts = {
		CMD_OPT("box-version", 0, CMD_VALUE_WORD, "V",
			"push version V (default: the newest in the store)"),
		CMD_OPT("provider", 0, CMD_VALUE_PROVIDER, "P",
			"push only the box for provider P (the tag keeps the others)"),
		CMD_OPT("architecture", 0, CMD_VALUE_WORD, "A",
			"push only the box for architecture A"),
	},
};

int cmd_box_push(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const struct option opts[] = {
		{ "box-version", required_argument, NULL, 'V' },
		{ "provider", required_argument, NULL, 'p' },
		{ "architecture", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct oci_push_opts o = { .progress = cmd_progress() };
	struct oci_pushed out;
	cleanup_free char *home = NULL;
	int c;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			o.version = optarg;
			break;
		case 'p':
			o.provider = box_provider_of(optarg);
			break;
		case 'a':
			o.arch = optarg;
			break;
		default:
			return den_err_usage(err,
					     "unknown option '%s' for `den box push`; see `den "
					     "help box`",
					     argv[optind - 1]);
		}
	}
	if (optind + 2 != argc)
		return den_err_usage(err, "usage: den box push BOX [oci://]HOST/REPO[:TAG] "
					  "[--box-version V] [--provider P]");
	o.name = argv[optind];
	o.ref = argv[optind + 1];
	if (oci_box_is_ref(o.ref))
		o.ref += strlen(OCI_BOX_SCHEME);
	if (den_home(&home, err) < 0)
		return -1;
	o.home = home;
	if (oci_box_push(&o, &out, err) < 0)
		return -1;
	if (ctx->json)
		return cmd_print_json(
			json_pack("{s:s, s:I, s:I, s:I, s:I}", "ref", out.ref, "boxes",
				  (json_int_t)out.boxes, "sent", (json_int_t)out.sent, "there",
				  (json_int_t)out.there, "mounted", (json_int_t)out.mounted),
			err);
	printf("%s%s\n", OCI_BOX_SCHEME, out.ref);
	den_info("%zu box%s pushed; blobs: %zu sent, %zu already there, %zu mounted from "
		 "another repository",
		 out.boxes, out.boxes == 1 ? "" : "es", out.sent, out.there, out.mounted);
	return 0;
}
