/* SPDX-License-Identifier: MIT */
/*
 * den's credentials, written into a container's upper layer before it
 * starts (DESIGN.md §9): the host key den generated as
 * /etc/ssh/ssh_host_ed25519_key, den's public key in the user's
 * ~/.ssh/authorized_keys. Folders made in the upper layer take the owner
 * and mode of the box's folder they cover: an upper /home/den owned by
 * root would take the home away from its user.
 */
#include "providers/container/container-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/keys.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* uid, gid and home of user in the box's /etc/passwd (the upper one first). */
static int find_user(const char *rootfs, const char *state, const char *user, uid_t *uid,
		     gid_t *gid, char *home, size_t n, struct den_err *err)
{
	const char *roots[] = { state, rootfs };
	char path[4096], line[1024];

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s%s/etc/passwd", roots[i], i == 0 ? "/upper" : "");
		FILE *f = fopen(path, "re");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			/* name:password:uid:gid:gecos:home:shell; fields may be empty. */
			char *field[7] = { 0 }, *p = line;
			int k = 0;
			for (; k < 7 && p != NULL; k++) {
				field[k] = p;
				p = strchr(p, ':');
				if (p != NULL)
					*p++ = '\0';
			}
			if (k < 6 || strcmp(field[0], user) != 0)
				continue;
			fclose(f);
			*uid = (uid_t)strtoul(field[2], NULL, 10);
			*gid = (gid_t)strtoul(field[3], NULL, 10);
			snprintf(home, n, "%s", field[5]);
			return 0;
		}
		fclose(f);
	}
	return den_err_set(err, 0, "the box has no user '%s' (set ssh.username in the Envfile)",
			   user);
}

/*
 * Makes upper/rel and its parents; each takes the owner and mode of the
 * box's folder, or (uid, gid, mode) where the box has none.
 */
static int mkdir_like_box(const char *upper, const char *rootfs, const char *rel, uid_t uid,
			  gid_t gid, mode_t mode, struct den_err *err)
{
	char part[4096];
	size_t len = strlen(rel);

	for (size_t i = 1; i <= len; i++) {
		if (rel[i] != '/' && rel[i] != '\0')
			continue;
		char u[4400], l[4400];
		struct stat st;
		snprintf(part, sizeof(part), "%.*s", (int)i, rel);
		snprintf(u, sizeof(u), "%s%s", upper, part);
		snprintf(l, sizeof(l), "%s%s", rootfs, part);
		if (lstat(u, &st) == 0)
			continue;
		bool in_box = lstat(l, &st) == 0 && S_ISDIR(st.st_mode);
		if (mkdir(u, in_box ? st.st_mode & 07777 : mode) < 0 ||
		    chown(u, in_box ? st.st_uid : uid, in_box ? st.st_gid : gid) < 0 ||
		    chmod(u, in_box ? st.st_mode & 07777 : mode) < 0)
			return den_err_set(err, errno, "cannot create %s", u);
	}
	return 0;
}

static int put(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid,
	       struct den_err *err)
{
	if (den_write_file_atomic(path, text, mode, err) < 0)
		return -1;
	if (chown(path, uid, gid) < 0)
		return den_err_set(err, errno, "cannot give %s to its user", path);
	return 0;
}

int ctr_install_credentials(const char *rootfs, const char *state, const char *user,
			    const char *keys, struct den_err *err)
{
	cleanup_free char *upper = NULL, *host_priv = NULL, *host_pub = NULL, *client_pub = NULL;
	cleanup_free char *priv_path = NULL;
	char home[512], rel[600], path[4400];
	uid_t uid = 0;
	gid_t gid = 0;

	if (asprintf(&upper, "%s/upper", state) < 0 ||
	    asprintf(&priv_path, "%s/" KEYS_HOST, keys) < 0)
		return den_err_set(err, ENOMEM, "cannot install SSH credentials");
	if (find_user(rootfs, state, user, &uid, &gid, home, sizeof(home), err) < 0 ||
	    den_read_file(priv_path, 65536, &host_priv, NULL, err) < 0 ||
	    keys_public(keys, KEYS_HOST, &host_pub, err) < 0 ||
	    keys_public(keys, KEYS_CLIENT, &client_pub, err) < 0)
		return -1;
	if (mkdir_like_box(upper, rootfs, "/etc/ssh", 0, 0, 0755, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/etc/ssh/ssh_host_ed25519_key", upper);
	if (put(path, host_priv, 0600, 0, 0, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/etc/ssh/ssh_host_ed25519_key.pub", upper);
	size_t n = strlen(host_pub);
	host_pub = realloc(host_pub, n + 2);
	if (host_pub == NULL)
		return den_err_set(err, ENOMEM, "cannot install SSH credentials");
	memcpy(host_pub + n, "\n", 2);
	if (put(path, host_pub, 0644, 0, 0, err) < 0)
		return -1;
	snprintf(rel, sizeof(rel), "%s/.ssh", home);
	if (mkdir_like_box(upper, rootfs, home, uid, gid, 0755, err) < 0 ||
	    mkdir_like_box(upper, rootfs, rel, uid, gid, 0700, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s%s/.ssh/authorized_keys", upper, home);
	n = strlen(client_pub);
	client_pub = realloc(client_pub, n + 6);
	if (client_pub == NULL)
		return den_err_set(err, ENOMEM, "cannot install SSH credentials");
	memcpy(client_pub + n, " den\n", 6);
	return put(path, client_pub, 0600, uid, gid, err);
}
