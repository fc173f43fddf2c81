/* SPDX-License-Identifier: MIT */
/*
 * The lxd provider's parts that need no LXD: the image tarball (the same
 * bytes for the same box, members in name order, hard links as links),
 * the box's users read inside its root only, instance names, and the
 * Envfile's lxd: map (merged from defaults field by field).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/digest.h"
#include "core/envfile.h"
#include "core/passwd.h"
#include "providers/lxd/lxd-internal.h"
#include "tests/helpers/testutil.h"

static int to_file(void *arg, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, arg) == len ? 0 : -1;
}

/* The box's tarball at path; its sha256 in hex. */
static void tarball(const char *box, const char *path, char hex[DIGEST_HEX_MAX])
{
	FILE *f = fopen(path, "wb");
	struct den_err err = { 0 };

	cr_assert_not_null(f);
	cr_assert_eq(lxd_tarball_write(box, "den/test", "1.0.0", to_file, f, &err), 0, "%s",
		     err.msg);
	fclose(f);
	cr_assert_eq(digest_file(path, DIGEST_SHA256, hex, &err), 0, "%s", err.msg);
}

static char *make_box(void)
{
	char *box = make_temp_dir(), path[4096];

	write_file(box, "metadata.json", "{\"provider\": \"container\"}");
	/* Made out of name order: the tarball sorts them. */
	write_file(box, "rootfs/zeta", "last\n");
	write_file(box, "rootfs/etc/passwd",
		   "root:x:0:0:root:/root:/bin/sh\n"
		   "den:x:1000:1000::/home/den:/bin/sh\n");
	write_file(box, "rootfs/alpha", "first\n");
	snprintf(path, sizeof(path), "%s/rootfs/alpha", box);
	char other[4096];
	snprintf(other, sizeof(other), "%s/rootfs/beta", box);
	cr_assert_eq(link(path, other), 0);
	snprintf(other, sizeof(other), "%s/rootfs/to-etc", box);
	cr_assert_eq(symlink("/etc", other), 0);
	return box;
}

Test(lxd_tarball, same_box_same_bytes_in_name_order)
{
	char *box = make_box(), a[4096], b[4096], ha[DIGEST_HEX_MAX], hb[DIGEST_HEX_MAX];
	char cmd[8300], line[512], list[4096] = "";

	snprintf(a, sizeof(a), "%s/a.tar", box);
	snprintf(b, sizeof(b), "%s/b.tar", box);
	tarball(box, a, ha);
	/* Read again after a file's access time changed: the same bytes. */
	sleep(1);
	char path[4096];
	snprintf(path, sizeof(path), "%s/rootfs/zeta", box);
	int fd = open(path, O_RDONLY);
	char c;
	cr_assert(read(fd, &c, 1) == 1);
	close(fd);
	tarball(box, b, hb);
	cr_expect_str_eq(ha, hb, "the same box gave two fingerprints");

	snprintf(cmd, sizeof(cmd), "tar -tvf %s", a);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		const char *name = strstr(line, "metadata.yaml");
		if (name == NULL)
			name = strstr(line, "rootfs");
		cr_assert_not_null(name, "%s", line);
		strncat(list, name, sizeof(list) - strlen(list) - 1);
	}
	pclose(p);
	cr_expect_str_eq(list, "metadata.yaml\n"
			       "rootfs/\n"
			       "rootfs/alpha\n"
			       "rootfs/beta link to rootfs/alpha\n"
			       "rootfs/etc/\n"
			       "rootfs/etc/passwd\n"
			       "rootfs/to-etc -> /etc\n"
			       "rootfs/zeta\n");
	rm_rf(box);
	free(box);
}

Test(lxd_tarball, metadata_names_the_architecture_and_box)
{
	char *box = make_box(), a[4096], h[DIGEST_HEX_MAX], cmd[8300], meta[1024] = "";

	snprintf(a, sizeof(a), "%s/a.tar", box);
	tarball(box, a, h);
	snprintf(cmd, sizeof(cmd), "tar -xOf %s metadata.yaml", a);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(meta, 1, sizeof(meta) - 1, p);
	meta[n] = '\0';
	pclose(p);
	cr_expect(strstr(meta, "\"architecture\": \"x86_64\"") != NULL, "%s", meta);
	cr_expect(strstr(meta, "\"den.box\": \"den/test\"") != NULL, "%s", meta);
	cr_expect(strstr(meta, "\"den.version\": \"1.0.0\"") != NULL, "%s", meta);
	rm_rf(box);
	free(box);
}

Test(lxd_passwd, a_box_file_is_read_inside_its_root_only)
{
	char *box = make_box(), root[4096];
	struct den_err err = { 0 };
	struct passwd_user u;

	snprintf(root, sizeof(root), "%s/rootfs", box);
	FILE *f = passwd_open_in(root, "etc/passwd", &err);
	cr_assert_not_null(f, "%s", err.msg);
	cr_assert_eq(passwd_find_user(f, "den", &u, &err), 0, "%s", err.msg);
	fclose(f);
	cr_expect_eq(u.uid, 1000);
	cr_expect_str_eq(u.home, "/home/den");
	/* to-etc -> /etc: resolved in the box's root, where it is the box's own etc. */
	f = passwd_open_in(root, "to-etc/passwd", &err);
	cr_assert_not_null(f, "%s", err.msg);
	cr_expect_eq(passwd_find_user(f, "den", &u, &err), 0, "the box's own file was read");
	fclose(f);
	rm_rf(box);
	free(box);
}

Test(lxd_passwd, hostile_entries_are_refused)
{
	struct den_err err = { 0 };
	struct passwd_user u;
	const char *bad[] = { "den:x:1000:1000::../../etc:/bin/sh\n",
			      "den:x:10x0:1000::/home/den:/bin/sh\n",
			      "den:x:4294967295:1000::/home/den:/bin/sh\n", "nobody:x:1:1::/:/\n" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fmemopen((void *)bad[i], strlen(bad[i]), "r");
		den_err_clear(&err);
		cr_expect_lt(passwd_find_user(f, "den", &u, &err), 0, "accepted: %s", bad[i]);
		fclose(f);
	}
}

static struct envfile *load(const char *text)
{
	struct envfile *ef = NULL;
	struct den_err err = { 0 };

	cr_assert_eq(envfile_load_buffer(text, strlen(text), "Envfile", "/tmp/p", &ef, &err), 0,
		     "%s", err.msg);
	return ef;
}

Test(lxd_envfile, a_machine_takes_what_it_does_not_set_from_defaults)
{
	struct envfile *ef = load("den: 1\n"
				  "defaults:\n"
				  "  provider: lxd\n"
				  "  lxd: { project: dev, profiles: [default, big], remote: "
				  "\"https://lxd.example:8443\" }\n"
				  "machines:\n"
				  "  web:\n"
				  "    box: den/debian-12-systemd\n"
				  "    lxd: { project: web, target: node2 }\n"
				  "  db:\n"
				  "    box: den/debian-12-systemd\n");
	const struct machine *web = envfile_machine(ef, "web"), *db = envfile_machine(ef, "db");

	cr_expect_str_eq(web->lxd.project, "web");
	cr_expect_str_eq(web->lxd.target, "node2");
	cr_expect_str_eq(web->lxd.remote, "https://lxd.example:8443");
	cr_assert_eq(web->lxd.n_profiles, 2);
	cr_expect_str_eq(web->lxd.profiles[1], "big");
	cr_expect_str_eq(db->lxd.project, "dev");
	cr_expect_null(db->lxd.target);
	cr_expect(db->set & KEYBIT(ENVFILE_KEY_LXD));
	envfile_free(ef);
}

Test(lxd_names, stable_per_project_and_apart_between_projects)
{
	struct machine cfg = { .name = "web_1.x" };
	struct den_machine a = { .cfg = &cfg, .root = "/home/a/proj" };
	struct den_machine b = { .cfg = &cfg, .root = "/home/b/proj" };
	char na[64], na2[64], nb[64];
	struct den_err err = { 0 };

	cr_assert_eq(lxd_instance_name(&a, na, sizeof(na), &err), 0);
	cr_assert_eq(lxd_instance_name(&a, na2, sizeof(na2), &err), 0);
	cr_assert_eq(lxd_instance_name(&b, nb, sizeof(nb), &err), 0);
	cr_expect_str_eq(na, na2);
	cr_expect_str_neq(na, nb);
	cr_expect(strncmp(na, "den-web-1-x-", 12) == 0, "%s", na);
	cr_expect_eq(strspn(na, "abcdefghijklmnopqrstuvwxyz0123456789-"), strlen(na), "%s", na);
}
