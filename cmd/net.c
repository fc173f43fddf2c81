/* SPDX-License-Identifier: MIT */
/*
 * `den net run`: plumbing that serves den's user-mode network to a QEMU
 * `-netdev stream` peer on an inherited socket, until QEMU hangs up (the
 * qemu provider starts one per machine, docs/qemu.md).
 *	den net run --fd N [--ready-fd M] [--host-loopback]
 *	            [--forward [tcp:|udp:][IP:]HOSTPORT:GUESTPORT]...
 * Exit status: 0 when the peer hung up, 1 on an error (a forwarded port in
 * use, a frame that is not one), 2 on bad arguments.
 *	den net switch --control PATH [--lock FILE] [--ready-fd M]
 * serves a private network's switch on the control socket PATH until its
 * last machine has gone and it holds the project's lock FILE
 * (providers/network/switch_serve.h).
 */
#include "cmd/cmd.h"
#include "core/size.h"
#include "core/usernet.h"
#include "providers/network/switch_serve.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

const struct cmd_usage cmd_usage_net = {
	.path = "net",
	.subcommands = "run switch",
};

const struct cmd_usage cmd_usage_net_run = {
	.path = "net run",
	.opts = {
		CMD_OPT("fd", 0, CMD_VALUE_WORD, "N", "the inherited socket of the QEMU peer"),
		CMD_OPT("ready-fd", 0, CMD_VALUE_WORD, "M",
			"write a byte to descriptor M once the ports are bound"),
		CMD_OPT("forward", 0, CMD_VALUE_WORD, "[tcp:|udp:][IP:]HOSTPORT:GUESTPORT",
			"forward a host port to the guest"),
		CMD_OPT("host-loopback", 0, CMD_VALUE_NONE, NULL,
			"let the gateway reach the host's 127.0.0.1"),
	},
};

const struct cmd_usage cmd_usage_net_switch = {
	.path = "net switch",
	.opts = {
		CMD_OPT("control", 0, CMD_VALUE_FILE, "PATH", "the switch's control socket"),
		CMD_OPT("lock", 0, CMD_VALUE_FILE, "FILE",
			"the project's lock: before ending with no machine, take it (a den holding it may be about to join)"),
		CMD_OPT("ready-fd", 0, CMD_VALUE_WORD, "M",
			"write a byte to descriptor M once it serves"),
	},
};

#define MAX_FORWARDS 64

/* An inherited descriptor: a number, open, and (for the peer) a socket. */
static int take_fd(const char *arg, const char *opt, bool socket, int *out, struct den_err *err)
{
	uint64_t n;
	struct stat st;

	if (!den_parse_u64(arg, &n) || n < 3 || n > 1 << 20 || fstat((int)n, &st) < 0 ||
	    (socket && !S_ISSOCK(st.st_mode)))
		return den_err_usage(err, "%s takes an inherited %s descriptor, not '%s'", opt,
				     socket ? "socket" : "open", arg);
	*out = (int)n;
	return fcntl(*out, F_SETFD, FD_CLOEXEC) < 0 ? den_err_set(err, errno, "%s %s", opt, arg)
						    : 0;
}

static int net_run(int argc, char **argv, struct den_err *err)
{
	static const struct option opts[] = {
		{ "fd", required_argument, NULL, 'f' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "forward", required_argument, NULL, 'F' },
		{ "host-loopback", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	struct usernet_fwd fwds[MAX_FORWARDS];
	size_t n = 0;
	int fd = -1, ready = -1, c;
	bool loopback = false;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (take_fd(optarg, "--fd", true, &fd, err) < 0)
				return -1;
			break;
		case 'r':
			if (take_fd(optarg, "--ready-fd", false, &ready, err) < 0)
				return -1;
			break;
		case 'F':
			if (n == MAX_FORWARDS)
				return den_err_usage(err, "at most %d --forward", MAX_FORWARDS);
			if (usernet_parse_fwd(optarg, &fwds[n], err) < 0)
				return -1;
			n++;
			break;
		case 'L':
			loopback = true;
			break;
		default:
			return den_err_usage(err, "unknown option '%s' for `den net run`",
					     argv[optind - 1]);
		}
	}
	if (fd < 0 || optind != argc)
		return den_err_usage(err, "usage: den net run --fd N [--ready-fd M] "
					  "[--host-loopback] [--forward SPEC]...");
	return usernet_serve_stream(fd, fwds, n, loopback, ready, err);
}

/* `den net switch --control PATH [--lock FILE] [--ready-fd M]`: a private network's switch. */
static int net_switch(int argc, char **argv, struct den_err *err)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "lock", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *control = NULL, *lock = NULL;
	int ready = -1, c;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'c')
			control = optarg;
		else if (c == 'l')
			lock = optarg;
		else if (c == 'r' && take_fd(optarg, "--ready-fd", false, &ready, err) < 0)
			return -1;
		else if (c != 'r' && c != 'c' && c != 'l')
			return den_err_usage(err, "unknown option '%s' for `den net switch`",
					     argv[optind - 1]);
	}
	if (control == NULL || optind != argc)
		return den_err_usage(err, "usage: den net switch --control PATH [--lock FILE] "
					  "[--ready-fd M]");
	return switch_serve(control, lock, ready, err);
}

int cmd_net(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	(void)ctx;
	if (argc >= 2 && strcmp(argv[1], "switch") == 0)
		return net_switch(argc - 1, argv + 1, err);
	if (argc < 2 || strcmp(argv[1], "run") != 0)
		return den_err_usage(err, "usage: den net run --fd N [--ready-fd M] "
					  "[--host-loopback] [--forward SPEC]...\n"
					  "       den net switch --control PATH [--lock FILE] "
					  "[--ready-fd M]");
	return net_run(argc - 1, argv + 1, err);
}
