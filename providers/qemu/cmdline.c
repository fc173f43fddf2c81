/* SPDX-License-Identifier: MIT */
#include "providers/qemu/cmdline.h"
#include "providers/network/switch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 256

struct args {
	char *v[MAX_ARGS];
	size_t n;
	bool failed;
	char *esc[2]; /* escaped values for the option being added */
};

static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (a->n + 1 >= MAX_ARGS || vasprintf(&s, fmt, ap) < 0) {
		a->failed = true;
		s = NULL;
	}
	va_end(ap);
	if (s != NULL)
		a->v[a->n++] = s;
}

/*
 * A value inside a QEMU option string, its commas doubled: a path with a
 * comma must stay one value, not become a second option. Kept in esc[i].
 */
static const char *escape(struct args *a, unsigned i, const char *v)
{
	size_t n = 0;

	free(a->esc[i]);
	a->esc[i] = malloc(2 * strlen(v) + 1);
	if (a->esc[i] == NULL) {
		a->failed = true;
		return "";
	}
	for (; *v; v++) {
		a->esc[i][n++] = *v;
		if (*v == ',')
			a->esc[i][n++] = ',';
	}
	a->esc[i][n] = '\0';
	return a->esc[i];
}

/* The card and den's network behind it, on the socket QEMU inherits as net_fd. */
static void network(struct args *a, const struct qemu_launch *l)
{
	add(a, "-netdev");
	add(a, "stream,id=net0,server=off,addr.type=fd,addr.str=%d", l->net_fd);
	add(a, "-device");
	add(a, "virtio-net-pci,netdev=net0");
	for (size_t i = 0; i < l->n_privates; i++) {
		char mac[SWITCH_MAC_TEXT];
		switch_mac_text(l->privates[i].mac, mac);
		add(a, "-netdev");
		add(a, "stream,id=private%zu,server=off,addr.type=fd,addr.str=%d", i,
		    l->privates[i].fd);
		add(a, "-device");
		add(a, "virtio-net-pci,netdev=private%zu,mac=%s,host_mtu=%d", i, mac, SWITCH_MTU);
	}
}

char **qemu_argv(const struct qemu_launch *l)
{
	struct args a = { .n = 0 };
	bool kvm = strcmp(l->accel, "kvm") == 0;

	add(&a, "qemu-system-x86_64");
	add(&a, "-name");
	add(&a, "den-%s", l->name);
	add(&a, "-machine");
	add(&a, "q35,accel=%s", kvm ? "kvm" : "tcg");
	add(&a, "-cpu");
	add(&a, kvm ? "host" : "max");
	add(&a, "-smp");
	add(&a, "%u", l->cpus ? l->cpus : 1);
	add(&a, "-m");
	add(&a, "%lluM", (unsigned long long)(l->memory >> 20));
	add(&a, "-nodefaults");
	add(&a, "-no-user-config");
	add(&a, "-display");
	add(&a, "none");
	add(&a, "-chardev");
	add(&a, "file,id=console,path=%s", escape(&a, 0, l->serial));
	add(&a, "-serial");
	add(&a, "chardev:console");
	add(&a, "-qmp");
	add(&a, "unix:%s,server=on,wait=off", escape(&a, 0, l->qmp));
	add(&a, "-pidfile");
	add(&a, "%s", l->pidfile);
	add(&a, "-drive");
	add(&a, "file=%s,if=virtio,format=qcow2,discard=unmap", escape(&a, 0, l->disk));
	if (l->seed != NULL) {
		add(&a, "-drive");
		add(&a, "file=%s,if=virtio,format=raw,readonly=on", escape(&a, 0, l->seed));
	}
	network(&a, l);
	add(&a, "-device");
	add(&a, "virtio-rng-pci");
	for (size_t i = 0; i < l->n_shares; i++) {
		const struct qemu_share *s = &l->shares[i];
		add(&a, "-virtfs");
		add(&a, "local,path=%s,mount_tag=%s,security_model=mapped-xattr,id=fs%zu%s",
		    escape(&a, 0, s->path), escape(&a, 1, s->tag), i, s->ro ? ",readonly=on" : "");
	}
	if (l->daemonize)
		add(&a, "-daemonize");
	free(a.esc[0]);
	free(a.esc[1]);
	char **out = a.failed ? NULL : calloc(a.n + 1, sizeof(char *));
	if (out != NULL) {
		memcpy(out, a.v, a.n * sizeof(char *));
		return out;
	}
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i]);
	return NULL;
}

void qemu_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (size_t i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}
