/* SPDX-License-Identifier: MIT */
/* The Envfile model: every key, defaults merging, matrix expansion, sizes, ports. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "core/envfile.h"
#include "core/size.h"
#include "tests/helpers/testutil.h"

static char *root;

static void setup(void)
{
	root = make_temp_dir();
	write_file(root, "scripts/setup.sh", "#!/bin/sh\necho hi\n");
	write_file(root, "conf/app.conf", "x=1\n");
	write_file(root, "ansible/site.yml", "- hosts: all\n");
	write_file(root, "ansible/requirements.yml", "[]\n");
	write_file(root, "src/.keep", "");
}

static void teardown(void)
{
	rm_rf(root);
	free(root);
}

TestSuite(envfile, .init = setup, .fini = teardown);

static struct envfile *load(const char *text)
{
	struct envfile *ef = NULL;
	struct den_err err = { 0 };

	cr_assert(envfile_load_buffer(text, strlen(text), "Envfile", root, &ef, &err) == 0,
		  "Envfile refused: %s", err.msg);
	return ef;
}

static const char *load_error(const char *text)
{
	static struct den_err err;
	struct envfile *ef = NULL;

	memset(&err, 0, sizeof(err));
	cr_assert(envfile_load_buffer(text, strlen(text), "Envfile", root, &ef, &err) < 0,
		  "Envfile was accepted");
	cr_assert_eq(err.kind, DEN_ERR_ENVFILE);
	return err.msg;
}

Test(envfile, a_bare_machine_gets_the_documented_defaults)
{
	struct envfile *ef = load("den: 1\nmachines:\n  web: { box: den/debian-12 }\n");
	struct machine *cfg = envfile_machine(ef, "web");

	cr_assert_not_null(cfg);
	cr_expect_str_eq(cfg->box, "den/debian-12");
	cr_expect_null(cfg->box_version);
	cr_expect_null(cfg->provider);
	cr_expect_eq(cfg->cpus, 2);
	cr_expect_eq(cfg->memory, DEN_GIB);
	cr_expect_eq(cfg->disk_size, 0);
	cr_expect_str_eq(cfg->hostname, "web");
	cr_expect(cfg->autostart);
	cr_expect(!cfg->primary);
	cr_expect_eq(cfg->boot_timeout, 120);
	cr_expect_eq(cfg->graceful_halt_timeout, 60);
	cr_expect_eq(cfg->network, NET_USER);
	cr_expect_eq(cfg->accel, ACCEL_AUTO);
	cr_expect(cfg->ssh.insert_key);
	cr_expect_eq(cfg->n_ports + cfg->n_folders + cfg->n_steps + cfg->n_networks, 0);
	cr_expect_str_eq(ef->root, root);
	cr_expect_str_eq(ef->name, strrchr(root, '/') + 1);
	envfile_free(ef);
}

Test(envfile, every_machine_key_is_read)
{
	struct envfile *ef = load("den: 1\n"
				  "name: shop\n"
				  "machines:\n"
				  "  web:\n"
				  "    box: acme/base\n"
				  "    box_version: \"~> 1.2, != 1.2.5\"\n"
				  "    box_url: http://127.0.0.1:8000/acme/base\n"
				  "    provider: qemu\n"
				  "    cpus: 4\n"
				  "    memory: 2048\n"
				  "    disk_size: 20G\n"
				  "    hostname: web.shop.test\n"
				  "    primary: yes\n"
				  "    autostart: false\n"
				  "    boot_timeout: 300\n"
				  "    graceful_halt_timeout: 0\n"
				  "    network: host\n"
				  "    accel: tcg\n"
				  "    ssh: { username: vagrant, private_key_path: keys/insecure, "
				  "insert_key: off }\n"
				  "    private_networks:\n"
				  "      - { ip: 192.168.56.10 }\n"
				  "      - { ip: 10.10.0.2, netmask: 255.255.0.0 }\n");
	struct machine *cfg = envfile_machine(ef, "web");

	cr_assert_not_null(cfg);
	cr_expect_str_eq(ef->name, "shop");
	cr_expect_str_eq(cfg->box, "acme/base");
	cr_expect_str_eq(cfg->box_version, "~> 1.2, != 1.2.5");
	cr_expect_str_eq(cfg->box_url, "http://127.0.0.1:8000/acme/base");
	cr_expect_str_eq(cfg->provider, "qemu");
	cr_expect_eq(cfg->cpus, 4);
	cr_expect_eq(cfg->memory, 2 * DEN_GIB, "a bare memory number is MiB");
	cr_expect_eq(cfg->disk_size, 20 * DEN_GIB);
	cr_expect_str_eq(cfg->hostname, "web.shop.test");
	cr_expect(cfg->primary);
	cr_expect(!cfg->autostart);
	cr_expect_eq(cfg->boot_timeout, 300);
	cr_expect_eq(cfg->graceful_halt_timeout, 0);
	cr_expect_eq(cfg->network, NET_HOST);
	cr_expect_eq(cfg->accel, ACCEL_TCG);
	cr_expect_str_eq(cfg->ssh.username, "vagrant");
	cr_expect(strstr(cfg->ssh.private_key_path, "/keys/insecure") != NULL);
	cr_expect(cfg->ssh.private_key_path[0] == '/', "key path resolved against the project");
	cr_expect(!cfg->ssh.insert_key);
	cr_assert_eq(cfg->n_networks, 2);
	cr_expect_str_eq(cfg->networks[0].ip, "192.168.56.10");
	cr_expect_eq(cfg->networks[0].prefix, 24);
	cr_expect_eq(cfg->networks[1].prefix, 16);
	envfile_free(ef);
}

Test(envfile, forwarded_ports_in_both_spellings)
{
	struct envfile *ef =
		load("den: 1\nmachines:\n  web:\n    box: b/x\n"
		     "    forwarded_ports:\n"
		     "      - { guest: 80, host: 8080 }\n"
		     "      - { guest: 53, host: 1053, protocol: udp, host_ip: \"::1\", "
		     "id: dns, auto_correct: true }\n"
		     "      - \"9000:90\"\n"
		     "      - \"9001:91/udp\"\n");
	struct machine *cfg = envfile_machine(ef, "web");

	cr_assert_eq(cfg->n_ports, 4);
	cr_expect_eq(cfg->ports[0].guest, 80);
	cr_expect_eq(cfg->ports[0].host, 8080);
	cr_expect_eq(cfg->ports[0].protocol, FWD_TCP);
	cr_expect_str_eq(cfg->ports[0].host_ip, "127.0.0.1", "ports bind loopback by default");
	cr_expect_eq(cfg->ports[1].protocol, FWD_UDP);
	cr_expect_str_eq(cfg->ports[1].host_ip, "::1");
	cr_expect_str_eq(cfg->ports[1].id, "dns");
	cr_expect(cfg->ports[1].auto_correct);
	cr_expect_eq(cfg->ports[2].host, 9000);
	cr_expect_eq(cfg->ports[2].guest, 90);
	cr_expect_eq(cfg->ports[3].protocol, FWD_UDP);
	cr_expect_eq(cfg->ports[0].pos.line, 6);
	cr_expect_eq(cfg->ports[0].pos.col, 9);
	envfile_free(ef);
}

Test(envfile, the_same_host_port_twice_is_fine_when_both_give_way_or_protocols_differ)
{
	struct envfile *ef = load("den: 1\nmachines:\n"
				  "  a: { box: b/x, forwarded_ports: [{ guest: 80, host: 8080, "
				  "auto_correct: true }, \"53:53/udp\"] }\n"
				  "  b: { box: b/x, forwarded_ports: [{ guest: 80, host: 8080, "
				  "auto_correct: true }, \"53:53\"] }\n");
	cr_expect_eq(ef->n_machines, 2);
	envfile_free(ef);
	cr_expect(strstr(load_error("den: 1\nmachines:\n"
				    "  a: { box: b/x, forwarded_ports: [\"8080:80\"] }\n"
				    "  b: { box: b/x, forwarded_ports: [{ guest: 1, host: 8080, "
				    "host_ip: 0.0.0.0 }] }\n"),
			 "already forwarded by machine 'a'"));
}

Test(envfile, synced_folders_resolve_against_the_project)
{
	struct envfile *ef =
		load("den: 1\nmachines:\n  web:\n    box: b/x\n"
		     "    synced_folders:\n"
		     "      - { host: ., guest: /work, mount_options: [ro] }\n"
		     "      - host: src\n"
		     "        guest: /src\n"
		     "        type: rsync\n"
		     "        owner: www-data\n"
		     "        group: www-data\n"
		     "        rsync_exclude: [.git, node_modules]\n"
		     "      - { host: not-yet, guest: /new, create: true }\n"
		     "      - { host: /nonexistent/elsewhere, guest: /off, disabled: true }\n");
	struct machine *cfg = envfile_machine(ef, "web");
	char want[4096];

	cr_assert_eq(cfg->n_folders, 4);
	cr_expect_str_eq(cfg->folders[0].host_path, root);
	snprintf(want, sizeof(want), "%s/src", root);
	cr_expect_str_eq(cfg->folders[1].host_path, want);
	cr_expect_eq(cfg->folders[1].type, SYNC_RSYNC);
	cr_expect_str_eq(cfg->folders[1].owner, "www-data");
	cr_expect_eq(cfg->folders[0].n_mount_options, 1);
	cr_expect_str_eq(cfg->folders[0].mount_options[0], "ro");
	cr_expect_eq(cfg->folders[1].n_rsync_exclude, 2);
	cr_expect(cfg->folders[2].create);
	cr_expect(cfg->folders[3].disabled);
	envfile_free(ef);
}

Test(envfile, defaults_merge_into_machines_as_vagrant_does)
{
	struct envfile *ef =
		load("den: 1\n"
		     "defaults:\n"
		     "  box: den/debian-12\n"
		     "  box_version: '>= 1.0'\n"
		     "  provider: container\n"
		     "  cpus: 1\n"
		     "  memory: 512M\n"
		     "  ssh: { username: den }\n"
		     "  synced_folders:\n"
		     "    - { host: ., guest: /work }\n"
		     "    - { host: src, guest: /src }\n"
		     "  forwarded_ports: [{ guest: 22, host: 2200, auto_correct: true }]\n"
		     "  provision:\n"
		     "    - shell: { inline: apt-get update, name: update }\n"
		     "machines:\n"
		     "  web:\n"
		     "    cpus: 4\n"
		     "    synced_folders:\n"
		     "      - { host: ., guest: /work, disabled: true }\n"
		     "    forwarded_ports: [{ guest: 80, host: 8080 }]\n"
		     "    provision:\n"
		     "      - shell: { inline: apt-get install -y nginx, name: nginx }\n"
		     "  db:\n"
		     "    box: den/debian-11\n"
		     "    forwarded_ports: [{ guest: 22, host: 2200, auto_correct: true }]\n");
	struct machine *web = envfile_machine(ef, "web"), *db = envfile_machine(ef, "db");

	cr_assert(web && db);
	cr_expect_eq(web->cpus, 4, "the machine's own value wins");
	cr_expect_eq(web->memory, 512 * DEN_MIB, "unset keys come from defaults");
	cr_expect_str_eq(web->box, "den/debian-12");
	cr_expect_str_eq(web->box_version, ">= 1.0");
	cr_expect_str_eq(web->provider, "container");
	cr_expect_str_eq(web->ssh.username, "den");
	cr_expect_str_eq(db->box, "den/debian-11");
	cr_expect_eq(db->cpus, 1);

	cr_assert_eq(web->n_steps, 2);
	cr_expect_str_eq(web->steps[0].name, "update", "defaults' provisioners run first");
	cr_expect_str_eq(web->steps[1].name, "nginx");
	cr_expect_eq(db->n_steps, 1);

	cr_assert_eq(web->n_ports, 2);
	cr_expect_eq(web->ports[0].host, 2200);
	cr_expect_eq(web->ports[1].host, 8080);

	/* web's /work replaces the default one (and disables it); /src stays. */
	cr_assert_eq(web->n_folders, 2);
	cr_expect_str_eq(web->folders[0].guest, "/src");
	cr_expect_str_eq(web->folders[1].guest, "/work");
	cr_expect(web->folders[1].disabled);
	cr_assert_eq(db->n_folders, 2);
	cr_expect(!db->folders[0].disabled);
	envfile_free(ef);
}

Test(envfile, a_null_machine_takes_everything_from_defaults)
{
	struct envfile *ef = load("den: 1\ndefaults: { box: den/debian-12 }\nmachines:\n  web:\n");

	cr_assert_eq(ef->n_machines, 1);
	cr_expect_str_eq(ef->machines[0].box, "den/debian-12");
	envfile_free(ef);
}

Test(envfile, matrix_expands_one_machine_per_combination)
{
	struct envfile *ef = load("den: 1\n"
				  "machines:\n"
				  "  web: { box: den/debian-12 }\n"
				  "  test:\n"
				  "    cpus: 1\n"
				  "    matrix:\n"
				  "      box: [den/debian-11, den/debian-12, den/debian-13]\n"
				  "      memory: [512M, 1G]\n");
	static const char *const names[] = {
		"web",
		"test-debian-11-512M",
		"test-debian-11-1G",
		"test-debian-12-512M",
		"test-debian-12-1G",
		"test-debian-13-512M",
		"test-debian-13-1G",
	};

	cr_assert_eq(ef->n_machines, 7);
	for (size_t i = 0; i < 7; i++)
		cr_expect_str_eq(ef->machines[i].name, names[i]);
	struct machine *cfg = envfile_machine(ef, "test-debian-13-512M");
	cr_assert_not_null(cfg);
	cr_expect_str_eq(cfg->box, "den/debian-13");
	cr_expect_eq(cfg->memory, 512 * DEN_MIB);
	cr_expect_eq(cfg->cpus, 1);
	cr_expect_str_eq(cfg->matrix_of, "test");
	cr_expect_str_eq(cfg->hostname, "test-debian-13-512M");
	cr_expect_null(ef->machines[0].matrix_of);
	envfile_free(ef);
}

Test(envfile, select_takes_names_matrix_names_and_patterns)
{
	struct envfile *ef = load("den: 1\ndefaults: { box: b/x }\nmachines:\n"
				  "  web:\n  web2:\n  db:\n"
				  "  test:\n    matrix: { cpus: [1, 2] }\n");
	struct machine **sel = NULL;
	size_t n = 0;
	struct den_err err = { 0 };

	cr_assert(envfile_select(ef, NULL, 0, &sel, &n, &err) == 0);
	cr_expect_eq(n, 5, "no names: every machine");
	free(sel);
	cr_assert(envfile_select(ef, (char *[]){ "test" }, 1, &sel, &n, &err) == 0);
	cr_expect_eq(n, 2, "a matrix name selects its machines");
	cr_expect_str_eq(sel[0]->name, "test-1");
	free(sel);
	cr_assert(envfile_select(ef, (char *[]){ "web*", "db" }, 2, &sel, &n, &err) == 0);
	cr_expect_eq(n, 3);
	free(sel);
	cr_expect(envfile_select(ef, (char *[]){ "dbb" }, 1, &sel, &n, &err) < 0);
	cr_expect_eq(err.kind, DEN_ERR_USAGE);
	cr_expect(strstr(err.msg, "no machine 'dbb'") && strstr(err.msg, "did you mean 'db'?"),
		  "%s", err.msg);
	envfile_free(ef);
}

Test(envfile, shell_provisioners_in_every_form)
{
	struct envfile *ef =
		load("den: 1\nmachines:\n  web:\n    box: b/x\n    provision:\n"
		     "      - shell: apt-get update\n"
		     "      - shell: [make, make install]\n"
		     "      - shell:\n"
		     "          path: scripts/setup.sh\n"
		     "          args: [--dev, \"it's $(rm -rf /)\", \"a\\nb\", 'x y']\n"
		     "          env: { MODE: dev, COUNT: 3, EMPTY: }\n"
		     "          privileged: false\n"
		     "          upload_path: /tmp/setup.sh\n"
		     "          reboot: true\n"
		     "          keep_color: true\n"
		     "          run: always\n"
		     "          name: setup\n"
		     "          after: shell-1\n"
		     "      - shell: { inline: echo, run: never, before: setup }\n");
	struct machine *cfg = envfile_machine(ef, "web");

	cr_assert_eq(cfg->n_steps, 4);
	cr_expect_eq(cfg->steps[0].kind, PROV_SHELL);
	cr_expect_str_eq(cfg->steps[0].shell.inline_script, "apt-get update");
	cr_expect_str_eq(cfg->steps[0].name, "shell-1");
	cr_expect_eq(cfg->steps[0].run, RUN_ONCE);
	cr_expect(cfg->steps[0].shell.privileged, "shell runs with sudo by default");
	cr_expect_str_eq(cfg->steps[1].shell.inline_script, "make\nmake install");

	const struct prov_step *s = &cfg->steps[2];
	cr_expect_null(s->shell.inline_script);
	cr_expect_str_eq(s->shell.path, "scripts/setup.sh");
	cr_expect(strstr(s->shell.path_abs, "/scripts/setup.sh") && s->shell.path_abs[0] == '/');
	cr_assert_eq(s->shell.n_args, 4);
	cr_expect_str_eq(s->shell.args[1], "it's $(rm -rf /)", "args arrive verbatim");
	cr_expect_str_eq(s->shell.args[2], "a\nb");
	cr_expect_str_eq(s->shell.args[3], "x y");
	cr_assert_eq(s->shell.n_env, 3);
	cr_expect_str_eq(s->shell.env[1].name, "COUNT");
	cr_expect_str_eq(s->shell.env[1].value, "3");
	cr_expect_str_eq(s->shell.env[2].value, "");
	cr_expect(!s->shell.privileged);
	cr_expect_str_eq(s->shell.upload_path, "/tmp/setup.sh");
	cr_expect(s->shell.reboot && s->shell.keep_color);
	cr_expect_eq(s->run, RUN_ALWAYS);
	cr_expect_str_eq(s->name, "setup");
	cr_expect_str_eq(s->after, "shell-1");
	cr_expect_eq(cfg->steps[3].run, RUN_NEVER);
	cr_expect_str_eq(cfg->steps[3].before, "setup");
	envfile_free(ef);
}

Test(envfile, file_and_ansible_provisioners)
{
	struct envfile *ef =
		load("den: 1\nmachines:\n  web:\n    box: b/x\n    provision:\n"
		     "      - file: { source: conf/app.conf, destination: ~/app.conf }\n"
		     "      - ansible: ansible/site.yml\n"
		     "      - ansible:\n"
		     "          playbook: ansible/site.yml\n"
		     "          extra_vars: { role: web, port: 80, debug: yes, ratio: 0.5, "
		     "zip: '01234', none: ~, list: [1, two] }\n"
		     "          groups: { webservers: [web], 'webservers:vars': { x: 1 } }\n"
		     "          limit: [web, db]\n"
		     "          tags: [setup, deploy]\n"
		     "          skip_tags: slow\n"
		     "          become: true\n"
		     "          verbose: vvv\n"
		     "          galaxy_role_file: ansible/requirements.yml\n"
		     "          config_file: ansible/site.yml\n"
		     "      - ansible_local:\n"
		     "          playbook: /work/site.yml\n"
		     "          install: false\n"
		     "          provisioning_path: /work\n"
		     "          verbose: true\n");
	struct machine *cfg = envfile_machine(ef, "web");

	cr_assert_eq(cfg->n_steps, 4);
	cr_expect_eq(cfg->steps[0].kind, PROV_FILE);
	cr_expect(strstr(cfg->steps[0].file.source_abs, "/conf/app.conf") != NULL);
	cr_expect_str_eq(cfg->steps[0].file.destination, "~/app.conf");
	cr_expect_eq(cfg->steps[1].kind, PROV_ANSIBLE);
	cr_expect_str_eq(cfg->steps[1].ansible.playbook, "ansible/site.yml");
	cr_expect_str_eq(cfg->steps[1].name, "ansible-2");

	const struct prov_ansible *a = &cfg->steps[2].ansible;
	json_t *vars = json_loads(a->extra_vars_json, 0, NULL);
	cr_assert_not_null(vars, "extra_vars is JSON: %s", a->extra_vars_json);
	cr_expect_str_eq(json_string_value(json_object_get(vars, "role")), "web");
	cr_expect_eq(json_integer_value(json_object_get(vars, "port")), 80);
	cr_expect(json_is_true(json_object_get(vars, "debug")), "YAML 1.1 yes is true");
	cr_expect(json_is_real(json_object_get(vars, "ratio")));
	cr_expect_str_eq(json_string_value(json_object_get(vars, "zip")), "01234",
			 "quoted values stay strings");
	cr_expect(json_is_null(json_object_get(vars, "none")));
	cr_expect_eq(json_array_size(json_object_get(vars, "list")), 2);
	json_decref(vars);
	cr_expect(strstr(a->groups_json, "\"webservers\":[\"web\"]") != NULL, "%s", a->groups_json);
	cr_expect_str_eq(a->limit, "web,db");
	cr_expect_str_eq(a->tags, "setup,deploy");
	cr_expect_str_eq(a->skip_tags, "slow");
	cr_expect(a->become);
	cr_expect_eq(a->verbose, 3);
	cr_expect(a->galaxy_role_file[0] == '/');

	const struct prov_ansible *l = &cfg->steps[3].ansible;
	cr_expect_eq(cfg->steps[3].kind, PROV_ANSIBLE_LOCAL);
	cr_expect_str_eq(l->playbook, "/work/site.yml", "ansible_local paths are guest paths");
	cr_expect_null(l->playbook_abs);
	cr_expect(!l->install);
	cr_expect_str_eq(l->provisioning_path, "/work");
	cr_expect_eq(l->verbose, 1);
	envfile_free(ef);
}

Test(envfile, positions_point_at_the_machine_and_its_items)
{
	struct envfile *ef = load("den: 1\nmachines:\n\n  web:\n    box: b/x\n"
				  "    provision:\n      - shell: make\n");
	struct machine *cfg = envfile_machine(ef, "web");

	cr_expect_eq(cfg->pos.line, 4);
	cr_expect_eq(cfg->pos.col, 3);
	cr_expect_eq(cfg->steps[0].pos.line, 7);
	cr_expect_eq(cfg->steps[0].pos.col, 9);
	envfile_free(ef);
}

Test(envfile, yaml_anchors_and_aliases_work)
{
	struct envfile *ef = load("den: 1\nmachines:\n"
				  "  web: &base { box: b/x, cpus: 3 }\n"
				  "  db: *base\n");
	cr_expect_eq(envfile_machine(ef, "db")->cpus, 3);
	envfile_free(ef);
}

Test(envfile, yaml_merge_keys_are_explained)
{
	cr_expect(strstr(load_error("den: 1\nmachines:\n  web: &b { box: b/x }\n"
				    "  db:\n    <<: *b\n"),
			 "merge keys"));
}

Test(envfile, errors_are_capped_with_a_count_of_the_rest)
{
	char text[8192] = "den: 1\nmachines:\n  web:\n    box: b/x\n";

	for (int i = 0; i < 30; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "    bad%d: 1\n", i);
	const char *msg = load_error(text);
	cr_expect(strstr(msg, "and 20 more problems") != NULL, "%s", msg);
}

Test(envfile, host_paths_may_start_at_home)
{
	char *home = make_temp_dir(), want[4096];

	setenv("HOME", home, 1);
	write_file(home, "keys/id", "k");
	struct envfile *ef = load("den: 1\nmachines:\n  web:\n    box: b/x\n"
				  "    synced_folders: [{ host: ~/keys, guest: /keys }]\n");
	snprintf(want, sizeof(want), "%s/keys", home);
	cr_expect_str_eq(envfile_machine(ef, "web")->folders[0].host_path, want);
	envfile_free(ef);
	rm_rf(home);
	free(home);
}
