/* SPDX-License-Identifier: MIT */
#include "providers/kvm/launch.h"
#include "providers/network/switch.h"
#include "core/cleanup.h"
#include "core/envfile.h"
#include "core/spawn.h"
#include "providers/kvm/vm_boot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* What the VMM adds to the box's command line: a reboot that ends the VM. */
#define CMDLINE_VMM "reboot=k panic=1 i8042.noaux i8042.nomux i8042.nopnp"

static void add(struct kvm_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct kvm_args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n == KVM_MAX_ARGS) {
		a->oom = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n], fmt, ap) < 0) {
		a->v[a->n] = NULL;
		a->oom = true;
	} else {
		a->n++;
	}
	va_end(ap);
}

void kvm_args_free(struct kvm_args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

/* den's user-mode network: SSH and the forwarded ports on the host's 127.0.0.1. */
static void add_net(const struct machine *cfg, const struct kvm_launch *l, struct kvm_args *a)
{
	char net[4096];
	size_t at = (size_t)snprintf(net, sizeof(net), "user%s",
				     cfg->host_loopback ? "" : ",no-host-loopback");

	if (l->port > 0)
		at += (size_t)snprintf(net + at, sizeof(net) - at, ",hostfwd=tcp:127.0.0.1:%d-:22",
				       l->port);
	for (size_t i = 0; l->hosts != NULL && i < cfg->n_ports && at < sizeof(net); i++)
		at += (size_t)snprintf(net + at, sizeof(net) - at, ",hostfwd=%s:%s:%d-:%u",
				       cfg->ports[i].protocol == FWD_UDP ? "udp" : "tcp",
				       cfg->ports[i].host_ip, l->hosts[i], cfg->ports[i].guest);
	if (at >= sizeof(net))
		a->oom = true;
	add(a, "--net=%s", net);
}

void kvm_launch_argv(const struct machine *cfg, const struct kvm_launch *l, struct kvm_args *a)
{
	const struct vm_boot *b = l->b;

	add(a, "den");
	add(a, "vmm");
	add(a, "run");
	if (l->restore != NULL) {
		add(a, "--restore=%s", l->restore);
		if (l->clone)
			add(a, "--clone");
	} else {
		add(a, "--kernel=%s", b->kernel);
		if (b->initrd != NULL)
			add(a, "--initrd=%s", b->initrd);
		add(a, "--cmdline=%s " CMDLINE_VMM, b->cmdline);
	}
	add(a, "--cpus=%u", cfg->cpus);
	add(a, "--memory=%lluM", (unsigned long long)(cfg->memory >> 20));
	/* disk_size grows the disk (never shrinks it: the VMM refuses that). */
	if (cfg->disk_size != 0)
		add(a, "--disk=%s/disk.cow,base=%s,size=%lluK", l->dir, b->image,
		    (unsigned long long)(cfg->disk_size >> 10));
	else
		add(a, "--disk=%s/disk.cow,base=%s", l->dir, b->image);
	if (l->seed != NULL)
		add(a, "--disk=%s,ro", l->seed);
	else
		add(a, "--disk=%s/seed.iso,ro", l->dir);
	add_net(cfg, l, a);
	for (size_t i = 0; i < l->n_shares; i++)
		add(a, "--share=%s,tag=%s%s", l->shares[i].path, l->shares[i].tag,
		    l->shares[i].ro ? ",ro" : "");
	for (size_t i = 0; i < l->n_privates; i++) {
		char mac[SWITCH_MAC_TEXT];
		switch_mac_text(l->privates[i].mac, mac);
		add(a, "--private-net=%zu,mac=%s", KVM_FD0 + l->n_shares + i, mac);
	}
	if (l->channel_in != NULL)
		add(a, "--channel-in=%s", l->channel_in);
	if (l->warm_save != NULL)
		add(a, "--warm-save=%s", l->warm_save);
	add(a, "--console=%s/console.log", l->dir);
	/* A template is not controlled (and its folder's path may be too long for a socket's). */
	if (l->warm_save == NULL)
		add(a, "--api=%s/control.sock", l->dir);
}

int kvm_launch_spawn(const struct machine *cfg, const struct kvm_launch *l, const char *log,
		     mode_t log_mode, bool detached, pid_t *pid, struct den_err *err)
{
	struct kvm_args a = { .n = 0 };
	cleanup_close int fd = -1;
	int fds[VMM_MAX_SHARES + VMM_MAX_PRIVATE], rc;

	for (size_t i = 0; i < l->n_shares; i++)
		fds[i] = l->shares[i].fd;
	for (size_t i = 0; i < l->n_privates; i++)
		fds[l->n_shares + i] = l->privates[i].fd;
	kvm_launch_argv(cfg, l, &a);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, log_mode);
	struct den_spawn sp = { .argv = (const char *const *)a.v,
				.path = "/proc/self/exe",
				.in = DEN_SPAWN_NULL,
				.out = fd,
				.err_fd = fd,
				.fds = fds,
				.n_fds = l->n_shares + l->n_privates,
				.close_fds = true,
				.setsid = detached,
				.death_signal = detached ? 0 : SIGKILL };
	if (a.oom)
		rc = den_err_set(err, ENOMEM, "the VMM's command line");
	else
		rc = fd < 0 ? den_err_set(err, errno, "cannot write %s", log)
			    : den_spawn_start(&sp, pid, err);
	kvm_args_free(&a);
	return rc;
}
