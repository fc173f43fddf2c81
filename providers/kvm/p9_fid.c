/* SPDX-License-Identifier: MIT */
/*
 * The fid table: a hash of the guest's fid numbers, at most P9_MAX_FIDS of
 * them, whose paths together stay within P9_PATH_BUDGET. The guest picks
 * the numbers; nothing here trusts them beyond looking them up.
 */
#include "providers/kvm/p9-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned bucket(uint32_t id)
{
	return (id * 2654435761u) >> 20; /* Fibonacci hashing into 4096 buckets */
}

_Static_assert(P9_FID_BUCKETS == 4096, "bucket() makes 12 bits");

struct p9_fid *p9_fid_get(struct p9_server *s, uint32_t id)
{
	for (struct p9_fid *f = s->fids[bucket(id)]; f != NULL; f = f->next)
		if (f->id == id)
			return f;
	return NULL;
}

/* Charges a path of len bytes (NUL included) against the budget; false when spent. */
static bool charge(struct p9_server *s, size_t len)
{
	/* Renames may have gone past the budget (they are never refused): no underflow. */
	if (s->path_bytes > P9_PATH_BUDGET || len > P9_PATH_BUDGET - s->path_bytes)
		return false;
	s->path_bytes += len;
	return true;
}

static void uncharge(struct p9_server *s, const char *path)
{
	if (path != NULL)
		s->path_bytes -= strlen(path) + 1;
}

int p9_fid_add(struct p9_server *s, uint32_t id, int fd, mode_t type, char *path, uint32_t uid,
	       struct p9_fid **out)
{
	int rc = 0;
	struct p9_fid *f = NULL;

	if (id == P9_NOFID)
		rc = -EINVAL;
	else if (p9_fid_get(s, id) != NULL)
		rc = -EEXIST;
	else if (s->nfids >= P9_MAX_FIDS)
		rc = -EMFILE; /* each fid holds a descriptor: the guest cannot have them all */
	else if ((f = calloc(1, sizeof(*f))) == NULL)
		rc = -ENOMEM;
	else if (!charge(s, strlen(path) + 1))
		rc = -ENFILE;
	if (rc < 0) {
		free(f);
		close(fd);
		free(path);
		return rc;
	}
	*f = (struct p9_fid){
		.id = id, .fd = fd, .io = -1, .type = type, .path = path, .uid = uid
	};
	f->next = s->fids[bucket(id)];
	s->fids[bucket(id)] = f;
	s->nfids++;
	*out = f;
	return 0;
}

/* Closes what f holds on its object: the I/O descriptor and an xattr's value. */
static void release(struct p9_server *s, struct p9_fid *f)
{
	if (f->io >= 0)
		close(f->io);
	f->io = -1;
	p9_xattr_free(s, f);
}

int p9_fid_move(struct p9_server *s, struct p9_fid *f, int fd, mode_t type, char *path)
{
	size_t old = strlen(f->path) + 1;

	s->path_bytes -= old;
	if (!charge(s, strlen(path) + 1)) {
		s->path_bytes += old;
		close(fd);
		free(path);
		return -ENFILE;
	}
	release(s, f);
	close(f->fd);
	free(f->path);
	f->fd = fd;
	f->type = type;
	f->path = path;
	return 0;
}

void p9_fid_clunk(struct p9_server *s, struct p9_fid *f)
{
	struct p9_fid **pp = &s->fids[bucket(f->id)];

	while (*pp != NULL && *pp != f)
		pp = &(*pp)->next;
	if (*pp == f)
		*pp = f->next;
	release(s, f);
	close(f->fd);
	uncharge(s, f->path);
	free(f->path);
	free(f);
	s->nfids--;
}

void p9_fid_clunk_all(struct p9_server *s)
{
	for (unsigned b = 0; b < P9_FID_BUCKETS; b++)
		while (s->fids[b] != NULL)
			p9_fid_clunk(s, s->fids[b]);
}

/* from's fids below it: "from" itself, or "from/..." (never "fromage"). */
static bool below(const char *path, const char *from, size_t n)
{
	return strncmp(path, from, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

void p9_fids_renamed(struct p9_server *s, const char *from, const char *to)
{
	size_t n = strlen(from), m = strlen(to);

	if (n == 0)
		return; /* the root is never renamed */
	for (unsigned b = 0; b < P9_FID_BUCKETS; b++) {
		for (struct p9_fid *f = s->fids[b]; f != NULL; f = f->next) {
			if (!below(f->path, from, n))
				continue;
			size_t rest = strlen(f->path + n);
			/*
			 * Too long or no memory: the fid keeps its old path, which now
			 * names something else or nothing. Only ".." and the name-based
			 * operations read it, and those stay beneath the root and check
			 * the object (p9_parent).
			 */
			if (m + rest + 1 > P9_PATH_MAX)
				continue;
			char *p = malloc(m + rest + 1);
			if (p == NULL)
				continue;
			memcpy(p, to, m);
			memcpy(p + m, f->path + n, rest + 1);
			s->path_bytes += m + rest + 1; /* never refused: the rename happened */
			uncharge(s, f->path);
			free(f->path);
			f->path = p;
		}
	}
}
