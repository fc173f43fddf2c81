/* SPDX-License-Identifier: MIT */
/*
 * What den tells a machine restored from a warm image (warm.h), as den's
 * seed hook reads it (the VMM puts it in guest memory): entries of a
 * "NAME LINES" line and that many lines of text, the shell's `read` being
 * all the hook needs to take them in, then "end". First the login user
 * (the hook decides from it whether to make one), then the host name, a
 * new machine-id, entropy (hex), den's key, the host key den made and the
 * script that mounts its 9p folders.
 */
#include "providers/kvm/warm.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/lazylib.h"
#include "core/machine.h"
#include "providers/vm_ready.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define ENTROPY_BYTES 64

struct record {
	char *text;
	size_t len;
	bool bad; /* out of memory, or a value that is not text */
};

/* "name LINES\n" and value (text; a last line without its newline gets one) onto r. */
static void put(struct record *r, const char *name, const char *value)
{
	size_t n = strlen(value), lines = 0;
	bool open_end = n > 0 && value[n - 1] != '\n';

	for (size_t i = 0; i < n; i++)
		lines += value[i] == '\n';
	lines += open_end;
	char *grown = r->bad ? NULL : realloc(r->text, r->len + strlen(name) + 24 + n + 2);
	if (grown == NULL) {
		r->bad = true;
		return;
	}
	r->text = grown;
	r->len += (size_t)sprintf(r->text + r->len, "%s %zu\n", name, lines);
	memcpy(r->text + r->len, value, n);
	r->len += n;
	if (open_end)
		r->text[r->len++] = '\n';
	r->text[r->len] = '\0';
}

/* A one-line value: a newline in it would be read as the next entry. */
static void put_line(struct record *r, const char *name, const char *value)
{
	if (value == NULL || strchr(value, '\n') != NULL)
		r->bad = true;
	else
		put(r, name, value);
}

/* n bytes as 2n lower-case hex digits and a NUL into out. */
static void to_hex(const uint8_t *bytes, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

int warm_record_write(const struct den_machine *dm, const char *path, struct den_err *err)
{
	cleanup_free char *key = NULL, *host_priv = NULL, *host_pub = NULL, *hostkey = NULL,
			  *mounts = NULL;
	uint8_t entropy[ENTROPY_BYTES], id[16];
	char machine_id[33], entropy_hex[2 * ENTROPY_BYTES + 1];
	struct record r = { .text = NULL };
	size_t len;

	if (asprintf(&hostkey, "%s/" KEYS_HOST, dm->dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (keys_public(dm->dir, KEYS_CLIENT, &key, err) < 0 ||
	    keys_public(dm->dir, KEYS_HOST, &host_pub, err) < 0 ||
	    den_read_own_file(hostkey, 64 << 10, &host_priv, &len, err) < 0 ||
	    vm_mount_script(dm, false, &mounts, err) < 0)
		return -1;
	if (getrandom(entropy, sizeof(entropy), 0) != (ssize_t)sizeof(entropy) ||
	    getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return den_err_set(err, errno, "cannot read random bytes from the host");
	to_hex(id, sizeof(id), machine_id);
	to_hex(entropy, sizeof(entropy), entropy_hex);
	put_line(&r, "user", dm->rec.ssh_user);
	put_line(&r, "hostname", dm->cfg->hostname);
	put_line(&r, "machine_id", machine_id);
	put_line(&r, "entropy", entropy_hex);
	put(&r, "authorized_keys", key);
	if (strlen(host_priv) != len)
		r.bad = true; /* a NUL in a PEM file: not den's key */
	put(&r, "ssh_host_ed25519_key", host_priv);
	put(&r, "ssh_host_ed25519_key.pub", host_pub);
	if (mounts != NULL)
		put(&r, "mounts", mounts);
	put(&r, "end", "");
	explicit_bzero(entropy, sizeof(entropy));
	explicit_bzero(entropy_hex, sizeof(entropy_hex));
	explicit_bzero(host_priv, len);
	int rc = r.bad ? den_err_set(err, 0,
				     "machine %s: cannot write den's record for its guest (out of "
				     "memory, or a user or host name that is not one line)",
				     dm->cfg->name)
		       : den_write_file_atomic(path, r.text, 0600, err);
	if (r.text != NULL)
		explicit_bzero(r.text, r.len);
	free(r.text);
	return rc;
}
