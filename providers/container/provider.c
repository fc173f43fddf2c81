/* SPDX-License-Identifier: MIT */
/*
 * The container provider: `den up` starts `den container run` (den
 * re-executed) as the machine's supervisor, detached, with sshd as the
 * container's main process and the machine's SSH port forwarded from
 * 127.0.0.1. State is asked of the supervisor's control socket.
 */
#include "providers/container/container-internal.h"
#include "providers/container/sshd.h"
#include "providers/guest_files.h"
#include "providers/provider.h"
#include "providers/network/network.h"
#include "core/cleanup.h"
#include "core/control.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/spawn.h"
#include "core/userns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 512
#define SSHD                                                                                       \
	"mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -o UsePAM=no "                            \
	"-o HostKey=/etc/ssh/ssh_host_ed25519_key -o PermitRootLogin=prohibit-password"

static int probe(struct den_err *err)
{
	struct userns_map m;

	/* Without root: the user's own namespace, which says what it lacks. */
	if (userns_rootless() && userns_map_for_user(&m, err) < 0)
		return -1;
	if (access("/dev/net/tun", R_OK | W_OK) < 0)
		return den_err_set(err, errno,
				   "the container provider needs /dev/net/tun for the "
				   "machine's network (or set network: host)");
	return 0;
}

struct argv_builder {
	char *v[MAX_ARGS];
	size_t n;
	bool oom;
};

static void add(struct argv_builder *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct argv_builder *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL || a->n + 1 >= MAX_ARGS) {
		free(s);
		a->oom = true;
		return;
	}
	a->v[a->n++] = s;
}

/*
 * sshd's settings when the box's init starts it (ssh.service): den's host
 * key, no PAM (pam_loginuid cannot work in a container), and with the
 * host's network den's port on 127.0.0.1. Debian's sshd_config reads
 * sshd_config.d/ first, and the first value of a setting wins.
 */
static int write_sshd_config(const struct den_machine *dm, int port, struct den_err *err)
{
	cleanup_free char *path = provider_path(dm, "sshd_config"), *text = NULL;
	char listen[96] = "";

	if (dm->cfg->network == NET_HOST)
		snprintf(listen, sizeof(listen), "Port %d\nListenAddress 127.0.0.1\n", port);
	if (path == NULL || asprintf(&text, GUEST_SSHD_HEADER "%s" GUEST_SSHD_SETTINGS, listen) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	return den_write_file_atomic(path, text, 0644, err);
}

/*
 * The image's Env and WorkingDir (a container image's box: boxes/image.h),
 * for den's SSH server to give its sessions. The box's metadata is
 * untrusted: what is not a plain NAME=value or an absolute path is left out.
 */
static void add_image_config(struct argv_builder *a, const char *box_dir)
{
	cleanup_free char *path = NULL, *text = NULL;
	struct den_err ignored = { 0 };
	json_error_t jerr;
	json_t *m, *config, *v;
	size_t i, n = 0;

	if (asprintf(&path, "%s/metadata.json", box_dir) < 0 ||
	    den_read_file(path, 1 << 20, &text, NULL, &ignored) < 0)
		return;
	m = json_loads(text, 0, &jerr);
	config = json_object_get(json_object_get(json_object_get(m, "den"), "image"), "config");
	json_array_foreach(json_object_get(config, "Env"), i, v)
	{
		const char *e = json_string_value(v);
		if (e != NULL && strchr(e, '=') != NULL && e[0] != '=' && n++ < CTR_SSHD_MAX_ENV)
			add(a, "--env=%s", e);
	}
	const char *wd = json_string_value(json_object_get(config, "WorkingDir"));
	if (wd != NULL && wd[0] == '/')
		add(a, "--workdir=%s", wd);
	json_decref(m);
}

/* The supervisor's command line: `den container run ...` for this machine. */
static void build_argv(const struct den_machine *dm, const struct provider_up_args *args, int port,
		       const int *hosts, const struct network_port *nets, struct argv_builder *a)
{
	const struct machine *c = dm->cfg;
	char ip[INET6_ADDRSTRLEN];

	add(a, "den");
	add(a, "container");
	add(a, "run");
	add(a, "--rootfs=%s/rootfs", args->box_dir);
	add(a, "--state=%s", dm->dir);
	add(a, "--hostname=%s", c->hostname);
	add(a, "--project=%s", dm->root);
	add(a, "--control=%s/control.sock", dm->dir);
	add(a, "--cpus=%u", c->cpus);
	add(a, "--memory=%lluB", (unsigned long long)c->memory);
	if (c->no_new_privs)
		add(a, "--no-new-privs");
	if (c->host_loopback)
		add(a, "--host-loopback");
	if (c->network == NET_HOST) {
		add(a, "--network=host");
	} else {
		add(a, "--forward=tcp:127.0.0.1:%d:22", port);
		for (size_t i = 0; i < c->n_ports; i++) {
			snprintf(ip, sizeof(ip), "%s", c->ports[i].host_ip);
			add(a, "--forward=%s:%s:%d:%u",
			    c->ports[i].protocol == FWD_UDP ? "udp" : "tcp", ip, hosts[i],
			    c->ports[i].guest);
		}
		/* Each switch port is the supervisor's descriptor 3 on (start_supervisor). */
		for (size_t i = 0; i < c->n_networks; i++)
			add(a, "--private-net=%zu:%s/%u", 3 + i, nets[i].ip, nets[i].prefix);
		for (const char *l = args->hosts; l != NULL && *l != '\0';) {
			size_t len = strcspn(l, "\n");
			add(a, "--host=%.*s", (int)len, l);
			l += len + (l[len] == '\n');
		}
	}
	for (size_t i = 0; i < c->n_folders; i++) {
		const struct synced_folder *f = &c->folders[i];
		bool ro = false;
		if (f->disabled || f->type != SYNC_NATIVE)
			continue;
		for (size_t j = 0; j < f->n_mount_options; j++)
			ro |= strcmp(f->mount_options[j], "ro") == 0;
		/* The login user owns the folder inside unless owner: says who (as Vagrant). */
		add(a, "--bind=%s:%s:%s,owner=%s%s%s", f->host_path, f->guest, ro ? "ro" : "rw",
		    f->owner ? f->owner : dm->rec.ssh_user, f->group ? ",group=" : "",
		    f->group ? f->group : "");
	}
	/* No sshd in the box: den's own SSH server, with the image's Env and WorkingDir. */
	if (args->box_den_ssh) {
		add(a, "--den-ssh=%d", c->network == NET_HOST ? port : 22);
		add_image_config(a, args->box_dir);
		return;
	}
	/* den's credentials go in from inside the container (see inside.c). */
	add(a, "--file=/etc/ssh/ssh_host_ed25519_key:0600::%s/" KEYS_HOST, dm->dir);
	add(a, "--file=/etc/ssh/ssh_host_ed25519_key.pub:0644::%s/" KEYS_HOST ".pub", dm->dir);
	add(a, "--file=~/.ssh/authorized_keys:0600:%s:%s/" KEYS_CLIENT ".pub", dm->rec.ssh_user,
	    dm->dir);
	if (args->box_system_init) {
		add(a, "--file=/etc/ssh/sshd_config.d/den.conf:0644::%s/sshd_config", dm->dir);
		add(a, "--init=system");
		add(a, "--");
		add(a, "/sbin/init");
		return;
	}
	add(a, "--");
	add(a, "/bin/sh");
	add(a, "-c");
	if (c->network == NET_HOST)
		add(a, SSHD " -p %d -o ListenAddress=127.0.0.1", port);
	else
		add(a, SSHD " -p 22");
}

static int start_supervisor(struct den_machine *dm, const struct provider_up_args *args, int port,
			    const int *hosts, pid_t *out, struct den_err *err)
{
	struct argv_builder a = { 0 };
	cleanup_free char *log = provider_path(dm, "console.log");
	cleanup_close int fd = -1;
	struct network_port nets[CTR_MAX_NETS];
	int net_fds[CTR_MAX_NETS];
	size_t n_nets = dm->cfg->n_networks;
	int rc;

	if (args->box_system_init && write_sshd_config(dm, port, err) < 0)
		return -1;
	if (n_nets > CTR_MAX_NETS)
		return den_err_set(err, 0,
				   "machine %s: a container is on at most %d private networks",
				   dm->cfg->name, CTR_MAX_NETS);
	/* Its ports on the project's switches: the supervisor carries their frames. */
	if (n_nets > 0 && network_join_all(dm, SOCK_SEQPACKET, nets, err) < 0)
		return -1;
	for (size_t i = 0; i < n_nets; i++)
		net_fds[i] = nets[i].fd;
	build_argv(dm, args, port, hosts, nets, &a);
	if (a.oom || log == NULL) {
		for (size_t i = 0; i < a.n; i++)
			free(a.v[i]);
		network_close_all(nets, n_nets);
		return den_err_set(err, ENOMEM, "cannot start machine %s", dm->cfg->name);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	/*
	 * den_spawn_start returns once the child has exec'd: until then it
	 * shows den up's command line, and a den killed then would leave a
	 * supervisor the next den cannot recognise.
	 */
	struct den_spawn sp = { .argv = (const char *const *)a.v,
				.path = "/proc/self/exe",
				.in = DEN_SPAWN_NULL,
				.out = fd,
				.err_fd = fd,
				.fds = net_fds,
				.n_fds = n_nets,
				.setsid = true };
	rc = fd < 0 ? den_err_set(err, errno, "cannot write %s", log)
		    : den_spawn_start(&sp, out, err);
	network_close_all(nets, n_nets);
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i]);
	return rc < 0 ? den_err_wrap(err, "cannot start machine %s", dm->cfg->name) : 0;
}

/*
 * Is pid still a supervisor of this machine (not a recycled pid)? Its
 * command line starts `den container run` and names the machine's folder
 * as a whole argument (machines/web must not match machines/web2).
 */
static bool is_our_supervisor(pid_t pid, const struct den_machine *dm)
{
	char buf[8192];
	size_t n = den_proc_cmdline(pid, buf, sizeof(buf));

	if (n == 0)
		return false;
	const char *want[] = { "den", "container", "run" };
	const char *a = buf;
	for (size_t i = 0; i < 3; i++, a += strlen(a) + 1)
		if (a >= buf + n || strcmp(a, want[i]) != 0)
			return false;
	for (; a < buf + n; a += strlen(a) + 1)
		if (strncmp(a, "--state=", 8) == 0)
			return machine_is_dir(dm, a + 8);
	return false;
}

/*
 * Supervisors of this machine by their command line, for one started by a
 * den killed before it recorded the pid (and maybe before the supervisor
 * had its control socket): SIGKILL to each; their containers follow.
 */
static void kill_unrecorded(const struct den_machine *dm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found[64];
	size_t n = 0;

	while (d != NULL && (e = readdir(d)) != NULL && n < 64) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end == '\0' && pid > 1 && pid != getpid() && is_our_supervisor((pid_t)pid, dm))
			found[n++] = (pid_t)pid;
	}
	if (d != NULL)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		kill(found[i], SIGKILL);
	for (size_t i = 0; i < n; i++)
		for (int t = 0; t < 100 && is_our_supervisor(found[i], dm); t++)
			usleep(10000);
}

/* Ends a supervisor still serving this machine (asked on its control socket, else killed). */
static void stop_leftover(struct den_machine *dm)
{
	cleanup_free char *sock = provider_path(dm, "control.sock");
	struct den_err ignored = { 0 };
	json_t *reply = NULL;

	if (sock != NULL && control_request(sock, "kill", &reply, &ignored) == 0) {
		json_decref(reply);
		for (int i = 0; i < 200 && control_request(sock, "status", &reply, &ignored) == 0;
		     i++) {
			json_decref(reply);
			usleep(10000);
		}
	}
	kill_unrecorded(dm);
}

/*
 * A synced folder of host root's is never mapped to a user inside: that
 * user could make setuid-root programs on the host (docs/decisions.md).
 * An owner: the Envfile names is refused; by default den says why the
 * machine cannot write there.
 */
static int check_folder_owners(const struct den_machine *dm, struct den_err *err)
{
	for (size_t i = 0; i < dm->cfg->n_folders; i++) {
		const struct synced_folder *f = &dm->cfg->folders[i];
		struct stat st;

		if (f->disabled || f->type != SYNC_NATIVE || stat(f->host_path, &st) < 0 ||
		    st.st_uid != 0)
			continue;
		if (f->owner != NULL)
			return den_err_set(
				err, 0,
				"machine %s: synced folder %s belongs to root on the "
				"host, and den never maps a machine's user to root (it "
				"could make setuid-root programs there): give the folder "
				"to a user (chown -R USER %s), or drop owner: %s",
				dm->cfg->name, f->host_path, f->host_path, f->owner);
		den_warn("machine %s: synced folder %s belongs to root on the host, so %s "
			 "cannot write to %s (den never maps a machine's user to root); chown "
			 "it to a user to write from the machine",
			 dm->cfg->name, f->host_path, dm->rec.ssh_user, f->guest);
	}
	return 0;
}

static int up(struct den_machine *dm, const struct provider_up_args *args, struct den_err *err)
{
	cleanup_free char *rootfs = NULL;
	pid_t pid = -1;
	int port;

	if (asprintf(&rootfs, "%s/rootfs", args->box_dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (!den_exists(rootfs))
		return den_err_set(err, 0,
				   "box %s has no rootfs/ folder: it is not a container box",
				   args->box_dir);
	/* Synced folders that may be created are created now. */
	for (size_t i = 0; i < dm->cfg->n_folders; i++)
		if (provider_create_folder(dm, &dm->cfg->folders[i], err) < 0)
			return -1;
	if (check_folder_owners(dm, err) < 0)
		return -1;
	cleanup_free char *upper = provider_path(dm, "upper");
	if (upper == NULL || den_mkdir_p(upper, 0755, err) < 0)
		return -1;
	/* A supervisor left by a den killed mid-up would share the upper layer: end it. */
	stop_leftover(dm);
	/* Only root may look in: the upper layer holds the container's setuid files. */
	if (keys_ensure(dm->dir, err) < 0 || chmod(dm->dir, 0700) < 0)
		return den_err_is_set(err) ? den_err_wrap(err, "machine %s", dm->cfg->name)
					   : den_err_set(err, errno, "cannot protect %s", dm->dir);
	/* state.json says "running" before the supervisor starts (see provider.h). */
	cleanup_free int *fwd_hosts = NULL;
	if (provider_record_start(dm, "container", &port, &fwd_hosts, err) < 0)
		return -1;
	den_crash_point("up:before-supervisor");
	if (start_supervisor(dm, args, port, fwd_hosts, &pid, err) < 0)
		return -1;
	den_crash_point("up:after-supervisor");
	if (provider_wait_control(dm, pid, "console.log", 6000, err) < 0)
		return -1;
	dm->rec.supervisor = pid;
	return machine_save(dm, err);
}

static int state(struct den_machine *dm, enum machine_state *out, struct den_err *err)
{
	cleanup_free char *sock = provider_path(dm, "control.sock");
	json_t *reply = NULL;

	(void)err;
	if (sock != NULL && control_request(sock, "status", &reply, err) == 0) {
		json_decref(reply);
		*out = MACHINE_RUNNING;
		return 0;
	}
	den_err_clear(err);
	*out = dm->rec.running ? MACHINE_ABORTED : MACHINE_STOPPED;
	return 0;
}

static int halt(struct den_machine *dm, bool force, struct den_err *err)
{
	cleanup_free char *sock = provider_path(dm, "control.sock");
	json_t *reply = NULL;
	pid_t pid = dm->rec.supervisor;
	unsigned wait_ms = force ? 2000 : (dm->cfg->graceful_halt_timeout + 1) * 1000;

	if (control_request(sock, force ? "kill" : "halt", &reply, err) == 0) {
		json_decref(reply);
		/* No pid recorded (den killed mid-up): wait for the socket to go quiet. */
		for (unsigned t = 0; pid <= 0 && t < wait_ms; t += 20) {
			if (control_request(sock, "status", &reply, err) < 0)
				break;
			json_decref(reply);
			usleep(20000);
		}
	}
	den_err_clear(err);
	for (unsigned t = 0; t < wait_ms && is_our_supervisor(pid, dm); t += 20)
		usleep(20000);
	if (is_our_supervisor(pid, dm)) {
		den_warn("machine %s did not stop within %u s; killing it", dm->cfg->name,
			 dm->cfg->graceful_halt_timeout);
		kill(pid, SIGKILL);
		for (int t = 0; t < 100 && is_our_supervisor(pid, dm); t++)
			usleep(20000);
		if (is_our_supervisor(pid, dm))
			return den_err_set(err, 0,
					   "machine %s: its supervisor (pid %d) is still there "
					   "after SIGKILL",
					   dm->cfg->name, (int)pid);
	}
	unlink(sock);
	return provider_record_halt(dm, err);
}

static int destroy(struct den_machine *dm, struct den_err *err)
{
	/* Its files go only once nothing of it runs (provider.h). */
	stop_leftover(dm);
	return provider_destroy(dm, halt, state, userns_rm_rf, err);
}

static int ssh_info(struct den_machine *dm, struct ssh_info *out, struct den_err *err)
{
	return provider_ssh_info(dm, NULL, out, err);
}

const struct provider_ops provider_container = {
	.name = "container",
	.probe = probe,
	.up = up,
	.halt = halt,
	.destroy = destroy,
	.state = state,
	.ssh_info = ssh_info,
};
