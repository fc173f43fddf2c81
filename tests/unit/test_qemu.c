/* SPDX-License-Identifier: MIT */
/*
 * The qemu provider's pieces: the accelerator choice, the host check it
 * rests on, the QMP client against a fake QMP server that misbehaves, the
 * command line, the disk overlay (with qemu-img) and the seed. Nothing
 * here starts QEMU: tests/vm/test_qemu_run.c does.
 */
#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <strings.h>
#include <yaml.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/embedded.h"
#include "providers/host_kvm.h"
#include "providers/qemu/accel.h"
#include "providers/qemu/cmdline.h"
#include "providers/qemu/disk.h"
#include "providers/seed.h"
#include "providers/qemu/qmp.h"
#include "tests/helpers/testutil.h"

Test(qemu_accel, auto_falls_back_to_tcg_and_says_why)
{
	const char *accel = NULL;
	char note[256];
	struct den_err err = { 0 };

	cr_assert(qemu_accel(ACCEL_AUTO, true, "", &accel, note, sizeof(note), &err) == 0);
	cr_expect_str_eq(accel, "kvm");
	cr_expect_str_eq(note, "", "nothing to say");
	cr_assert(qemu_accel(ACCEL_AUTO, false, "it is PVM", &accel, note, sizeof(note), &err) ==
		  0);
	cr_expect_str_eq(accel, "tcg");
	cr_expect(strstr(note, "TCG") != NULL && strstr(note, "it is PVM") != NULL, "%s", note);
	cr_assert(qemu_accel(ACCEL_TCG, true, "", &accel, note, sizeof(note), &err) == 0);
	cr_expect_str_eq(accel, "tcg", "accel: tcg is obeyed");
	cr_expect(qemu_accel(ACCEL_KVM, false, "it is PVM", &accel, note, sizeof(note), &err) < 0);
	cr_expect(strstr(err.msg, "accel: kvm, but it is PVM; use accel: tcg") != NULL, "%s",
		  err.msg);
}

Test(qemu_accel, the_host_check_knows_pvm_and_a_missing_device)
{
	char *dir = make_temp_dir(), mods[4096], dev[4096], why[512];

	snprintf(mods, sizeof(mods), "%s/module", dir);
	snprintf(dev, sizeof(dev), "%s/kvm", dir);
	write_file(dir, "module/kvm_amd/initstate", "live\n");
	write_file(dir, "kvm", "");
	cr_expect(kvm_host_usable_at(mods, dev, why, sizeof(why)), "kvm_amd and a device: %s", why);
	write_file(dir, "module/kvm_pvm/initstate", "live\n");
	cr_expect(!kvm_host_usable_at(mods, dev, why, sizeof(why)));
	cr_expect(strstr(why, "PVM backend") != NULL, "%s", why);
	snprintf(mods, sizeof(mods), "%s/nothing", dir);
	snprintf(dev, sizeof(dev), "%s/no-kvm", dir);
	cr_expect(!kvm_host_usable_at(mods, dev, why, sizeof(why)));
	cr_expect(strstr(why, "no-kvm is not usable here") != NULL, "%s", why);
	rm_rf(dir);
	free(dir);
}

/* A fake QEMU: greets, then answers each command from a script of lines. */
struct fake {
	int listen_fd;
	const char *greeting;
	const char *const *answers; /* one per command received, NULL-terminated */
};

static void *fake_qemu(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->listen_fd, NULL, NULL);
	char buf[4096];

	if (fd < 0)
		return NULL;
	if (f->greeting != NULL)
		send(fd, f->greeting, strlen(f->greeting), MSG_NOSIGNAL);
	for (size_t i = 0; f->answers[i] != NULL; i++) {
		if (read(fd, buf, sizeof(buf)) <= 0)
			break;
		if (strcmp(f->answers[i], "HANG") == 0) {
			sleep(2);
			break;
		}
		send(fd, f->answers[i], strlen(f->answers[i]), MSG_NOSIGNAL);
	}
	usleep(100000);
	close(fd);
	return NULL;
}

static int fake_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_assert_lt(strlen(path), sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0);
	return fd;
}

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"

static int run_fake(const char *greeting, const char *const *answers, const char *command,
		    json_t **ret, struct den_err *err)
{
	char *dir = make_temp_dir(), path[4096];
	pthread_t t;
	struct qmp *q = NULL;

	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	struct fake f = { fake_listen(path), greeting, answers };
	pthread_create(&t, NULL, fake_qemu, &f);
	int rc = qmp_connect(path, 500, &q, err);
	if (rc == 0 && command != NULL)
		rc = qmp_execute(q, command, NULL, ret, err);
	qmp_close(q);
	pthread_join(t, NULL);
	close(f.listen_fd);
	rm_rf(dir);
	free(dir);
	return rc;
}

Test(qmp, a_command_gets_its_own_answer_past_events_and_strays)
{
	const char *const answers[] = {
		"{\"return\": {}, \"id\": 1}\r\n",
		"{\"event\": \"RESUME\", \"timestamp\": {}}\r\n{\"return\": {}, \"id\": 99}\r\n"
		"{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 2}\r\n",
		NULL
	};
	json_t *ret = NULL;
	struct den_err err = { 0 };

	cr_assert(run_fake(GREETING, answers, "query-status", &ret, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(json_string_value(json_object_get(ret, "status")), "running");
	json_decref(ret);
}

Test(qmp, qemus_errors_garbage_silence_and_hangups_are_clear)
{
	const char *const refused[] = { "{\"return\": {}, \"id\": 1}\r\n",
					"{\"error\": {\"class\": \"GenericError\", \"desc\": \"No "
					"block device\"}, \"id\": 2}\n",
					NULL };
	const char *const garbage[] = { "{\"return\": {}, \"id\": 1}\r\n", "not json at all\n",
					NULL };
	const char *const silent[] = { "{\"return\": {}, \"id\": 1}\r\n", "HANG", NULL };
	const char *const gone[] = { "{\"return\": {}, \"id\": 1}\r\n", NULL };
	const char *const none[] = { NULL };
	struct den_err err = { 0 };

	cr_expect(run_fake(GREETING, refused, "savevm", NULL, &err) < 0);
	cr_expect(strstr(err.msg, "qemu refused savevm: No block device") != NULL, "%s", err.msg);
	cr_expect(run_fake(GREETING, garbage, "query-status", NULL, &err) < 0);
	cr_expect(strstr(err.msg, "not QMP") != NULL, "%s", err.msg);
	cr_expect(run_fake(GREETING, silent, "query-status", NULL, &err) < 0);
	cr_expect(strstr(err.msg, "did not answer") != NULL, "%s", err.msg);
	cr_expect(run_fake(GREETING, gone, "query-status", NULL, &err) < 0);
	cr_expect(strstr(err.msg, "closed its QMP socket") != NULL, "%s", err.msg);
	cr_expect(run_fake("{\"hello\": 1}\n", none, NULL, NULL, &err) < 0);
	cr_expect(strstr(err.msg, "does not greet as QMP does") != NULL, "%s", err.msg);
}

static bool has_arg(char **argv, const char *want)
{
	for (size_t i = 0; argv[i] != NULL; i++)
		if (strcmp(argv[i], want) == 0)
			return true;
	return false;
}

Test(qemu_cmdline, a_machine_becomes_one_qemu_command_line)
{
	const struct qemu_share shares[] = { { "den0", "/src/my,project", false },
					     { "den1", "/data", true } };
	const struct qemu_launch l = { .name = "web",
				       .accel = "tcg",
				       .cpus = 2,
				       .memory = 1024ULL << 20,
				       .disk = "/p/.den/machines/web/disk.qcow2",
				       .seed = "/p/.den/machines/web/seed.iso",
				       .qmp = "/p/.den/machines/web/qmp.sock",
				       .serial = "/p/.den/machines/web/console.log",
				       .pidfile = "/p/.den/machines/web/qemu.pid",
				       .net_fd = 7,
				       .shares = shares,
				       .n_shares = 2 };
	char **argv = qemu_argv(&l);

	cr_assert_not_null(argv);
	cr_expect_str_eq(argv[0], "qemu-system-x86_64");
	cr_expect(has_arg(argv, "q35,accel=tcg"));
	cr_expect(has_arg(argv, "max"), "TCG emulates every CPU feature it can");
	cr_expect(has_arg(argv, "1024M"));
	cr_expect(has_arg(argv, "-nodefaults"));
	cr_expect(has_arg(argv, "unix:/p/.den/machines/web/qmp.sock,server=on,wait=off"));
	cr_expect(has_arg(argv, "file=/p/.den/machines/web/disk.qcow2,if=virtio,format=qcow2,"
				"discard=unmap"));
	cr_expect(has_arg(argv, "file=/p/.den/machines/web/seed.iso,if=virtio,format=raw,"
				"readonly=on"));
	cr_expect(has_arg(argv, "stream,id=net0,server=off,addr.type=fd,addr.str=7"),
		  "the card is on den's network, not QEMU's (which always reaches the host's "
		  "loopback)");
	for (size_t i = 0; argv[i] != NULL; i++)
		cr_expect(strstr(argv[i], "hostfwd") == NULL && strncmp(argv[i], "user,", 5) != 0,
			  "no QEMU user network: %s", argv[i]);
	cr_expect(has_arg(argv, "local,path=/src/my,,project,mount_tag=den0,"
				"security_model=mapped-xattr,id=fs0"),
		  "a comma in a path stays in the path");
	cr_expect(has_arg(argv, "local,path=/data,mount_tag=den1,security_model=mapped-xattr,"
				"id=fs1,readonly=on"));
	qemu_argv_free(argv);
	struct qemu_launch k = l;
	k.accel = "kvm";
	k.seed = NULL;
	argv = qemu_argv(&k);
	cr_expect(has_arg(argv, "q35,accel=kvm"));
	cr_expect(has_arg(argv, "host"));
	for (size_t i = 0; argv[i] != NULL; i++)
		cr_expect(strstr(argv[i], "seed") == NULL, "no seed, no drive for it");
	qemu_argv_free(argv);
}

static void img(const char *args)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "qemu-img %s >/dev/null 2>&1", args);
	cr_assert_eq(system(cmd), 0, "qemu-img %s (make deps installs qemu-utils)", args);
}

Test(qemu_disk, the_overlay_is_backed_by_the_box_and_grows_to_disk_size)
{
	char *dir = make_temp_dir(), box[4096], disk[4096], cmd[8400];
	struct den_err err = { 0 };
	uint64_t size = 0;

	snprintf(box, sizeof(box), "%s/box.img", dir);
	snprintf(disk, sizeof(disk), "%s/disk.qcow2", dir);
	snprintf(cmd, sizeof(cmd), "create -f qcow2 %s 64M", box);
	img(cmd);
	cr_assert(qemu_disk_create(box, "qcow2", disk, 0, &err) == 0, "%s", err.msg);
	cr_assert(qemu_disk_size(disk, "qcow2", &size, &err) < 0, "the overlay has a backing file");
	struct stat st;
	cr_assert(stat(disk, &st) == 0);
	cr_expect_lt(st.st_size, 1 << 20, "nothing copied");
	unlink(disk);
	cr_assert(qemu_disk_create(box, "qcow2", disk, 128ULL << 20, &err) == 0, "%s", err.msg);
	snprintf(cmd, sizeof(cmd),
		 "qemu-img info --output=json %s | grep -q '\"virtual-size\": 134217728'", disk);
	cr_expect_eq(system(cmd), 0, "disk_size grows it");
	unlink(disk);
	cr_assert(qemu_disk_create(box, "qcow2", disk, 1 << 20, &err) == 0, "%s", err.msg);
	snprintf(cmd, sizeof(cmd),
		 "qemu-img info --output=json %s | grep -q '\"virtual-size\": 67108864'", disk);
	cr_expect_eq(system(cmd), 0, "a smaller disk_size never shrinks the box's disk");
	rm_rf(dir);
	free(dir);
}

Test(qemu_disk, a_box_image_that_refers_to_host_files_is_refused)
{
	char *dir = make_temp_dir(), box[4096], disk[4096], cmd[8400];
	struct den_err err = { 0 };

	snprintf(box, sizeof(box), "%s/box.img", dir);
	snprintf(disk, sizeof(disk), "%s/disk.qcow2", dir);
	/* A "box" whose backing file is a host file. */
	snprintf(cmd, sizeof(cmd), "create -f qcow2 -F raw -b /etc/hostname %s 1M", box);
	img(cmd);
	cr_expect(qemu_disk_create(box, "qcow2", disk, 0, &err) < 0);
	cr_expect(strstr(err.msg, "refers to another file") != NULL, "%s", err.msg);
	cr_expect_neq(access(disk, F_OK), 0, "no disk was made");
	cr_expect(qemu_disk_create("relative.img", "qcow2", disk, 0, &err) < 0);
	write_file(dir, "junk.img", "not an image at all");
	snprintf(box, sizeof(box), "%s/junk.img", dir);
	cr_expect(qemu_disk_create(box, "qcow2", disk, 0, &err) < 0);
	cr_expect(strstr(err.msg, "qemu-img info failed") != NULL, "%s", err.msg);
	rm_rf(dir);
	free(dir);
}

/* A file of the seed image, read back with libarchive's ISO 9660 reader. */
static char *iso_file(const char *iso, const char *name)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *text = NULL;

	archive_read_support_format_iso9660(a);
	cr_assert_eq(archive_read_open_filename(a, iso, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		if (strcmp(archive_entry_pathname(e), name) != 0)
			continue;
		size_t len = (size_t)archive_entry_size(e);
		text = calloc(1, len + 1);
		cr_assert_eq(archive_read_data(a, text, len), (la_ssize_t)len);
	}
	archive_read_free(a);
	return text;
}

/* The scalar at a path of mapping keys and sequence indexes ("users", "0", "name"). */
static const char *yaml_at(yaml_document_t *d, const char *const *path)
{
	yaml_node_t *n = yaml_document_get_root_node(d);

	for (; *path != NULL && n != NULL; path++) {
		yaml_node_t *next = NULL;
		if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(d, p->key);
				if (strcmp((char *)k->data.scalar.value, *path) == 0)
					next = yaml_document_get_node(d, p->value);
			}
		} else if (n->type == YAML_SEQUENCE_NODE) {
			long i = strtol(*path, NULL, 10);
			if (n->data.sequence.items.start + i < n->data.sequence.items.top)
				next = yaml_document_get_node(d, n->data.sequence.items.start[i]);
		}
		n = next;
	}
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void parse(const char *text, yaml_document_t *d)
{
	yaml_parser_t p;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	cr_assert(yaml_parser_load(&p, d), "valid YAML: %s", text);
	yaml_parser_delete(&p);
}

Test(qemu_seed, a_nocloud_seed_carries_the_user_its_key_and_the_host_key)
{
	char *dir = make_temp_dir(), iso[4096], cmd[4200], label[64] = "";
	struct den_err err = { 0 };
	/* Hostile-looking values must come back as they went in, not as YAML structure. */
	const struct seed_spec s = {
		.instance_id = "den-1234",
		.hostname = "web\": x\nroot: true",
		.user = "den",
		.authorized_key = "ssh-ed25519 AAAAC3Nza den@host # : not a comment",
		.host_key_private = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n"
				    "-----END OPENSSH PRIVATE KEY-----\n",
		.host_key_public = "ssh-ed25519 AAAAhost",
	};

	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	cr_assert(seed_write(iso, &s, &err) == 0, "%s", err.msg);
	snprintf(cmd, sizeof(cmd), "blkid -o value -s LABEL %s", iso);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	cr_expect_not_null(fgets(label, sizeof(label), f));
	pclose(f);
	cr_expect(strncasecmp(label, "cidata", 6) == 0, "the label cloud-init looks for: %s",
		  label);

	char *user_data = iso_file(iso, "user-data"), *meta = iso_file(iso, "meta-data");
	cr_assert_not_null(user_data);
	cr_assert_not_null(meta);
	cr_expect(strncmp(user_data, "#cloud-config\n", 14) == 0, "%s", user_data);
	yaml_document_t d;
	parse(user_data, &d);
	cr_expect_str_eq(yaml_at(&d, (const char *[]){ "users", "0", "name", NULL }), "den");
	cr_expect_str_eq(yaml_at(&d, (const char *[]){ "users", "0", "sudo", NULL }),
			 "ALL=(ALL) NOPASSWD:ALL");
	cr_expect_str_eq(
		yaml_at(&d, (const char *[]){ "users", "0", "ssh_authorized_keys", "0", NULL }),
		s.authorized_key);
	cr_expect_str_eq(yaml_at(&d, (const char *[]){ "ssh_keys", "ed25519_private", NULL }),
			 s.host_key_private, "the private key keeps its lines");
	cr_expect_str_eq(yaml_at(&d, (const char *[]){ "hostname", NULL }), s.hostname);
	cr_expect_null(yaml_at(&d, (const char *[]){ "root", NULL }), "no key smuggled in");
	cr_expect_str_eq(yaml_at(&d, (const char *[]){ "ssh_pwauth", NULL }), "false");
	yaml_document_delete(&d);
	parse(meta, &d);
	cr_expect_str_eq(yaml_at(&d, (const char *[]){ "instance-id", NULL }), "den-1234");
	cr_expect_str_eq(yaml_at(&d, (const char *[]){ "local-hostname", NULL }), s.hostname);
	yaml_document_delete(&d);
	free(user_data);
	free(meta);

	/* The same credentials as plain files, for den's own seed hook (boxes/vm-guest/den-seed). */
	char *user = iso_file(iso, "den/user"), *key = iso_file(iso, "den/authorized_keys"),
	     *priv = iso_file(iso, "den/ssh_host_ed25519_key"),
	     *pub = iso_file(iso, "den/ssh_host_ed25519_key.pub");
	cr_expect_str_eq(user, "den\n");
	cr_expect_str_eq(key, "ssh-ed25519 AAAAC3Nza den@host # : not a comment\n");
	cr_expect_str_eq(priv, s.host_key_private);
	cr_expect_str_eq(pub, "ssh-ed25519 AAAAhost\n");
	free(user);
	free(key);
	free(priv);
	free(pub);
	rm_rf(dir);
	free(dir);
}

/* den's VM boxes carry the seed hook; it must read every file the seed writes, by that name. */
Test(qemu_seed, the_box_seed_hook_reads_what_the_seed_writes)
{
	const char *hook = NULL, *unit = NULL, *net = NULL;
	static const char *const files[] = { "user", "authorized_keys", "ssh_host_ed25519_key",
					     "ssh_host_ed25519_key.pub", "hostname" };

	for (size_t i = 0; den_vm_guest[i].name != NULL; i++) {
		if (strcmp(den_vm_guest[i].name, "den-seed") == 0)
			hook = (const char *)den_vm_guest[i].text;
		else if (strcmp(den_vm_guest[i].name, "den-seed.service") == 0)
			unit = (const char *)den_vm_guest[i].text;
		else if (strcmp(den_vm_guest[i].name, "80-den.network") == 0)
			net = (const char *)den_vm_guest[i].text;
	}
	cr_assert_not_null(hook, "boxes/vm-guest/den-seed is built into den");
	cr_assert_not_null(unit);
	cr_assert_not_null(net);
	cr_expect(strstr(hook, "blkid -L cidata") != NULL, "the hook finds the seed by its label");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char ref[128];
		snprintf(ref, sizeof(ref), "$s/%s\"", files[i]);
		cr_expect(strstr(hook, ref) != NULL, "the hook reads den/%s", files[i]);
	}
	cr_expect(strstr(unit, "Before=ssh.service") != NULL, "credentials are in before sshd");
	cr_expect(strstr(net, "DHCP=") != NULL);
}
