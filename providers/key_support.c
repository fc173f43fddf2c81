/* SPDX-License-Identifier: MIT */
/*
 * The Envfile keys that not every provider does, and the check `den up`
 * makes before it starts a machine. Keys not listed here are done by every
 * provider (docs/envfile.md has the whole table, and
 * tests/unit/test_key_support.c checks that both say the same).
 */
#include "providers/key_support.h"

#include <string.h>

static bool asks_disk_size(const struct machine *c)
{
	return c->disk_size != 0;
}

static bool asks_host_network(const struct machine *c)
{
	return c->network == NET_HOST;
}

static bool asks_no_new_privs(const struct machine *c)
{
	return c->no_new_privs;
}

static bool asks_accel(const struct machine *c)
{
	return c->accel != ACCEL_AUTO;
}

static bool asks_box_key(const struct machine *c)
{
	return c->ssh.private_key_path != NULL;
}

static bool asks_keep_box_key(const struct machine *c)
{
	return !c->ssh.insert_key;
}

static bool asks_host_loopback(const struct machine *c)
{
	return c->host_loopback;
}

static bool asks_private_network(const struct machine *c)
{
	return c->n_networks > 0;
}

static bool asks_lxd(const struct machine *c)
{
	return (c->set & KEYBIT(ENVFILE_KEY_LXD)) != 0;
}

const struct key_support key_supports[] = {
	{ ENVFILE_KEY_DISK_SIZE,
	  "any",
	  asks_disk_size,
	  { "qemu", "kvm" },
	  "a container has no disk of its own; remove disk_size or use provider: qemu" },
	{ ENVFILE_KEY_NETWORK,
	  "host",
	  asks_host_network,
	  { "container" },
	  "a VM cannot share the host's network; use network: user (the default)" },
	{ ENVFILE_KEY_NO_NEW_PRIVS,
	  "true",
	  asks_no_new_privs,
	  { "container" },
	  "den cannot set it for the processes of a VM's own kernel; remove it" },
	{ ENVFILE_KEY_ACCEL,
	  "kvm or tcg",
	  asks_accel,
	  { "qemu" },
	  "accel picks QEMU's accelerator: den's VMM always runs on KVM, a container on "
	  "the host's kernel; remove accel" },
	{ ENVFILE_KEY_SSH_KEY,
	  "any",
	  asks_box_key,
	  { "qemu", "kvm" },
	  "a container gets den's key when it starts, before any box key could be "
	  "used; remove ssh.private_key_path" },
	{ ENVFILE_KEY_SSH_INSERT_KEY,
	  "false",
	  asks_keep_box_key,
	  { "qemu", "kvm" },
	  "den always puts its key in a container; remove ssh.insert_key" },
	{ ENVFILE_KEY_HOST_LOOPBACK,
	  "true",
	  asks_host_loopback,
	  { "qemu", "kvm", "container" },
	  "the gateway that reaches the host's loopback is den's user-mode network, which a "
	  "machine on LXD does not have; remove host_loopback" },
	{ ENVFILE_KEY_NETWORKS,
	  "any",
	  asks_private_network,
	  { "qemu", "kvm", "container" },
	  "den's private networks join den's own machines; on LXD, put the machines on an LXD "
	  "network through lxd: profiles instead" },
	{ ENVFILE_KEY_LXD,
	  "any",
	  asks_lxd,
	  { "lxd" },
	  "lxd: holds the lxd provider's settings; set provider: lxd, or remove lxd:" },
	{ ENVFILE_KEY_COUNT, NULL, NULL, { NULL }, NULL },
};

bool key_support_has(const struct key_support *row, const char *provider)
{
	for (size_t i = 0; i < sizeof(row->providers) / sizeof(row->providers[0]); i++)
		if (row->providers[i] != NULL && strcmp(row->providers[i], provider) == 0)
			return true;
	return false;
}

int provider_check_keys(const char *provider, const struct machine *cfg, const char *shown,
			struct den_err *err)
{
	for (const struct key_support *row = key_supports; row->asks != NULL; row++) {
		if (!row->asks(cfg) || key_support_has(row, provider))
			continue;
		struct envfile_pos p = cfg->key_pos[row->key];
		return den_err_kind_set(err, DEN_ERR_ENVFILE,
					"%s:%d:%d: %s in machine '%s': the %s provider does not "
					"do it (%s)",
					shown, p.line, p.col, envfile_key_name(row->key), cfg->name,
					provider, row->why);
	}
	return 0;
}
