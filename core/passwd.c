/* SPDX-License-Identifier: MIT */
/* A machine's /etc/passwd and /etc/group, read as the untrusted text they are. */
#include "core/passwd.h"
#include "core/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A whole decimal id, below 2^32 - 1 (which means "none" to the kernel). */
static int parse_id(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= 0xffffffffUL)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int passwd_find_user(FILE *f, const char *name, struct passwd_user *out, struct den_err *err)
{
	char line[1024];

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *field[7] = { 0 }, *p = line;
		unsigned uid, gid;
		int k = 0;

		line[strcspn(line, "\n")] = '\0';
		for (; k < 7 && p != NULL; k++) {
			field[k] = p;
			p = strchr(p, ':');
			if (p != NULL)
				*p++ = '\0';
		}
		if (k < 6 || strcmp(field[0], name) != 0)
			continue;
		if (field[5][0] != '/' || strstr(field[5], "..") != NULL)
			return den_err_set(err, 0,
					   "user %s has home '%s', which is not a plain "
					   "absolute path",
					   name, field[5]);
		if (parse_id(field[2], &uid) < 0 || parse_id(field[3], &gid) < 0)
			return den_err_set(err, 0, "user %s has no valid uid and gid", name);
		out->uid = uid;
		out->gid = gid;
		snprintf(out->home, sizeof(out->home), "%s", field[5]);
		return 0;
	}
	return den_err_set(err, 0, "the box has no user '%s' (set ssh.username in the Envfile)",
			   name);
}

int passwd_find_group(FILE *f, const char *name, gid_t *gid, struct den_err *err)
{
	char line[1024];

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		unsigned id;
		if (c2 == NULL)
			continue;
		*c1 = '\0';
		c2[strcspn(c2, ":\n")] = '\0';
		if (strcmp(line, name) == 0 && parse_id(c2 + 1, &id) == 0) {
			*gid = id;
			return 0;
		}
	}
	return den_err_set(err, 0, "the box has no group '%s'", name);
}

FILE *passwd_open_in(const char *root, const char *rel, struct den_err *err)
{
	cleanup_close int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd;
	FILE *f;

	if (dir < 0) {
		den_err_set(err, errno, "cannot open %s", root);
		return NULL;
	}
	fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof(how));
	if (fd < 0 || (f = fdopen(fd, "re")) == NULL) {
		den_err_set(err, errno, "cannot read /%s of %s", rel, root);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return f;
}
