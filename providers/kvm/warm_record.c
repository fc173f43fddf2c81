/* SPDX-License-Identifier: MIT */
/*
 * What den tells a machine restored from a warm image (warm.h), as den's
 * seed hook reads it from den's channel: one "NAME BASE64" line per file
 * of its seed (user, authorized_keys, the host key, hostname), a new
 * machine_id and entropy, and the script that mounts its 9p folders. Base64 keeps every value one line of plain
 * ASCII on a raw serial line. The VMM puts "time" before and "end" after
 * as it sends.
 */
#include "providers/kvm/warm.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/lazylib.h"
#include "core/machine.h"
#include "providers/vm_ready.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define ENTROPY_BYTES 64

struct record {
	char *text;
	size_t len;
	bool oom;
};

/* "name BASE64(value[0..n))\n" onto r. */
static void put(struct record *r, const char *name, const void *value, size_t n)
{
	size_t b64 = 4 * ((n + 2) / 3);
	char *grown = r->oom ? NULL : realloc(r->text, r->len + strlen(name) + b64 + 3);

	if (grown == NULL) {
		r->oom = true;
		return;
	}
	r->text = grown;
	r->len += (size_t)sprintf(r->text + r->len, "%s ", name);
	r->len += (size_t)EVP_EncodeBlock((unsigned char *)r->text + r->len, value, (int)n);
	r->text[r->len++] = '\n';
	r->text[r->len] = '\0';
}

static void put_line(struct record *r, const char *name, const char *value)
{
	cleanup_free char *line = NULL;

	if (asprintf(&line, "%s\n", value) < 0)
		r->oom = true;
	else
		put(r, name, line, strlen(line));
}

int warm_record_write(const struct den_machine *dm, const char *path, struct den_err *err)
{
	cleanup_free char *key = NULL, *host_priv = NULL, *host_pub = NULL, *hostkey = NULL,
			  *mounts = NULL;
	uint8_t entropy[ENTROPY_BYTES], id[16];
	char machine_id[33];
	struct record r = { .text = NULL };
	size_t len;

	if (asprintf(&hostkey, "%s/" KEYS_HOST, dm->dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (den_crypto_load(err) < 0 || keys_public(dm->dir, KEYS_CLIENT, &key, err) < 0 ||
	    keys_public(dm->dir, KEYS_HOST, &host_pub, err) < 0 ||
	    den_read_own_file(hostkey, 64 << 10, &host_priv, &len, err) < 0 ||
	    vm_mount_script(dm, false, &mounts, err) < 0)
		return -1;
	if (getrandom(entropy, sizeof(entropy), 0) != (ssize_t)sizeof(entropy) ||
	    getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return den_err_set(err, errno, "cannot read random bytes from the host");
	for (size_t i = 0; i < sizeof(id); i++)
		snprintf(machine_id + 2 * i, 3, "%02x", id[i]);
	put_line(&r, "user", dm->rec.ssh_user);
	put_line(&r, "authorized_keys", key);
	put(&r, "ssh_host_ed25519_key", host_priv, len);
	put_line(&r, "ssh_host_ed25519_key.pub", host_pub);
	put_line(&r, "hostname", dm->cfg->hostname);
	put_line(&r, "machine_id", machine_id);
	put(&r, "entropy", entropy, sizeof(entropy));
	if (mounts != NULL)
		put(&r, "mounts", mounts, strlen(mounts));
	explicit_bzero(entropy, sizeof(entropy));
	int rc = r.oom ? den_err_set(err, ENOMEM, "machine %s", dm->cfg->name)
		       : den_write_file_atomic(path, r.text, 0600, err);
	if (r.text != NULL)
		explicit_bzero(r.text, r.len);
	free(r.text);
	return rc;
}
