/* SPDX-License-Identifier: MIT */
/*
 * `den container run`: plumbing that runs a container in the foreground,
 * the way the container provider's supervisor will.
 *	den container run --rootfs DIR --state DIR [--hostname NAME]
 *	                  [--bind HOST:GUEST[:ro]]... [--project DIR] [--network host]
 *	                  [--host-loopback]
 *	                  [--cpus N] [--memory SIZE] [--no-new-privs] [--init den|system]
 *	                  [--forward [tcp:|udp:][IP:]HOSTPORT:GUESTPORT]...
 *	                  [--private-net FD:ADDRESS/PREFIX]... [--host 'ADDRESS NAME...']...
 *	                  -- CMD [ARGS...]
 * Exit status: CMD's, 125 when the container could not start.
 */
#include "cmd/cmd.h"
#include "core/keys.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/size.h"
#include "providers/container/container.h"
#include "providers/container/sshd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const struct cmd_usage cmd_usage_container = {
	.path = "container",
	.subcommands = "run",
};

const struct cmd_usage cmd_usage_container_run = {
	.path = "container run",
	.operands = { CMD_VALUE_FILE },
	.many = true,
	.opts = {
		CMD_OPT("rootfs", 0, CMD_VALUE_DIR, "DIR", "the read-only lower layer of the root"),
		CMD_OPT("state", 0, CMD_VALUE_DIR, "DIR", "the container's own folder (STATE/upper)"),
		CMD_OPT("hostname", 0, CMD_VALUE_WORD, "NAME", "its host name (default den)"),
		CMD_OPT("bind", 0, CMD_VALUE_DIR, "HOST:GUEST[:ro,owner=U,group=G]",
			"bind a host folder into it"),
		CMD_OPT("network", 0, CMD_VALUE_WORD, "host",
			"share the host's network instead of den's own"),
		CMD_OPT("cpus", 0, CMD_VALUE_WORD, "N", "limit it to N CPUs' time"),
		CMD_OPT("memory", 0, CMD_VALUE_WORD, "SIZE", "limit its memory"),
		CMD_OPT("no-new-privs", 0, CMD_VALUE_NONE, NULL,
			"set no_new_privs (sudo inside stops working)"),
		CMD_OPT("forward", 0, CMD_VALUE_WORD, "[tcp:|udp:][IP:]HOSTPORT:GUESTPORT",
			"forward a host port to it"),
		CMD_OPT("control", 0, CMD_VALUE_FILE, "SOCKET",
			"serve status, halt and kill on SOCKET"),
		CMD_OPT("file", 0, CMD_VALUE_WORD, "GUEST:MODE:OWNER:HOSTFILE",
			"put a host file into it before it starts"),
		CMD_OPT("init", 0, CMD_VALUE_WORD, "den|system",
			"den-init runs CMD (den), or CMD is the box's own init (system)"),
		CMD_OPT("project", 0, CMD_VALUE_DIR, "DIR",
			"binds below DIR resolve beneath it, no link followed"),
		CMD_OPT("host-loopback", 0, CMD_VALUE_NONE, NULL,
			"let the gateway reach the host's 127.0.0.1"),
		CMD_OPT("private-net", 0, CMD_VALUE_WORD, "FD:ADDRESS/PREFIX",
			"a card on a private network's switch port, the inherited socket FD"),
		CMD_OPT("host", 0, CMD_VALUE_WORD, "'ADDRESS NAME...'", "a line for its /etc/hosts"),
		CMD_OPT("den-ssh", 0, CMD_VALUE_WORD, "PORT",
			"run den's own SSH server on PORT as the main process"),
		CMD_OPT("env", 0, CMD_VALUE_WORD, "NAME=VALUE", "set NAME in den's SSH sessions"),
		CMD_OPT("workdir", 0, CMD_VALUE_WORD, "DIR",
			"the folder den's SSH sessions start in"),
	},
};

static int parse_bind(char *arg, struct ctr_bind *b, struct den_err *err)
{
	char *guest = strchr(arg, ':'), *mode;

	if (guest == NULL || arg[0] != '/' || guest[1] != '/')
		return den_err_usage(
			err,
			"--bind %s: expected HOST:GUEST[:ro,owner=U,group=G] with absolute "
			"paths",
			arg);
	*guest++ = '\0';
	mode = strchr(guest, ':');
	b->host = arg;
	b->guest = guest;
	if (mode == NULL)
		return 0;
	*mode++ = '\0';
	/* Options, comma-separated: ro, rw, owner=USER, group=GROUP. */
	for (char *o = strtok(mode, ","); o != NULL; o = strtok(NULL, ",")) {
		if (strcmp(o, "ro") == 0)
			b->readonly = true;
		else if (strcmp(o, "rw") == 0)
			b->readonly = false;
		else if (strncmp(o, "owner=", 6) == 0 && o[6] != '\0')
			b->owner = o + 6;
		else if (strncmp(o, "group=", 6) == 0 && o[6] != '\0')
			b->group = o + 6;
		else
			return den_err_usage(err,
					     "--bind: unknown option '%s' (ro, rw, owner=USER, "
					     "group=GROUP)",
					     o);
	}
	return 0;
}

/* GUEST:MODE:OWNER:HOSTFILE (OWNER may be empty: root) -> a file to put in. */
static int parse_file(char *arg, struct ctr_file *f, struct den_err *err)
{
	char *mode = strchr(arg, ':'), *owner = mode ? strchr(mode + 1, ':') : NULL;
	char *src = owner ? strchr(owner + 1, ':') : NULL;
	char *text = NULL;
	unsigned long m;

	if (src == NULL || (arg[0] != '/' && strncmp(arg, "~/", 2) != 0))
		return den_err_usage(err, "--file %s: expected GUEST:MODE:OWNER:HOSTFILE", arg);
	*mode++ = '\0';
	*owner++ = '\0';
	*src++ = '\0';
	m = strtoul(mode, NULL, 8);
	if (m > 07777 || (arg[0] == '~' && owner[0] == '\0'))
		return den_err_usage(err, "--file %s: bad mode, or ~ without an owner", arg);
	if (den_read_own_file(src, 1 << 20, &text, NULL, err) < 0)
		return -1;
	*f = (struct ctr_file){ arg, text, (mode_t)m, owner[0] ? owner : NULL, false };
	return 0;
}

/*
 * --private-net FD:ADDRESS/PREFIX: the container's address on a private
 * network, whose switch port den passed as descriptor FD.
 */
static int parse_private_net(const char *arg, struct ctr_net *n, struct den_err *err)
{
	char ip[INET_ADDRSTRLEN];
	int fd, at = 0;
	unsigned prefix;
	struct in_addr a;

	if (sscanf(arg, "%d:%15[0-9.]/%u%n", &fd, ip, &prefix, &at) != 3 || arg[at] != '\0' ||
	    fd < 3 || prefix < 1 || prefix > 30 || inet_pton(AF_INET, ip, &a) != 1)
		return den_err_usage(err,
				     "--private-net %s: expected FD:ADDRESS/PREFIX "
				     "(3:192.168.50.10/24)",
				     arg);
	/* A switch port (no process of the container gets it: PID 1 closes all but 0-2). */
	int type = 0;
	socklen_t len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
		return den_err_usage(err,
				     "--private-net %s: descriptor %d is not a SOCK_SEQPACKET "
				     "socket (a switch port)",
				     arg, fd);
	n->port = fd;
	n->addr = ntohl(a.s_addr);
	n->prefix = prefix;
	return 0;
}

/* --host 'ADDRESS NAME...': one more /etc/hosts line, appended to *hosts (malloc'd). */
static int add_host(const char *arg, char **hosts, struct den_err *err)
{
	char ip[INET6_ADDRSTRLEN];
	size_t n = strcspn(arg, " ");
	struct in_addr a;
	char *more;

	snprintf(ip, sizeof(ip), "%.*s", (int)(n < sizeof(ip) ? n : 0), arg);
	if (inet_pton(AF_INET, ip, &a) != 1 || arg[n] != ' ' || arg[n + 1] == '\0' ||
	    arg[n + 1 +
		strspn(arg + n + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789._- ")] != '\0')
		return den_err_usage(err,
				     "--host '%s': expected 'ADDRESS NAME...' (names of "
				     "letters, digits, '.', '_', '-')",
				     arg);
	if (asprintf(&more, "%s%s\n", *hosts ? *hosts : "", arg) < 0)
		return den_err_set(err, ENOMEM, "--host");
	free(*hosts);
	*hosts = more;
	return 0;
}

/* The --file contents read so far, on the way out of a failed run. */
static void free_files(struct ctr_spec *s)
{
	for (size_t i = 0; i < s->n_files; i++)
		free((char *)s->files[i].text);
}

static int container_run(int argc, char **argv, struct den_err *err)
{
	static const struct option opts[] = {
		{ "rootfs", required_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 's' },
		{ "hostname", required_argument, NULL, 'h' },
		{ "bind", required_argument, NULL, 'b' },
		{ "network", required_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "no-new-privs", no_argument, NULL, 'P' },
		{ "forward", required_argument, NULL, 'f' },
		{ "control", required_argument, NULL, 'C' },
		{ "file", required_argument, NULL, 'F' },
		{ "init", required_argument, NULL, 'i' },
		{ "project", required_argument, NULL, 'p' },
		{ "host-loopback", no_argument, NULL, 'L' },
		{ "private-net", required_argument, NULL, 'N' },
		{ "host", required_argument, NULL, 'H' },
		{ "den-ssh", required_argument, NULL, 'S' },
		{ "env", required_argument, NULL, 'E' },
		{ "workdir", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	cleanup_free char *hosts = NULL;
	static struct usernet_fwd fwds[64];
	struct ctr_spec s
		__attribute__((cleanup(free_files))) = { .hostname = "den", .fwds = fwds };
	static struct ctr_sshd sshd;
	size_t n_env = 0;
	int c, status = 0;

	cmd_getopt_reset();
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			s.rootfs = optarg;
			break;
		case 's':
			s.state = optarg;
			break;
		case 'h':
			s.hostname = optarg;
			break;
		case 'b':
			if (s.n_binds == CTR_MAX_BINDS)
				return den_err_usage(err, "at most %d --bind", CTR_MAX_BINDS);
			if (parse_bind(optarg, &s.binds[s.n_binds++], err) < 0)
				return -1;
			break;
		case 'c': {
			uint64_t n;
			if (!den_parse_u64(optarg, &n) || n < 1 || n > 255)
				return den_err_usage(err, "--cpus takes 1 to 255, not '%s'",
						     optarg);
			s.cpus = (unsigned)n;
			break;
		}
		case 'm': {
			const char *why;
			if (den_size_parse(optarg, DEN_MIB, &s.memory, &why) < 0 ||
			    s.memory < 4 * DEN_MIB)
				return den_err_usage(err, "--memory %s: %s", optarg,
						     s.memory ? "at least 4M" : why);
			break;
		}
		case 'f':
			if (s.n_fwds == sizeof(fwds) / sizeof(fwds[0]))
				return den_err_usage(err, "at most 64 --forward");
			if (usernet_parse_fwd(optarg, &fwds[s.n_fwds], err) < 0)
				return -1;
			s.n_fwds++;
			break;
		case 'F':
			if (s.n_files + CTR_SYSTEM_FILES >= CTR_MAX_FILES)
				return den_err_usage(err, "at most %d --file",
						     CTR_MAX_FILES - CTR_SYSTEM_FILES);
			if (parse_file(optarg, &s.files[s.n_files], err) < 0)
				return -1;
			s.n_files++;
			break;
		case 'C':
			s.control = optarg;
			break;
		case 'P':
			s.no_new_privs = true;
			break;
		case 'p':
			if (optarg[0] != '/')
				return den_err_usage(err, "--project takes an absolute path");
			s.project = optarg;
			break;
		case 'L':
			s.host_loopback = true;
			break;
		case 'N':
			if (s.n_nets == CTR_MAX_NETS)
				return den_err_usage(err, "at most %d --private-net", CTR_MAX_NETS);
			if (parse_private_net(optarg, &s.nets[s.n_nets], err) < 0)
				return -1;
			s.n_nets++;
			break;
		case 'H':
			if (add_host(optarg, &hosts, err) < 0)
				return -1;
			s.hosts = hosts;
			break;
		case 'i':
			if (strcmp(optarg, "den") != 0 && strcmp(optarg, "system") != 0)
				return den_err_usage(
					err, "--init takes den (den-init runs CMD) or system "
					     "(CMD is the box's own init, such as /sbin/init)");
			s.system_init = strcmp(optarg, "system") == 0;
			break;
		case 'S': {
			uint64_t port;
			if (!den_parse_u64(optarg, &port) || port < 1 || port > 65535)
				return den_err_usage(err, "--den-ssh takes a port, not '%s'",
						     optarg);
			sshd.port = (int)port;
			s.sshd = &sshd;
			break;
		}
		case 'E':
			if (n_env == CTR_SSHD_MAX_ENV || strchr(optarg, '=') == NULL)
				return den_err_usage(err, "--env takes NAME=VALUE (at most %d)",
						     CTR_SSHD_MAX_ENV);
			sshd.env[n_env++] = optarg;
			break;
		case 'W':
			if (optarg[0] != '/')
				return den_err_usage(err, "--workdir takes an absolute path");
			sshd.workdir = optarg;
			break;
		case 'n':
			if (strcmp(optarg, "host") != 0)
				return den_err_usage(err,
						     "--network takes 'host' (den's own network "
						     "is the default)");
			s.host_network = true;
			break;
		default:
			return den_err_usage(err, "unknown option '%s' for `den container run`",
					     argv[optind - 1]);
		}
	}
	if (s.rootfs == NULL || s.state == NULL || s.rootfs[0] != '/' || s.state[0] != '/')
		return den_err_usage(err, "`den container run` needs --rootfs DIR and --state DIR, "
					  "absolute");
	if (optind == argc && s.sshd == NULL)
		return den_err_usage(err,
				     "`den container run` needs a command after --, or --den-ssh");
	if (s.sshd != NULL && (optind != argc || s.system_init))
		return den_err_usage(err, "--den-ssh is the container's main process: no command, "
					  "no --init system");
	if (s.n_nets > 0 && s.host_network)
		return den_err_usage(err,
				     "--private-net needs den's own network, not --network host");
	s.argv = s.sshd ? NULL : argv + optind;
	if (s.sshd != NULL) {
		/* Its keys are den's files in the machine's folder, read before the root is entered. */
		char host[4096], client[4096];
		snprintf(host, sizeof(host), "%s/" KEYS_HOST, s.state);
		snprintf(client, sizeof(client), "%s/" KEYS_CLIENT ".pub", s.state);
		sshd.loopback = s.host_network;
		if (ctr_sshd_prepare(&sshd, host, client, err) < 0)
			return -1;
	}
	if (ctr_run(&s, &status, err) < 0)
		return -1;
	fflush(stdout);
	exit(status); /* the container's status is ours, as with `docker run` */
}

int cmd_container(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	(void)ctx;
	if (argc < 2 || strcmp(argv[1], "run") != 0)
		return den_err_usage(err, "usage: den container run --rootfs DIR --state DIR "
					  "[--hostname NAME] [--bind HOST:GUEST[:ro]] -- CMD...");
	return container_run(argc - 1, argv + 1, err);
}
