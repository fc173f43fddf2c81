/* SPDX-License-Identifier: MIT */
/*
 * `den vmm run --kernel BZIMAGE [--initrd FILE] [--cmdline STR] [--cpus N]
 * [--memory SIZE] [--disk FILE[,ro][,base=IMAGE[,size=SIZE]]]...
 * [--net user[,hostfwd=...]...] [--share PATH,tag=TAG[,ro]]...
 * [--private-net FD,mac=MAC]... [--console stdio|FILE] [--api SOCKET] [--quiet-timeout S] [--restore DIR [--clone]]
 * [--warm-save DIR] [--channel-in FILE]`: den's own
 * VMM in the foreground, the guest's serial console on stdio (a terminal
 * in raw mode, Ctrl-A x to quit) or in a file. Exit status: 0 when the
 * guest resets or powers off, 1 on a VMM error, 2 on bad arguments.
 */
#include "cmd/cmd.h"
#include "core/size.h"
#include "providers/vm_shares.h"
#include "providers/kvm/vmm.h"
#include "providers/network/switch.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

const struct cmd_usage cmd_usage_vmm = {
	.path = "vmm",
	.subcommands = "run",
};

const struct cmd_usage cmd_usage_vmm_run = {
	.path = "vmm run",
	.opts = {
		CMD_OPT("kernel", 0, CMD_VALUE_FILE, "BZIMAGE", "the Linux kernel to boot"),
		CMD_OPT("initrd", 0, CMD_VALUE_FILE, "FILE", "its initial ramdisk"),
		CMD_OPT("cmdline", 0, CMD_VALUE_WORD, "STR",
			"its command line (default console=ttyS0 reboot=k panic=1)"),
		CMD_OPT("cpus", 0, CMD_VALUE_WORD, "N", "vCPUs (default 1)"),
		CMD_OPT("memory", 0, CMD_VALUE_WORD, "SIZE", "guest memory (default 512M)"),
		CMD_OPT("disk", 0, CMD_VALUE_FILE, "FILE[,ro][,base=IMAGE[,size=SIZE]]",
			"a virtio disk; with base=, a copy-on-write overlay over IMAGE"),
		CMD_OPT("net", 0, CMD_VALUE_WORD, "user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT]",
			"a network card on den's user-mode network"),
		CMD_OPT("share", 0, CMD_VALUE_DIR, "PATH,tag=TAG[,ro]",
			"share a host folder over virtio-9p (up to 4)"),
		CMD_OPT("private-net", 0, CMD_VALUE_WORD, "FD,mac=MAC",
			"a card on a private network's switch port, the inherited socket FD"),
		CMD_OPT("console", 0, CMD_VALUE_FILE, "stdio|FILE",
			"where the serial console goes (default stdio)"),
		CMD_OPT("api", 0, CMD_VALUE_FILE, "SOCKET",
			"answer JSON lines on SOCKET: status, pause, resume, stop, snapshot"),
		CMD_OPT("quiet-timeout", 0, CMD_VALUE_WORD, "SECONDS",
			"give up after so long without console output (0: never)"),
		CMD_OPT("restore", 0, CMD_VALUE_DIR, "DIR",
			"go on from the snapshot or warm image in DIR instead of booting"),
		CMD_OPT("clone", 0, CMD_VALUE_NONE, NULL,
			"with --restore of a warm image: the VM becomes a new machine"),
		CMD_OPT("warm-save", 0, CMD_VALUE_DIR, "DIR",
			"save the VM into DIR when den's hook in the guest says it is ready"),
		CMD_OPT("channel-in", 0, CMD_VALUE_FILE, "FILE",
			"den's record for the guest, given on den's channel"),
	},
};

#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=1 i8042.noaux i8042.nomux i8042.nopnp"

#define USAGE                                                                                      \
	"usage: den vmm run --kernel BZIMAGE [--initrd FILE] [--cmdline STR] [--cpus N] "          \
	"[--memory SIZE] [--disk FILE[,ro][,base=IMAGE[,size=SIZE]]]... "                          \
	"[--net user[,hostfwd=tcp:127.0.0.1:HP-:GP]...] [--share PATH,tag=TAG[,ro]]... "           \
	"[--private-net FD,mac=MAC]... "                                                           \
	"[--console stdio|FILE] [--api SOCKET] [--quiet-timeout S] [--warm-save DIR] "             \
	"[--channel-in FILE]\n"                                                                    \
	"       den vmm run --restore DIR [--clone] [--cpus, --memory, --disk and --net as "       \
	"saved] [--console stdio|FILE] [--api SOCKET] [--quiet-timeout S] [--channel-in FILE]"

/*
 * --disk FILE[,ro][,base=IMAGE[,size=SIZE]]: a raw image, or with base= a
 * copy-on-write overlay FILE (made when missing) over the raw IMAGE,
 * which is never written; size= the disk's size (default: the overlay's,
 * or the image's for a new one).
 */
static int parse_disk(char *arg, struct vmm_disk *d, struct den_err *err)
{
	char *save = NULL, *opt;
	const char *why = NULL;

	d->path = strtok_r(arg, ",", &save);
	if (d->path == NULL)
		return den_err_usage(err, "--disk FILE[,ro][,base=IMAGE[,size=SIZE]], not ''");
	while ((opt = strtok_r(NULL, ",", &save)) != NULL) {
		if (strcmp(opt, "ro") == 0)
			d->ro = true;
		else if (strncmp(opt, "base=", 5) == 0 && opt[5] != '\0')
			d->base = opt + 5;
		else if (strncmp(opt, "size=", 5) == 0) {
			if (den_size_parse(opt + 5, DEN_MIB, &d->size, &why) < 0)
				return den_err_usage(err, "--disk %s: %s", opt, why);
		} else
			return den_err_usage(err, "--disk: unknown option '%s' (ro, base=, size=)",
					     opt);
	}
	if (d->size != 0 && d->base == NULL)
		return den_err_usage(err, "--disk %s: size= goes with base=", d->path);
	return 0;
}

/*
 * --net user[,no-host-loopback][,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...
 * By hand, like QEMU, the gateway reaches the host's loopback; the kvm
 * provider turns that off unless the Envfile says host_loopback: true.
 */
static int parse_net(char *arg, struct vmm_spec *s, struct den_err *err)
{
	char *save = NULL, *opt = strtok_r(arg, ",", &save);

	if (s->net)
		return den_err_usage(err, "one --net only");
	if (opt == NULL || strcmp(opt, "user") != 0)
		return den_err_usage(err,
				     "--net takes user[,hostfwd=...] (den's user-mode "
				     "network), not '%s'",
				     arg);
	s->net = true;
	while ((opt = strtok_r(NULL, ",", &save)) != NULL) {
		if (strcmp(opt, "no-host-loopback") == 0) {
			s->net_no_loopback = true;
			continue;
		}
		if (strncmp(opt, "hostfwd=", 8) != 0)
			return den_err_usage(err,
					     "--net user: unknown option '%s' (hostfwd=... and "
					     "no-host-loopback are the ones there are)",
					     opt);
		if (s->n_fwds == VMM_MAX_FWDS)
			return den_err_usage(err, "at most %d hostfwd", VMM_MAX_FWDS);
		if (usernet_parse_hostfwd(opt + 8, &s->fwds[s->n_fwds++], err) < 0)
			return -1;
	}
	return 0;
}

/*
 * --private-net FD,mac=MAC: a virtio-net card on a private network's switch
 * port, the inherited descriptor FD (SOCK_SEQPACKET; docs/networks.md).
 */
static int parse_private(const char *arg, struct vmm_spec *s, struct den_err *err)
{
	uint8_t mac[ETH_ALEN_DEN];
	int fd, at = 0, type = 0;
	socklen_t len = sizeof(type);

	if (s->n_privates == VMM_MAX_PRIVATE)
		return den_err_usage(err, "at most %d --private-net", VMM_MAX_PRIVATE);
	if (sscanf(arg, "%d,mac=%n", &fd, &at) != 1 || at == 0 || fd < 3 ||
	    !switch_mac_parse(arg + at, mac))
		return den_err_usage(err, "--private-net FD,mac=MAC (a unicast MAC), not '%s'",
				     arg);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
		return den_err_usage(err,
				     "--private-net %s: descriptor %d is not a SOCK_SEQPACKET "
				     "socket (a switch port)",
				     arg, fd);
	struct vmm_private *p = &s->privates[s->n_privates++];
	p->fd = fd;
	memcpy(p->mac, mac, sizeof(mac));
	return 0;
}

/*
 * --share PATH,tag=TAG[,ro]: the host folder PATH over virtio-9p, which the
 * guest mounts by its tag (mount -t 9p -o trans=virtio,version=9p2000.L TAG DIR).
 */
static int parse_share(char *arg, struct vmm_spec *s, struct den_err *err)
{
	char *save = NULL, *opt;

	if (s->n_shares == VMM_MAX_SHARES)
		return den_err_usage(err, "at most %d --share", VMM_MAX_SHARES);
	struct vmm_share *sh = &s->shares[s->n_shares];
	*sh = (struct vmm_share){ .path = strtok_r(arg, ",", &save) };
	if (sh->path == NULL)
		return den_err_usage(err, "--share PATH,tag=TAG[,ro], not ''");
	while ((opt = strtok_r(NULL, ",", &save)) != NULL) {
		if (strcmp(opt, "ro") == 0)
			sh->ro = true;
		else if (strncmp(opt, "tag=", 4) == 0 && opt[4] != '\0')
			sh->tag = opt + 4;
		else
			return den_err_usage(err, "--share: unknown option '%s' (tag=, ro)", opt);
	}
	if (sh->tag == NULL)
		return den_err_usage(err, "--share %s needs tag=TAG, the name the guest mounts by",
				     sh->path);
	for (unsigned i = 0; i < s->n_shares; i++)
		if (strcmp(s->shares[i].tag, sh->tag) == 0)
			return den_err_usage(err, "--share: the tag '%s' is %s's already", sh->tag,
					     s->shares[i].path);
	s->n_shares++;
	return 0;
}

/*
 * A writable share keeps the guest's owners and modes in user xattrs
 * (p9.h): a folder on a file system without them is refused before boot,
 * rather than every chown in the guest failing.
 */
static int check_shares(const struct vmm_spec *s, struct den_err *err)
{
	for (unsigned i = 0; i < s->n_shares; i++) {
		if (s->shares[i].ro)
			continue;
		int fd = open(s->shares[i].path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return den_err_set(err, errno, "--share %s", s->shares[i].path);
		int rc = vm_folder_keeps_xattrs(fd, s->shares[i].path, err);
		close(fd);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return den_err_usage(err,
					     "--share %s: its file system keeps no user extended "
					     "attributes, which a writable share needs for the "
					     "guest's owners and modes (add ,ro, or share a folder "
					     "on ext4, xfs, btrfs or tmpfs from Linux 6.6)",
					     s->shares[i].path);
	}
	return 0;
}

/* A terminal on stdin goes raw (keys reach the guest, Ctrl-C included); saved is restored. */
static bool raw_terminal(struct termios *saved)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, saved) < 0)
		return false;
	t = *saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST; /* the guest's \n still starts a line */
	return tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
}

static int vmm_run_cmd(int argc, char **argv, struct den_err *err)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "cpus", required_argument, NULL, 'p' },
		{ "memory", required_argument, NULL, 'm' },
		{ "console", required_argument, NULL, 'o' },
		{ "quiet-timeout", required_argument, NULL, 't' },
		{ "disk", required_argument, NULL, 'd' },
		{ "api", required_argument, NULL, 'a' },
		{ "net", required_argument, NULL, 'n' },
		{ "share", required_argument, NULL, 's' },
		{ "private-net", required_argument, NULL, 'P' },
		{ "restore", required_argument, NULL, 'r' },
		{ "clone", no_argument, NULL, 'C' },
		{ "warm-save", required_argument, NULL, 'w' },
		{ "channel-in", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	struct vmm_spec s = { .cmdline = DEFAULT_CMDLINE,
			      .cpus = 1,
			      .memory = 512ULL << 20,
			      .console_out = STDOUT_FILENO,
			      .console_in = -1 };
	const char *console = "stdio", *why;
	uint64_t n;
	int c, status = 0;

	clock_gettime(CLOCK_MONOTONIC, &s.started);
	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			s.kernel = optarg;
			break;
		case 'i':
			s.initrd = optarg;
			break;
		case 'c':
			s.cmdline = optarg;
			break;
		case 'p':
			if (!den_parse_u64(optarg, &n) || n < 1 || n > VMM_MAX_CPUS)
				return den_err_usage(err, "--cpus takes 1 to %d, not '%s'",
						     VMM_MAX_CPUS, optarg);
			s.cpus = (unsigned)n;
			break;
		case 'm':
			if (den_size_parse(optarg, DEN_MIB, &s.memory, &why) < 0)
				return den_err_usage(err, "--memory %s: %s", optarg, why);
			if (s.memory < 16 * DEN_MIB)
				return den_err_usage(err, "--memory %s: at least 16M", optarg);
			s.memory &= ~(uint64_t)0xfffff; /* whole MiB */
			break;
		case 'o':
			console = optarg;
			break;
		case 't':
			if (!den_parse_u64(optarg, &n) || n > 86400)
				return den_err_usage(err, "--quiet-timeout takes seconds, not '%s'",
						     optarg);
			s.quiet_timeout = (unsigned)n;
			break;
		case 'a':
			s.api = optarg;
			break;
		case 'n':
			if (parse_net(optarg, &s, err) < 0)
				return -1;
			break;
		case 's':
			if (parse_share(optarg, &s, err) < 0)
				return -1;
			break;
		case 'P':
			if (parse_private(optarg, &s, err) < 0)
				return -1;
			break;
		case 'r':
			s.restore = optarg;
			break;
		case 'C':
			s.clone = true;
			break;
		case 'w':
			s.warm_save = optarg;
			break;
		case 'I':
			s.channel_in = optarg;
			break;
		case 'd':
			if (s.n_disks == VMM_MAX_DISKS)
				return den_err_usage(err, "at most %d --disk", VMM_MAX_DISKS);
			if (parse_disk(optarg, &s.disks[s.n_disks++], err) < 0)
				return -1;
			break;
		default:
			return den_err_usage(err, "unknown option '%s' for `den vmm run`",
					     argv[optind - 1]);
		}
	}
	/* A snapshot (docs/vmm.md, "Snapshots") holds the kernel it was booted with. */
	if ((s.kernel == NULL) == (s.restore == NULL) || optind != argc)
		return den_err_usage(err, USAGE);
	/* A warm image is saved from a boot, and makes new machines only when restored. */
	if (s.clone && s.restore == NULL)
		return den_err_usage(err, "--clone goes with --restore (a warm image)");
	if (s.warm_save != NULL && (s.restore != NULL || s.warm_save[0] != '/'))
		return den_err_usage(err, "--warm-save takes an absolute folder, and a boot "
					  "(--kernel), not --restore");
	if (check_shares(&s, err) < 0 || vmm_probe(err) < 0)
		return -1;
	struct termios saved;
	bool raw = false;
	if (strcmp(console, "stdio") == 0) {
		s.console_in = STDIN_FILENO;
		raw = s.console_escape = raw_terminal(&saved);
	} else {
		s.console_out = open(console, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (s.console_out < 0)
			return den_err_set(err, errno, "cannot write the console to %s", console);
	}
	int rc = vmm_run(&s, &status, err);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (s.console_out != STDOUT_FILENO)
		close(s.console_out);
	return rc;
}

int cmd_vmm(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	(void)ctx;
	if (argc < 2 || strcmp(argv[1], "run") != 0)
		return den_err_usage(err, USAGE);
	return vmm_run_cmd(argc - 1, argv + 1, err);
}
