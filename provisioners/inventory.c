/* SPDX-License-Identifier: MIT */
#include "provisioners/inventory.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"
#include "core/machine.h"
#include "core/shquote.h"

#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One host: Ansible splits the line like a shell, and the ssh arguments a
 * second time, so paths are quoted for both (a project folder may hold
 * spaces or quotes).
 */
static void host_line(FILE *f, const struct den_machine *dm)
{
	cleanup_free char *kh = NULL, *qkh = NULL, *args = NULL, *qargs = NULL, *key = NULL,
			  *qkey = NULL;

	if (asprintf(&kh, "%s/known_hosts", dm->dir) < 0 || (qkh = shell_quote(kh)) == NULL ||
	    asprintf(&args,
		     "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
		     qkh) < 0 ||
	    (qargs = shell_quote(args)) == NULL || asprintf(&key, "%s/" KEYS_CLIENT, dm->dir) < 0 ||
	    (qkey = shell_quote(key)) == NULL)
		return;
	fprintf(f,
		"%s ansible_host=127.0.0.1 ansible_port=%d ansible_user=%s "
		"ansible_ssh_private_key_file=%s ansible_ssh_common_args=%s\n",
		dm->cfg->name, dm->rec.ssh_port, dm->rec.ssh_user ? dm->rec.ssh_user : "den", qkey,
		qargs);
}

/* An INI value: strings as they are, anything else as JSON. */
static void var_line(FILE *f, const char *name, json_t *v)
{
	if (json_is_string(v)) {
		fprintf(f, "%s=%s\n", name, json_string_value(v));
		return;
	}
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text != NULL)
		fprintf(f, "%s=%s\n", name, text);
	free(text);
}

static void groups(FILE *f, const char *groups_json)
{
	json_t *g = groups_json ? json_loads(groups_json, 0, NULL) : NULL;
	const char *name;
	json_t *v;

	json_object_foreach(g, name, v)
	{
		fprintf(f, "\n[%s]\n", name);
		size_t i;
		json_t *item;
		if (json_is_object(v)) {
			const char *k;
			json_t *x;
			json_object_foreach(v, k, x) var_line(f, k, x);
		} else if (json_is_array(v)) {
			json_array_foreach(v, i, item) if (json_is_string(item))
				fprintf(f, "%s\n", json_string_value(item));
		} else if (json_is_string(v)) {
			fprintf(f, "%s\n", json_string_value(v));
		}
	}
	json_decref(g);
}

int prov_inventory_write(struct envfile *ef, const char *groups_json, const char *path,
			 struct den_err *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return den_err_set(err, ENOMEM, "cannot write %s", path);
	fputs("# Made by den for the ansible provisioner: every machine that exists.\n", f);
	for (size_t i = 0; i < ef->n_machines; i++) {
		struct den_machine dm;
		struct den_err ignored = { 0 };
		if (machine_open(ef->root, &ef->machines[i], &dm, &ignored) < 0)
			continue;
		if (dm.exists && dm.rec.ssh_port > 0)
			host_line(f, &dm);
		machine_close(&dm);
	}
	groups(f, groups_json);
	if (fclose(f) != 0)
		return den_err_set(err, ENOMEM, "cannot write %s", path);
	return den_write_file_atomic(path, text, 0600, err);
}
