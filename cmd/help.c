/* SPDX-License-Identifier: MIT */
/*
 * `den help`, `den help CMD`, `den CMD --help`. Each command's full text
 * lives here, beside the others, like git's Documentation; a command's
 * issue updates its entry when it lands.
 */
#include "cmd/cmd.h"
#include "cmd/manual.h"

#include <stdio.h>
#include <string.h>

const struct cmd_usage cmd_usage_help = {
	.path = "help",
	.operands = { CMD_VALUE_COMMAND },
	.opts = { CMD_OPT("man", 0, CMD_VALUE_DIR, "DIR",
			  "write den's manual pages into DIR (the build does)") },
};

static const struct {
	const char *name;
	const char *text;
} help_texts[] = {
	{ "up", "usage: den up [MACHINE...] [--provider P] [--no-provision]\n"
		"              [--provision-with NAME,...]\n"
		"\n"
		"Creates the machines of the Envfile (all with autostart, or those named; a\n"
		"matrix name selects the whole matrix) and starts them: the box is taken as\n"
		"Envfile.lock says (downloaded when missing, and locked when new), the\n"
		"provider starts the machine, and den waits until SSH answers with the host\n"
		"key it gave the machine, within boot_timeout. Then the machines are\n"
		"provisioned: run: always steps, and run: once steps that have not yet\n"
		"succeeded on the machine (provisioned.json in its state folder).\n" },
	{ "halt", "usage: den halt [MACHINE...] [-f|--force]\n"
		  "\n"
		  "Stops machines gracefully, within graceful_halt_timeout; --force stops them\n"
		  "at once. Their files are kept: `den up` starts them again.\n" },
	{ "reload", "usage: den reload [MACHINE...] [--provision] [--provision-with NAME,...]\n"
		    "\n"
		    "Halts and starts machines again, picking up Envfile changes; --provision\n"
		    "runs every provisioner after (not only run: always ones).\n" },
	{ "destroy", "usage: den destroy [MACHINE...] [-f|--force]\n"
		     "\n"
		     "Stops machines and deletes everything den keeps for them (their state\n"
		     "folder under DEN_HOME, `den status --json` names it): no process, mount\n"
		     "or cgroup is left.\n" },
	{ "suspend",
	  "usage: den suspend [MACHINE...]\n\nPauses machines with their memory kept.\n" },
	{ "resume", "usage: den resume [MACHINE...]\n\nContinues suspended machines.\n" },
	{ "snapshot", "usage: den snapshot save|restore|list|delete [MACHINE] [NAME]\n\n"
		      "Named snapshots of a machine.\n" },
	{ "status", "usage: den status [MACHINE...] [--json]\n\n"
		    "Shows each machine of the Envfile with its state, provider and box.\n"
		    "MACHINE may be a name, a matrix name or a pattern such as 'web*'.\n\n"
		    "  --json    print the same as JSON on stdout\n" },
	{ "global-status",
	  "usage: den global-status [--prune] [--json]\n"
	  "\n"
	  "Shows every machine den knows of, in every project (from $DEN_HOME/index.json),\n"
	  "with its live state. --prune forgets projects that have no machine left.\n" },
	{ "port", "usage: den port [MACHINE] [--json]\n"
		  "\n"
		  "Shows a machine's forwarded ports as started (SSH first; auto_correct may have\n"
		  "moved some), else as the Envfile gives them.\n" },
	{ "ssh", "usage: den ssh [MACHINE] [-c CMD] [-- SSH-ARGS...]\n"
		 "\n"
		 "Logs in to a machine (the primary one, or the only one, by default) with\n"
		 "OpenSSH, checking the host key den gave it; with -c runs CMD and exits with\n"
		 "its status.\n" },
	{ "ssh-config",
	  "usage: den ssh-config [MACHINE...]\n"
	  "\n"
	  "Prints Host blocks for `ssh -F`, scp and rsync: port, user, den's key and the\n"
	  "machine's known_hosts file.\n" },
	{ "exec", "usage: den exec [MACHINE...|--all] [--quiet] -- CMD...\n\n"
		  "Runs CMD (through the login shell) on running machines in parallel, each\n"
		  "output line prefixed with the machine's name, then prints a table: machine,\n"
		  "box, exit code, time. With a matrix it tests a project across OS versions.\n"
		  "No machine named: all of them. --quiet prints only the table. Exits 1 when\n"
		  "any failed or was not running.\n" },
	{ "upload", "usage: den upload SRC [DST] [MACHINE]\n\n"
		    "Copies the host file or folder SRC into a machine (SFTP, as its SSH\n"
		    "user): to DST, by default the user's home with SRC's name; `~` is that\n"
		    "home. Folders are copied whole. Symlinks are copied as symlinks, never\n"
		    "followed (a machine can plant them in a synced folder); SRC with a\n"
		    "symlink on its way is refused. Fifos, sockets and devices in a folder\n"
		    "are skipped.\n" },
	{ "rsync",
	  "usage: den rsync [MACHINE...]\n\nSyncs folders of type rsync into machines.\n" },
	{ "provision", "usage: den provision [MACHINE...] [--provision-with NAME,...]\n\n"
		       "Runs the provisioners of running machines: every step but run: never\n"
		       "ones, or exactly the steps named. Output is streamed, each line\n"
		       "prefixed with the machine's name; a failed step stops that machine's\n"
		       "provisioning and den exits 1.\n" },
	{ "box",
	  "usage: den box SUBCOMMAND ...\n\n"
	  "Manages boxes: the versioned OS images machines start from. They live in\n"
	  "$DEN_HOME/boxes (default ~/.local/share/den/boxes).\n\n"
	  "  den box add NAME|URL|FILE [--box-version C] [--provider P]\n"
	  "              [--architecture A] [--checksum X --checksum-type T]\n"
	  "              [--name NAME] [--force] [--json]\n"
	  "      NAME (ORG/NAME) is looked up on $DEN_BOX_SERVER as SERVER/ORG/NAME, a\n"
	  "      Vagrant Cloud-style catalog. A URL (http, https, file) or FILE may be a\n"
	  "      catalog or a box file; a box file not built by den needs --name.\n"
	  "      Downloads resume after an interruption and are checked against the\n"
	  "      catalog's checksum. Inside a project, the box is recorded in\n"
	  "      Envfile.lock when a machine uses it. A container image becomes a\n"
	  "      container box: docker-archive:FILE, oci-archive:FILE, oci:DIR[:TAG],\n"
	  "      lxd:FILE|DIR (or the file itself); a VirtualBox, VMware or Hyper-V\n"
	  "      box is converted to a libvirt box (qemu, kvm) as it is added.\n"
	  "      oci://HOST/REPO[:TAG] is a box `den box push` put in a registry (no\n"
	  "      tag: the newest version tag --box-version allows).\n"
	  "  den box add   (in a project, no box named) fetches every box the Envfile\n"
	  "      needs: the versions Envfile.lock names, else it resolves and locks them\n"
	  "  den box list [--json]   with each VM box's warm images (WARM: how many, and\n"
	  "      how many this den can use) and where each box came from (FROM)\n"
	  "  den box remove NAME [--box-version V] [--provider P] [--architecture A] [--all]\n"
	  "      removes the box's folder, its warm images with it\n"
	  "  den box outdated [--global] [--json]   installed or locked versus the catalog\n"
	  "  den box update   newest versions the Envfile allows; rewrites Envfile.lock\n"
	  "  den box prune [--dry-run]   keeps the newest of each box and what the lock\n"
	  "      names; removes the warm images this den cannot use (another den's, or\n"
	  "      made on another CPU)\n"
	  "  den box build RECIPE [--output DIR] [--no-cache] [--no-add]\n"
	  "      debian-11, debian-12, debian-12-systemd, debian-13 (debootstrap, as root)\n"
	  "      or a recipe file; adds the box to the store (--no-add: only the file);\n"
	  "      cached by recipe hash in $DEN_BUILD_CACHE\n"
	  "      (default $DEN_HOME/build-cache)\n"
	  "  den box publish DIR [--base-url URL]   catalogs for a folder of box files\n"
	  "  den box package [MACHINE] [--output FILE]\n"
	  "  den box push BOX [oci://]HOST/REPO[:TAG] [--box-version V] [--provider P]\n"
	  "      pushes the box's version (newest by default), every provider and\n"
	  "      architecture in the store, to a container registry under one tag\n"
	  "      (default: the version). Blobs the registry has are not sent again.\n"
	  "      Logs in with the credentials `podman login` or `docker login` saved;\n"
	  "      a registry's CA: DEN_REGISTRY_CA or /etc/containers/certs.d/HOST/.\n"
	  "  den box warm BOX [--version V] [--cpus N] [--memory SIZE] [--disk-size SIZE]\n"
	  "              [--folders N] [--json]\n"
	  "      makes (or finds) the warm image of a VM box in the store ahead of the\n"
	  "      first `den up`: a booted machine of the box, saved, which the kvm\n"
	  "      provider restores for each new machine of that shape instead of booting\n"
	  "      it. The shape defaults to the Envfile's: 2 cpus, 1G of memory, the box's\n"
	  "      disk size, 1 synced folder (the default /vagrant). Needs a /dev/kvm den's\n"
	  "      VMM runs on, and a box built by a den that makes warm images; prints the\n"
	  "      warm image's folder. See docs/vmm.md, \"Warm images\".\n\n"
	  "DEN_BOX_MAX_SIZE caps what a box may unpack to (default 64G).\n" },
	{ "init", "usage: den init [TEMPLATE] [--box NAME] [--force] [--list]\n"
		  "       den init --from VAGRANTFILE [--force]\n\n"
		  "Writes an Envfile in the current folder from a template:\n"
		  "  default   one machine with the project folder synced to /work\n"
		  "  multi     a web and a db machine\n"
		  "  matrix    one machine per Debian release, for testing across them\n\n"
		  "With --from, from a Vagrantfile: den runs it in Ruby (as Vagrant does, so\n"
		  "loops and conditions work; Debian's ruby package) against a recording\n"
		  "stand-in for Vagrant's configuration, and writes boxes, box versions, cpus\n"
		  "and memory of the provider blocks, forwarded ports, private networks,\n"
		  "synced folders, shell, file and ansible provisioners and each define as\n"
		  "den's. What it cannot convert is listed with the Vagrantfile's line, on\n"
		  "stderr and atop the Envfile. Only convert a Vagrantfile you would run.\n" },
	{ "validate", "usage: den validate [--json]\n\n"
		      "Reads the Envfile and reports every mistake with its line and column.\n"
		      "Exits 0 when the Envfile is valid, 2 when it is not. Nothing is changed.\n\n"
		      "  --json    print the machines as den sees them (defaults merged, matrix\n"
		      "            expanded) as JSON on stdout\n" },
	{ "version", "usage: den version [--json]\n\n"
		     "Prints den's version; with -v or --json also the libraries it uses.\n" },
	{ "help", "usage: den help [COMMAND]\n"
		  "       den help --man DIR\n"
		  "\n"
		  "Shows the commands, or one command's help. --man writes den's manual pages\n"
		  "(den.1 and den-COMMAND.1 for each command), made from the same help.\n" },
	{ "completion",
	  "usage: den completion bash|zsh|fish\n"
	  "\n"
	  "Prints the shell's completion script for den: commands, sub-commands,\n"
	  "options, the Envfile's machines and provisioner steps, boxes in the store,\n"
	  "templates and a machine's snapshots. `make install` puts them where each\n"
	  "shell looks; to try one now:\n"
	  "  source <(den completion bash)\n"
	  "  source <(den completion zsh)\n"
	  "  den completion fish | source\n"
	  "The scripts ask `den completion --complete -- WORDS...` for the candidates.\n" },
	{ "doctor", "usage: den doctor [--json]\n"
		    "\n"
		    "Says what this host can run: each provider (kvm, qemu, container, lxd) and\n"
		    "what it needs (/dev/kvm and whether den's VMM runs on it, QEMU and its\n"
		    "accelerators, namespaces, overlayfs, the cgroup layout, /dev/net/tun,\n"
		    "idmapped mounts, an LXD that answers) and the tools provisioning uses. Each\n"
		    "line says ok, or what is missing and what to do. Exits 1 when no provider\n"
		    "can run here.\n" },
	{ "lxd", "usage: den lxd trust https://HOST[:PORT] [--token TOKEN]\n"
		 "\n"
		 "Makes den and the LXD at that address trust each other, for machines with\n"
		 "`lxd: {remote: https://HOST:PORT}`. On the server, `lxc config trust add\n"
		 "--name den` prints a token (without --token, den reads it from stdin). den\n"
		 "checks that the server's certificate is the one the token names, pins it\n"
		 "in $DEN_HOME/lxd/servers, and has LXD trust den's client certificate\n"
		 "($DEN_HOME/lxd/client.crt, made on first use). Later connections trust\n"
		 "that certificate only. See docs/lxd.md, \"A remote LXD\".\n" },
	{ "vmm", "usage: den vmm run --kernel BZIMAGE [--initrd FILE] [--cmdline STR]\n"
		 "                   [--cpus N] [--memory SIZE]\n"
		 "                   [--disk FILE[,ro][,base=IMAGE[,size=SIZE]]]...\n"
		 "                   [--net user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT]...]\n"
		 "                   [--share PATH,tag=TAG[,ro]]... [--private-net FD,mac=MAC]...\n"
		 "                   [--console stdio|FILE] [--api SOCKET]\n"
		 "                   [--quiet-timeout SECONDS]\n\n"
		 "Boots a Linux bzImage in the foreground with den's own VMM on /dev/kvm\n"
		 "(plumbing; docs/vmm.md). The serial console is on stdio (a terminal goes\n"
		 "raw: Ctrl-A x stops the VM, Ctrl-A h lists the keys) or in FILE. --net user\n"
		 "gives the guest den's user-mode network (DHCP 10.0.2.15, gateway 10.0.2.2);\n"
		 "hostfwd forwards a host port to it. --disk FILE,base=IMAGE makes FILE a\n"
		 "copy-on-write overlay over the raw IMAGE (never written), size= its size.\n"
		 "--share shares a host folder over virtio-9p (up to 4); the guest mounts it\n"
		 "with mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 TAG DIR.\n"
		 "--private-net gives a card on a private network's switch port, the\n"
		 "inherited SOCK_SEQPACKET descriptor FD, with that MAC (docs/networks.md).\n"
		 "--api SOCKET answers JSON lines: status,\n"
		 "pause, resume, stop. Exit status: 0 when the guest reboots or powers off (or\n"
		 "is stopped), 1 on a VMM error, 2 on bad arguments. Default command line:\n"
		 "console=ttyS0 reboot=k panic=1.\n" },
	{ "container",
	  "usage: den container run --rootfs DIR --state DIR [--hostname NAME]\n"
	  "                         [--bind HOST:GUEST[:ro]]... [--network host] -- CMD...\n"
	  "       den container run ... --den-ssh PORT [--env NAME=VALUE]... [--workdir DIR]\n\n"
	  "Runs CMD in a container in the foreground (plumbing; the container provider's\n"
	  "supervisor is built on it): new pid, mount, uts, ipc, net and cgroup\n"
	  "namespaces; an overlayfs root with DIR as its read-only lower layer and\n"
	  "STATE/upper for writes; /proc, read-only /sys, a small /dev; den-init as\n"
	  "PID 1. Exits with CMD's status. Needs root. With --den-ssh, den's own SSH\n"
	  "server is the main process instead of CMD (for images with no sshd), with\n"
	  "STATE's host key and den's key, its sessions in the image's /bin/sh.\n" },
	{ "net", "usage: den net run --fd N [--ready-fd M] [--host-loopback]\n"
		 "                   [--forward [tcp:|udp:][IP:]HOSTPORT:GUESTPORT]...\n\n"
		 "Serves den's user-mode network (DHCP 10.0.2.15, gateway 10.0.2.2, DNS\n"
		 "10.0.2.3) to a QEMU `-netdev stream` peer on the inherited socket N, until\n"
		 "it hangs up (plumbing; the qemu provider runs one per machine). The\n"
		 "gateway reaches the host's 127.0.0.1 only with --host-loopback. Once the\n"
		 "ports are bound it writes a byte to descriptor M.\n\n"
		 "usage: den net switch --control PATH [--lock FILE] [--ready-fd M]\n\n"
		 "Serves a private network's Ethernet switch on the control socket PATH\n"
		 "(plumbing): machines attach with a socket pair's end and the MAC den gave\n"
		 "them; frames from another machine's MAC or of no Ethernet length are\n"
		 "dropped. It ends when its last machine has gone.\n" },
};

const char *cmd_help_text(const char *name)
{
	for (size_t i = 0; i < sizeof(help_texts) / sizeof(help_texts[0]); i++)
		if (strcmp(help_texts[i].name, name) == 0)
			return help_texts[i].text;
	return NULL;
}

/* text from column indent on, broken at spaces before column 80 */
static void print_wrapped(const char *text, int indent)
{
	const char *p = text;

	while (strlen(p) > (size_t)(80 - indent)) {
		const char *brk = p + (80 - indent);
		while (brk > p && *brk != ' ')
			brk--;
		if (brk == p)
			break; /* one long word: as it is */
		printf("%.*s\n%*s", (int)(brk - p), p, indent, "");
		p = brk + 1;
	}
	printf("%s\n", p);
}

/* "  -p, --provider P   start new machines with..." for each option of u. */
static void print_opts(const struct cmd_usage *u)
{
	char tag[96];

	for (cmd_usage_each_opt(o, u)) {
		int n = 0;
		if (o->letter != 0)
			n = snprintf(tag, sizeof(tag), "-%c%s", o->letter, o->name[0] ? ", " : "");
		if (o->name[0] != '\0' && n >= 0 && (size_t)n < sizeof(tag))
			n += snprintf(tag + n, sizeof(tag) - (size_t)n, "--%s", o->name);
		if (o->meta != NULL && n >= 0 && (size_t)n < sizeof(tag))
			snprintf(tag + n, sizeof(tag) - (size_t)n, " %s", o->meta);
		if (strlen(tag) <= 22)
			printf("  %-22s  ", tag);
		else
			printf("  %s\n  %-22s  ", tag, "");
		print_wrapped(o->help, 26);
	}
}

/* The options of a command's usage and of its sub-commands'. */
static void print_usage_opts(const struct den_cmd *c)
{
	const struct cmd_usage *u = cmd_usage_find(c->name), *sub;
	size_t at = 0;

	if (cmd_usage_has_opts(u) || (c->flags & PARALLEL))
		puts("\nOptions:");
	if (cmd_usage_has_opts(u))
		print_opts(u);
	if (c->flags & PARALLEL)
		print_opts(&cmd_usage_parallel);
	while ((sub = cmd_usage_next_sub_with_opts(c->name, &at)) != NULL) {
		printf("\nOptions of den %s:\n", sub->path);
		print_opts(sub);
	}
}

static void list_commands(bool plumbing)
{
	for (const struct den_cmd *c = den_commands; c->name != NULL; c++) {
		if (!!(c->flags & PLUMBING) != plumbing)
			continue;
		printf("   %-14s %s\n", c->name, c->summary);
	}
}

int cmd_help(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	(void)ctx;
	if (argc >= 2 && strcmp(argv[1], "--man") == 0) {
		if (argc != 3)
			return den_err_usage(err, "usage: den help --man DIR");
		return manual_write_all(argv[2], err);
	}
	if (argc >= 2 && argv[1] != NULL) {
		const struct den_cmd *c = cmd_find(argv[1]);
		const char *text = cmd_help_text(argv[1]);

		if (c == NULL || text == NULL)
			return den_err_usage(err,
					     "no help for '%s': it is not a den command; see "
					     "`den help`",
					     argv[1]);
		fputs(text, stdout);
		if (c->flags & PARALLEL)
			fputs("\nSeveral machines go side by side, each line prefixed with its "
			      "name; one\n"
			      "failing stops none of the others, and the end says ok or the error "
			      "for\n"
			      "each.\n",
			      stdout);
		print_usage_opts(c);
		return 0;
	}
	puts("den: declarative development machines from an Envfile\n\n"
	     "usage: den [-C DIR] [-v | -q] [--json] [--no-color] COMMAND [ARGS...]\n\n"
	     "Commands:");
	list_commands(false);
	puts("\nPlumbing:");
	list_commands(true);
	puts("\nOptions for every command:\n"
	     "   -C DIR         act as if den was started in DIR\n"
	     "   -v, -vv        say more; -q says only errors\n"
	     "   --json         machine-readable output, for commands that report\n"
	     "   --no-color     no colour (NO_COLOR=1 does the same)\n\n"
	     "`den help COMMAND` or `den COMMAND --help` shows a command's help.");
	return 0;
}
