/* SPDX-License-Identifier: MIT */
/*
 * den's Ansible inventory, read back by the real ansible-inventory: values
 * a machine could have planted in its state stay one literal string, never
 * templated, and the Envfile's groups and group vars arrive with their types.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/envfile.h"
#include "core/fsutil.h"
#include "core/machine.h"
#include "core/shquote.h"
#include "provisioners/inventory.h"
#include "tests/helpers/testutil.h"

static bool have_ansible_inventory(void)
{
	return den_on_path("ansible-inventory");
}

/* `ansible-inventory -i path --list` as JSON; any file no plugin parses fails the run. */
static json_t *ansible_list(const char *dir, const char *path)
{
	cleanup_free char *qpath = shell_quote(path), *qdir = shell_quote(dir), *cmd = NULL,
			  *out = NULL;
	size_t len = 0;
	json_error_t jerr;

	cr_assert(qpath && qdir);
	cr_assert(asprintf(&cmd,
			   "cd %s && HOME=%s ANSIBLE_LOCAL_TEMP=%s/.tmp ANSIBLE_NOCOLOR=1 "
			   "ANSIBLE_INVENTORY_UNPARSED_FAILED=True "
			   "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=True "
			   "ansible-inventory -i %s --list 2>%s/.stderr",
			   qdir, qdir, qdir, qpath, qdir) >= 0);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	FILE *mem = open_memstream(&out, &len);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(mem);
	int status = pclose(p);
	cr_assert(status == 0, "ansible-inventory failed (%d); see %s/.stderr:\n%s", status, dir,
		  out);
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert_not_null(j, "ansible-inventory printed no JSON: %s\n%s", jerr.text, out);
	return j;
}

/* A host variable den wrote: a string marked unsafe ({"__ansible_unsafe": "..."} in --list). */
static const char *unsafe_text(json_t *vars, const char *key)
{
	json_t *v = json_object_get(vars, key);
	const char *s = json_string_value(json_object_get(v, "__ansible_unsafe"));

	cr_assert_not_null(s, "%s is not an unsafe (never templated) string", key);
	return s;
}

static json_t *hostvars(json_t *list, const char *host)
{
	json_t *v =
		json_object_get(json_object_get(json_object_get(list, "_meta"), "hostvars"), host);
	cr_assert_not_null(v, "no host %s in the inventory", host);
	return v;
}

/* The hosts of group in --list output, as "a,b". */
static char *members(json_t *list, const char *group)
{
	json_t *hosts = json_object_get(json_object_get(list, group), "hosts"), *h;
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	json_array_foreach(hosts, i, h) fprintf(f, "%s%s", i ? "," : "", json_string_value(h));
	fclose(f);
	return out;
}

Test(inventory, hostile_values_stay_one_literal_value)
{
	if (!have_ansible_inventory())
		cr_skip_test("ansible-inventory is not installed (apt-get install ansible-core)");
	char *dir = make_temp_dir(), path[4096], kh[4096];
	cleanup_free char *text = NULL, *servers = NULL;
	struct den_err err = { 0 };
	const char *connect = "den ansible_connection=local";
	const char *newline = "den\nansible_connection: local\nansible_become_exe: /bin/sh -c id";
	char jinja[4400], pwned[4200];

	/* A folder with a space and a quote: the ssh arguments are split like a shell line. */
	snprintf(kh, sizeof(kh), "%s/it's a dir/known_hosts", dir);
	/* Ansible templates inventory values: this would run on the host. */
	snprintf(pwned, sizeof(pwned), "%s/pwned", dir);
	snprintf(jinja, sizeof(jinja), "{{ lookup('pipe', 'touch %s') }}", pwned);
	struct prov_inv_host hosts[] = {
		{ "web", 2222, connect, "/k/web key", kh, NULL },
		{ "db", 2223, newline, "/k/db", "/kh/db", "127.0.0.2" }, /* a remote LXD's */
		{ "yes", 2224, "null", "/k/yes", "/kh/yes", NULL },
		{ "tpl", 2225, jinja, "/k/tpl", "/kh/tpl", NULL },
	};
	const char *groups = "{\"servers\": [\"web\", \"db\"], \"servers:vars\": {\"tier\": "
			     "\"backend\", \"n\": 3, \"ratio\": 1.0, \"on\": true, \"word\": "
			     "\"yes\", \"evil\": \"x\\n[all:vars]\\nansible_connection=local\"},"
			     " \"all:children\": [\"servers\"], \"solo\": \"yes\"}";

	cr_assert(prov_inventory_yaml(hosts, 4, groups, &text, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/" PROV_INVENTORY_FILE, dir);
	cr_assert(den_write_file_atomic(path, text, 0600, &err) == 0, "%s", err.msg);
	json_t *list = ansible_list(dir, path);

	json_t *web = hostvars(list, "web"), *db = hostvars(list, "db"), *y = hostvars(list, "yes");
	cr_expect_str_eq(unsafe_text(web, "ansible_user"), connect);
	cr_expect_str_eq(unsafe_text(db, "ansible_user"), newline);
	cr_expect_str_eq(unsafe_text(web, "ansible_host"), "127.0.0.1", "no address: loopback");
	cr_expect_str_eq(unsafe_text(db, "ansible_host"), "127.0.0.2", "the machine's own address");
	cr_expect_str_eq(unsafe_text(y, "ansible_user"), "null",
			 "a word YAML would read as null stays a string");
	cr_expect_str_eq(unsafe_text(hostvars(list, "tpl"), "ansible_user"), jinja);
	const char *name;
	json_t *vars;
	json_object_foreach(json_object_get(json_object_get(list, "_meta"), "hostvars"), name, vars)
	{
		cr_expect_null(json_object_get(vars, "ansible_connection"),
			       "host %s got an ansible_connection", name);
		cr_expect_null(json_object_get(vars, "ansible_become_exe"),
			       "host %s got an ansible_become_exe", name);
	}
	cr_expect_eq(json_integer_value(json_object_get(web, "ansible_port")), 2222);
	cr_expect_str_eq(unsafe_text(web, "ansible_host"), "127.0.0.1");
	cr_expect_str_eq(unsafe_text(web, "ansible_ssh_private_key_file"), "/k/web key");
	const char *args = unsafe_text(web, "ansible_ssh_common_args");
	cr_expect(strstr(args, "StrictHostKeyChecking=yes") != NULL, "%s", args);
	cr_expect(strstr(args, "IdentitiesOnly=yes") != NULL, "%s", args);
	cr_expect(strstr(args, "UserKnownHostsFile='") != NULL, "%s", args);
	cr_expect(strstr(args, "it'\\''s a dir/known_hosts'") != NULL,
		  "the path is quoted for Ansible's shlex split: %s", args);

	/* Group vars keep their types; the group's members and children are there. */
	cr_expect_str_eq(json_string_value(json_object_get(web, "tier")), "backend");
	cr_expect_eq(json_integer_value(json_object_get(web, "n")), 3);
	cr_expect(json_is_real(json_object_get(web, "ratio")), "1.0 stays a float");
	cr_expect(json_is_true(json_object_get(web, "on")));
	cr_expect_str_eq(json_string_value(json_object_get(db, "word")), "yes");
	cr_expect_str_eq(json_string_value(json_object_get(db, "evil")),
			 "x\n[all:vars]\nansible_connection=local");
	cr_expect_null(json_object_get(y, "tier"), "yes is not in servers");
	servers = members(list, "servers");
	cr_expect_str_eq(servers, "web,db");
	cr_expect_str_eq(json_string_value(json_array_get(
				 json_object_get(json_object_get(list, "solo"), "hosts"), 0)),
			 "yes", "a group given one name as a string");
	json_decref(list);

	/* A real run resolves the connection variables: nothing is templated. */
	cleanup_free char *cmd = NULL, *qdir = shell_quote(dir), *qpath = shell_quote(path);
	cr_assert(asprintf(&cmd,
			   "cd %s && HOME=%s ANSIBLE_LOCAL_TEMP=%s/.tmp ansible -i %s tpl -m "
			   "debug -a msg=hi >%s/.out 2>&1",
			   qdir, qdir, qdir, qpath, qdir) >= 0);
	cr_expect(system(cmd) == 0, "ansible failed; see %s/.out", dir);
	cr_expect(access(pwned, F_OK) != 0, "the SSH user was templated: a command ran");
	rm_rf(dir);
	free(dir);
}

Test(inventory, machines_that_exist_are_written_with_their_state)
{
	if (!have_ansible_inventory())
		cr_skip_test("ansible-inventory is not installed (apt-get install ansible-core)");
	char *dir = make_temp_dir(), home[4096], path[4096];
	const char *envfile = "den: 1\nmachines:\n  web: { box: den/debian-12 }\n"
			      "  db: { box: den/debian-12 }\n";
	struct envfile *ef = NULL;
	struct den_machine dm;
	struct den_err err = { 0 };

	snprintf(home, sizeof(home), "%s/home", dir);
	setenv("DEN_HOME", home, 1);
	cr_assert(envfile_load_buffer(envfile, strlen(envfile), "Envfile", dir, &ef, &err) == 0,
		  "%s", err.msg);
	cr_assert(machine_open(dir, envfile_machine(ef, "web"), &dm, &err) == 0, "%s", err.msg);
	dm.rec.provider = strdup("container");
	dm.rec.ssh_port = 2200;
	dm.rec.ssh_user = strdup("vagrant");
	cr_assert(machine_save(&dm, &err) == 0, "%s", err.msg);
	machine_close(&dm);

	snprintf(path, sizeof(path), "%s/" PROV_INVENTORY_FILE, dir);
	cr_assert(prov_inventory_write(ef, "{\"app\": [\"web\"], \"app:vars\": {\"x\": 1}}", path,
				       &err) == 0,
		  "%s", err.msg);
	json_t *list = ansible_list(dir, path);
	json_t *web = hostvars(list, "web");
	cr_expect_eq(json_integer_value(json_object_get(web, "ansible_port")), 2200);
	cr_expect_str_eq(unsafe_text(web, "ansible_user"), "vagrant");
	cr_expect_eq(json_integer_value(json_object_get(web, "x")), 1);
	cr_expect(strstr(unsafe_text(web, "ansible_ssh_private_key_file"), "/web/id_ed25519") !=
		  NULL);
	cr_expect_null(
		json_object_get(json_object_get(json_object_get(list, "_meta"), "hostvars"), "db"),
		"a machine not created is not in the inventory");
	json_decref(list);
	envfile_free(ef);
	rm_rf(dir);
	free(dir);
}
