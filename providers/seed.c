/* SPDX-License-Identifier: MIT */
#include "providers/seed.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/machine.h"
#include "core/lazylib.h"
#include "core/yamlout.h"
#include "providers/network/switch.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

static void map_start(struct yamlout *m)
{
	yaml_event_t e;
	yamlout_event(
		m, &e,
		yaml_mapping_start_event_initialize(&e, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

static void map_end(struct yamlout *m)
{
	yaml_event_t e;
	yamlout_event(m, &e, yaml_mapping_end_event_initialize(&e));
}

static void seq_start(struct yamlout *m)
{
	yaml_event_t e;
	yamlout_event(
		m, &e,
		yaml_sequence_start_event_initialize(&e, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
}

static void seq_end(struct yamlout *m)
{
	yaml_event_t e;
	yamlout_event(m, &e, yaml_sequence_end_event_initialize(&e));
}

/* A string, quoted or in a literal block as libyaml sees fit for its content. */
static void str(struct yamlout *m, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t e;
	yamlout_event(m, &e,
		      yaml_scalar_event_initialize(&e, NULL, (yaml_char_t *)YAML_STR_TAG,
						   (yaml_char_t *)s, (int)strlen(s), 1, 1, style));
}

static void pair(struct yamlout *m, const char *k, const char *v)
{
	str(m, k, YAML_PLAIN_SCALAR_STYLE);
	str(m, v, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static void plain_pair(struct yamlout *m, const char *k, const char *v)
{
	yaml_event_t e;
	str(m, k, YAML_PLAIN_SCALAR_STYLE);
	/* A YAML boolean, not the string "false". */
	yamlout_event(m, &e,
		      yaml_scalar_event_initialize(&e, NULL, (yaml_char_t *)YAML_BOOL_TAG,
						   (yaml_char_t *)v, (int)strlen(v), 1, 0,
						   YAML_PLAIN_SCALAR_STYLE));
}

/* A YAML document of one mapping, after header (or nothing): begin, the caller's pairs, finish. */
static bool begin(struct yamlout *m, const char *header)
{
	if (!yamlout_begin(m, header))
		return false;
	map_start(m);
	return true;
}

static char *finish(struct yamlout *m, struct den_err *err)
{
	map_end(m);
	char *text = yamlout_finish(m);
	if (text == NULL)
		den_err_set(err, 0,
			    "cannot write the machine's cloud-init seed (a key or name "
			    "libyaml cannot write)");
	return text;
}

static char *meta_data(const struct seed_spec *s, struct den_err *err)
{
	struct yamlout m;

	if (!begin(&m, NULL)) {
		den_err_set(err, ENOMEM, "cannot write the machine's cloud-init seed");
		return NULL;
	}
	pair(&m, "instance-id", s->instance_id);
	pair(&m, "local-hostname", s->hostname);
	return finish(&m, err);
}

char *seed_user_data(const struct seed_spec *s, struct den_err *err)
{
	struct yamlout m;

	if (!begin(&m, "#cloud-config\n")) {
		den_err_set(err, ENOMEM, "cannot write the machine's cloud-init seed");
		return NULL;
	}
	pair(&m, "hostname", s->hostname);
	plain_pair(&m, "ssh_pwauth", "false");
	plain_pair(&m, "ssh_deletekeys", "true");
	str(&m, "users", YAML_PLAIN_SCALAR_STYLE);
	seq_start(&m);
	map_start(&m);
	pair(&m, "name", s->user);
	pair(&m, "sudo", "ALL=(ALL) NOPASSWD:ALL");
	pair(&m, "shell", "/bin/bash");
	plain_pair(&m, "lock_passwd", "true");
	str(&m, "ssh_authorized_keys", YAML_PLAIN_SCALAR_STYLE);
	seq_start(&m);
	str(&m, s->authorized_key, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	seq_end(&m);
	map_end(&m);
	seq_end(&m);
	/* den's host key, so den knows the machine's key before it first connects. */
	str(&m, "ssh_keys", YAML_PLAIN_SCALAR_STYLE);
	map_start(&m);
	str(&m, "ed25519_private", YAML_PLAIN_SCALAR_STYLE);
	str(&m, s->host_key_private, YAML_LITERAL_SCALAR_STYLE);
	pair(&m, "ed25519_public", s->host_key_public);
	map_end(&m);
	return finish(&m, err);
}

static int add_file(struct archive *a, const char *name, const char *text)
{
	struct archive_entry *e = archive_entry_new();
	size_t len = strlen(text);
	int rc = -1;

	if (e == NULL)
		return -1;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, time(NULL), 0);
	if (archive_write_header(a, e) == ARCHIVE_OK &&
	    archive_write_data(a, text, len) == (la_ssize_t)len)
		rc = 0;
	archive_entry_free(e);
	return rc;
}

/*
 * The same credentials as plain files under den/, for the seed hook in
 * den's own VM boxes (boxes/vm-guest/den-seed): no YAML to read there.
 * names[] and texts[] get them (texts malloc'd); false when out of memory.
 */
static bool den_files(const struct seed_spec *s, const char **names, char **texts)
{
	static const char *const files[] = { "den/user",
					     "den/authorized_keys",
					     "den/ssh_host_ed25519_key",
					     "den/ssh_host_ed25519_key.pub",
					     "den/hostname",
					     "den/networks",
					     "den/hosts" };

	for (size_t i = 0; i < DEN_ARRAY_SIZE(files); i++)
		names[i] = files[i];
	return asprintf(&texts[0], "%s\n", s->user) >= 0 &&
	       asprintf(&texts[1], "%s\n", s->authorized_key) >= 0 &&
	       (texts[2] = strdup(s->host_key_private)) != NULL &&
	       asprintf(&texts[3], "%s\n", s->host_key_public) >= 0 &&
	       asprintf(&texts[4], "%s\n", s->hostname) >= 0 &&
	       (texts[5] = strdup(s->networks ? s->networks : "")) != NULL &&
	       (texts[6] = strdup(s->hosts ? s->hosts : "")) != NULL;
}

/* An ISO 9660 image labelled cidata holding n files, to path (replacing it). */
static int write_iso(const char *path, const char *const *names, char *const *texts, size_t n,
		     struct den_err *err)
{
	cleanup_free char *tmp = NULL;
	struct archive *a = NULL;
	bool ok;

	if (den_archive_load(err) < 0)
		return -1;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return den_err_set(err, ENOMEM, "cannot write the cloud-init seed");
	a = archive_write_new();
	ok = a != NULL && archive_write_set_format_iso9660(a) == ARCHIVE_OK &&
	     archive_write_set_format_option(a, "iso9660", "volume-id", "cidata") == ARCHIVE_OK &&
	     archive_write_set_format_option(a, "iso9660", "joliet", "1") == ARCHIVE_OK &&
	     archive_write_set_format_option(a, "iso9660", "rockridge", "1") == ARCHIVE_OK &&
	     archive_write_open_filename(a, tmp) == ARCHIVE_OK;
	for (size_t i = 0; ok && i < n; i++)
		ok = add_file(a, names[i], texts[i]) == 0;
	if (!ok || archive_write_close(a) != ARCHIVE_OK) {
		den_err_set(err, 0, "cannot write the cloud-init seed %s: %s", path,
			    a ? archive_error_string(a) : "out of memory");
		unlink(tmp);
		if (a != NULL)
			archive_write_free(a);
		return -1;
	}
	archive_write_free(a);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return den_err_set(err, e, "cannot write the cloud-init seed %s", path);
	}
	return 0;
}

int seed_write(const char *path, const struct seed_spec *s, struct den_err *err)
{
	const char *names[9] = { "meta-data", "user-data" };
	char *texts[9] = { NULL };
	int rc = -1;

	if ((texts[1] = seed_user_data(s, err)) == NULL || (texts[0] = meta_data(s, err)) == NULL)
		goto out;
	if (!den_files(s, names + 2, texts + 2)) {
		den_err_set(err, ENOMEM, "cannot write the cloud-init seed");
		goto out;
	}
	rc = write_iso(path, names, texts, DEN_ARRAY_SIZE(texts), err);
out:
	for (size_t i = 0; i < DEN_ARRAY_SIZE(texts); i++)
		free(texts[i]);
	return rc;
}

int seed_write_warm(const char *path, const char *user, struct den_err *err)
{
	static const char *const names[] = { "meta-data", "den/warm", "den/user" };
	char meta[] = "instance-id: den-warm-template\n", warm[] = "1\n";
	cleanup_free char *line = NULL;

	if (asprintf(&line, "%s\n", user) < 0)
		return den_err_set(err, ENOMEM, "cannot write %s", path);
	char *const texts[] = { meta, warm, line };
	return write_iso(path, names, texts, DEN_ARRAY_SIZE(names), err);
}

/*
 * "MAC ADDRESS/PREFIX\n" for each of cfg's private networks, " dhcp"
 * before the newline for one that asks den's DHCP server (malloc'd), or
 * NULL.
 */
static char *networks_text(const struct machine *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->n_networks; i++) {
		uint8_t mac[ETH_ALEN_DEN];
		char shown[SWITCH_MAC_TEXT];
		switch_mac_of(cfg->networks[i].addr, mac);
		switch_mac_text(mac, shown);
		fprintf(f, "%s %s/%u%s\n", shown, cfg->networks[i].ip, cfg->networks[i].prefix,
			cfg->networks[i].dhcp ? " dhcp" : "");
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int seed_write_machine(const struct den_machine *dm, const char *path, const char *hosts,
		       struct den_err *err)
{
	cleanup_free char *key = NULL, *host_priv = NULL, *host_pub = NULL, *hostkey_path = NULL,
			  *id = NULL, *networks = networks_text(dm->cfg);
	size_t len;

	if (networks == NULL || asprintf(&hostkey_path, "%s/" KEYS_HOST, dm->dir) < 0 ||
	    asprintf(&id, "den-%s-%lld", dm->cfg->name, dm->rec.created) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (keys_public(dm->dir, KEYS_CLIENT, &key, err) < 0 ||
	    keys_public(dm->dir, KEYS_HOST, &host_pub, err) < 0 ||
	    den_read_own_file(hostkey_path, 64 << 10, &host_priv, &len, err) < 0)
		return -1;
	struct seed_spec s = { id,	  dm->cfg->hostname, dm->rec.ssh_user, key,
			       host_priv, host_pub,	     networks,	       hosts };
	return seed_write(path, &s, err);
}
