/* SPDX-License-Identifier: MIT */
#include "core/keys.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"

#include <libssh/libssh.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int make_pair(const char *dir, const char *name, struct den_err *err)
{
	cleanup_free char *priv = NULL, *pub = NULL, *line = NULL;
	ssh_key key = NULL;
	char *b64 = NULL;

	if (asprintf(&priv, "%s/%s", dir, name) < 0 || asprintf(&pub, "%s/%s.pub", dir, name) < 0)
		return den_err_set(err, ENOMEM, "cannot make SSH keys");
	if (den_exists(priv) && den_exists(pub))
		return 0;
	if (den_ssh_load(err) < 0)
		return -1;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
		return den_err_set(err, 0, "cannot generate an ed25519 key (libssh)");
	unlink(priv);
	if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, priv) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		ssh_key_free(key);
		return den_err_set(err, 0, "cannot write the SSH key %s", priv);
	}
	ssh_key_free(key);
	if (chmod(priv, 0600) < 0) {
		ssh_string_free_char(b64);
		return den_err_set(err, errno, "cannot protect %s", priv);
	}
	int n = asprintf(&line, "ssh-ed25519 %s den\n", b64);
	ssh_string_free_char(b64);
	if (n < 0)
		return den_err_set(err, ENOMEM, "cannot make SSH keys");
	return den_write_file_atomic(pub, line, 0644, err);
}

int keys_ensure(const char *dir, struct den_err *err)
{
	if (den_mkdir_p(dir, 0755, err) < 0)
		return -1;
	return make_pair(dir, KEYS_CLIENT, err) < 0 ? -1 : make_pair(dir, KEYS_HOST, err);
}

int keys_public(const char *dir, const char *name, char **out, struct den_err *err)
{
	cleanup_free char *path = NULL;
	char *text = NULL;

	if (asprintf(&path, "%s/%s.pub", dir, name) < 0)
		return den_err_set(err, ENOMEM, "cannot read SSH keys");
	if (den_read_own_file(path, 16384, &text, NULL, err) < 0)
		return -1;
	text[strcspn(text, "\n")] = '\0';
	/* Drop the comment: "type base64". */
	char *sp = strchr(text, ' ');
	if (sp != NULL && (sp = strchr(sp + 1, ' ')) != NULL)
		*sp = '\0';
	*out = text;
	return 0;
}

int keys_write_known_hosts(const char *dir, const char *host, int port, struct den_err *err)
{
	cleanup_free char *pub = NULL, *path = NULL, *line = NULL;

	if (keys_public(dir, KEYS_HOST, &pub, err) < 0)
		return -1;
	if (asprintf(&path, "%s/known_hosts", dir) < 0 ||
	    asprintf(&line, "[%s]:%d %s\n", host, port, pub) < 0)
		return den_err_set(err, ENOMEM, "cannot write known_hosts");
	return den_write_file_atomic(path, line, 0644, err);
}
