/* SPDX-License-Identifier: MIT */
/*
 * What den does inside a VM (the qemu and kvm providers') over SSH once
 * it answers: on a Vagrant box's first boot, den's host key and login key
 * replace the box's (insert_key), and at every start the 9p synced
 * folders are mounted (owned, inside, by the folder's owner, else the
 * login user).
 */
#include "providers/vm_ready.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/shquote.h"
#include "core/ssh.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void vm_share_tag(size_t i, char *tag, size_t len)
{
	snprintf(tag, len, "den%zu", i);
}

struct tail {
	char text[512];
	size_t len;
};

/* Keeps the first stderr bytes of a command, for its error. */
static void keep_stderr(const char *buf, size_t len, int is_stderr, void *arg)
{
	struct tail *t = arg;
	size_t room = sizeof(t->text) - 1 - t->len;

	if (!is_stderr || room == 0)
		return;
	len = len < room ? len : room;
	memcpy(t->text + t->len, buf, len);
	t->len += len;
	t->text[t->len] = '\0';
}

static int run(struct den_machine *dm, struct den_ssh *ssh, const char *cmd, const char *what,
	       struct den_err *err)
{
	struct tail t = { .len = 0 };
	int status = -1;

	t.text[0] = '\0';
	if (den_ssh_exec(ssh, cmd, keep_stderr, &t, &status, err) < 0)
		return den_err_wrap(err, "machine %s: %s", dm->cfg->name, what);
	while (t.len > 0 && t.text[t.len - 1] == '\n')
		t.text[--t.len] = '\0';
	if (status != 0)
		return den_err_set(err, 0, "machine %s: %s failed (exit %d)%s%s", dm->cfg->name,
				   what, status, t.len ? ": " : "", t.text);
	return 0;
}

/* One folder's lines of the script vm_mount_shares runs as root; a failure names it and ends. */
static int share_script(FILE *f, const struct synced_folder *sf, const char *tag,
			const char *default_owner, bool unmount)
{
	cleanup_free char *guest = shell_quote(sf->guest), *quoted = NULL;
	cleanup_free char *owner = shell_quote(sf->owner ? sf->owner : default_owner);
	cleanup_free char *group = sf->group ? shell_quote(sf->group) : NULL;
	cleanup_free char *what = NULL;
	bool ro = false;

	for (size_t j = 0; j < sf->n_mount_options; j++)
		ro |= strcmp(sf->mount_options[j], "ro") == 0;
	if (asprintf(&what, "%s synced folder %s", unmount ? "unmounting" : "mounting", sf->guest) <
	    0)
		what = NULL;
	quoted = what ? shell_quote(what) : NULL;
	if (guest == NULL || owner == NULL || (sf->group && group == NULL) || quoted == NULL)
		return -1;
	if (unmount) {
		fprintf(f, "! mountpoint -q %s || umount %s || { echo %s >&2; exit 1; }\n", guest,
			guest, quoted);
		return 0;
	}
	/* Root of the share owned inside by its user (an xattr on the host: mapped-xattr). */
	fprintf(f,
		"mkdir -p %s && { mountpoint -q %s || mount -t 9p -o "
		"trans=virtio,version=9p2000.L,msize=262144%s %s %s; } && "
		"{ %s || chown %s%s%s %s; } || { echo %s >&2; exit 1; }\n",
		guest, guest, ro ? ",ro" : "", tag, guest, ro ? "true" : "false", owner,
		group ? ":" : "", group ? group : "", guest, quoted);
	return 0;
}

int vm_mount_script(const struct den_machine *dm, bool unmount, char **out, struct den_err *err)
{
	char *script = NULL;
	size_t len = 0,
	       share = 0; /* the folder's number among the shares: its tag (vm_shares_open) */
	FILE *f = open_memstream(&script, &len);
	int rc = 0;

	*out = NULL;
	if (f == NULL)
		return den_err_set(err, errno, "machine %s", dm->cfg->name);
	if (!unmount)
		fputs("modprobe 9pnet_virtio 2>/dev/null\n", f);
	for (size_t i = 0; i < dm->cfg->n_folders && rc == 0; i++) {
		const struct synced_folder *sf = &dm->cfg->folders[i];
		char tag[24];

		if (sf->disabled || sf->type != SYNC_NATIVE)
			continue;
		vm_share_tag(share++, tag, sizeof(tag));
		rc = share_script(f, sf, tag, dm->rec.ssh_user, unmount);
	}
	if (fclose(f) != 0 || rc < 0) {
		free(script);
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	}
	if (share == 0)
		free(script);
	else
		*out = script;
	return 0;
}

/*
 * All the folders in one script under one sudo: each sudo and each SSH
 * command costs a guest's process start, which is the bulk of the time in
 * a slow (nested, emulated) guest.
 */
int vm_mount_shares(struct den_machine *dm, struct den_ssh *ssh, bool unmount, struct den_err *err)
{
	cleanup_free char *script = NULL, *cmd = NULL, *quoted = NULL;

	if (vm_mount_script(dm, unmount, &script, err) < 0)
		return -1;
	if (script == NULL)
		return 0;
	quoted = shell_quote(script);
	if (quoted == NULL || asprintf(&cmd, "sudo sh -c %s", quoted) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	return run(dm, ssh, cmd, unmount ? "unmounting synced folders" : "mounting synced folders",
		   err);
}

/*
 * A Vagrant box's first boot: den's host key into sshd (read on its next
 * connection), and with insert_key den's login key instead of the box's.
 */
static int insert_keys(struct den_machine *dm, struct den_ssh *ssh, struct den_err *err)
{
	cleanup_free char *host_priv = NULL, *host_pub = NULL, *client_pub = NULL, *text = NULL;
	cleanup_free char *hostkey_path = provider_path(dm, KEYS_HOST),
			  *marker = provider_path(dm, "host_key_in");
	size_t len;

	if (hostkey_path == NULL || marker == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (den_read_own_file(hostkey_path, 64 << 10, &host_priv, &len, err) < 0 ||
	    keys_public(dm->dir, KEYS_HOST, &host_pub, err) < 0 ||
	    keys_public(dm->dir, KEYS_CLIENT, &client_pub, err) < 0 ||
	    asprintf(&text, "%s\n", host_pub) < 0)
		return den_err_is_set(err) ? -1 : den_err_set(err, ENOMEM, "machine");
	if (den_ssh_put_text(ssh, host_priv, strlen(host_priv), ".den-host-key", 0600, err) < 0 ||
	    den_ssh_put_text(ssh, text, strlen(text), ".den-host-key.pub", 0644, err) < 0)
		return den_err_wrap(err, "machine %s", dm->cfg->name);
	if (run(dm, ssh,
		"sudo install -m 0600 -o root -g root .den-host-key /etc/ssh/ssh_host_ed25519_key "
		"&& "
		"sudo install -m 0644 -o root -g root .den-host-key.pub "
		"/etc/ssh/ssh_host_ed25519_key.pub && rm -f .den-host-key .den-host-key.pub && "
		"{ sudo systemctl reload ssh 2>/dev/null || sudo systemctl reload sshd 2>/dev/null "
		"|| "
		"sudo service ssh reload; }",
		"putting den's host key in", err) < 0)
		return -1;
	if (!dm->cfg->ssh.insert_key)
		return den_write_file_atomic(marker, "", 0600, err);
	free(text);
	text = NULL;
	if (asprintf(&text, "%s\n", client_pub) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (den_ssh_put_text(ssh, text, strlen(text), ".ssh/authorized_keys", 0600, err) < 0)
		return den_err_wrap(err, "machine %s: cannot put den's key in", dm->cfg->name);
	/* Both keys in: from now on the host key is checked. Not before, so a failure retries. */
	if (den_write_file_atomic(marker, "", 0600, err) < 0)
		return -1;
	den_info("%s: replaced the box's insecure key with den's own", dm->cfg->name);
	free(dm->rec.ssh_key);
	dm->rec.ssh_key = NULL;
	return machine_save(dm, err);
}

/*
 * sshd re-executes itself on reload and, for a moment, refuses new
 * connections: wait until one logs in with den's keys, the host key
 * checked strictly, which also proves both keys are in.
 */
static int wait_for_den_keys(const struct provider_ops *ops, struct den_machine *dm,
			     struct den_err *err)
{
	for (int i = 0;; i++) {
		struct den_ssh *s = NULL;
		if (provider_ssh_open(ops, dm, 5, &s, err) == 0) {
			den_ssh_close(s);
			return 0;
		}
		if (i == 50)
			return den_err_wrap(err, "machine %s: after den put its keys in",
					    dm->cfg->name);
		den_err_clear(err);
		usleep(200000);
	}
}

int vm_ready(const struct provider_ops *ops, struct den_machine *dm, struct den_ssh *ssh,
	     bool folders_mounted, struct den_err *err)
{
	cleanup_free char *marker = provider_path(dm, "host_key_in");

	if (marker == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (dm->rec.ssh_key != NULL && !den_exists(marker)) {
		if (insert_keys(dm, ssh, err) < 0 || wait_for_den_keys(ops, dm, err) < 0)
			return -1;
	}
	return folders_mounted ? 0 : vm_mount_shares(dm, ssh, false, err);
}

int vm_box_key_record(struct den_machine *dm, struct den_err *err)
{
	cleanup_free char *marker = provider_path(dm, "host_key_in");

	if (marker == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	free(dm->rec.ssh_key);
	dm->rec.ssh_key = NULL;
	if (dm->cfg->ssh.private_key_path != NULL &&
	    (dm->rec.ssh_key = strdup(dm->cfg->ssh.private_key_path)) == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	unlink(marker);
	return machine_save(dm, err);
}

int vm_ssh_info(struct den_machine *dm, struct ssh_info *out, struct den_err *err)
{
	cleanup_free char *marker = provider_path(dm, "host_key_in");

	if (marker == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (provider_ssh_info(dm, dm->rec.ssh_key, out, err) < 0)
		return -1;
	/* A Vagrant box's first boot: its host key is its own until den's is in. */
	out->host_key_unchecked = dm->rec.ssh_key != NULL && !den_exists(marker);
	return 0;
}

bool vm_has_shares(const struct den_machine *dm)
{
	for (size_t i = 0; i < dm->cfg->n_folders; i++)
		if (!dm->cfg->folders[i].disabled && dm->cfg->folders[i].type == SYNC_NATIVE)
			return true;
	return false;
}

int vm_shares_over_ssh(const struct provider_ops *ops, struct den_machine *dm, bool unmount,
		       struct den_err *err)
{
	struct den_ssh *s = NULL;

	if (!vm_has_shares(dm))
		return 0;
	if (provider_ssh_open(ops, dm, 10, &s, err) < 0)
		return den_err_wrap(err, "cannot reach machine %s to %s its synced folders",
				    dm->cfg->name, unmount ? "unmount" : "mount");
	int rc = vm_mount_shares(dm, s, unmount, err);
	den_ssh_close(s);
	return rc;
}

int vm_snapshot_name_check(const char *name, struct den_err *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64 || name[0] == '-' || name[0] == '.' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return den_err_set(err, 0,
				   "snapshot name '%s': use letters, digits, '.', '_' and '-' "
				   "(up to 64, not first '-' or '.')",
				   name);
	return 0;
}
