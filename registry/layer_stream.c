/* SPDX-License-Identifier: MIT */
/* A box file decompressed while it downloads (registry/layer_stream.h). */
#include "registry/layer_stream.h"
#include "boxes/unpack.h"
#include "core/fsutil.h"
#include "core/lazylib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *unpack_thread(void *arg)
{
	struct layer_stream *s = arg;
	char path[32], buf[1 << 16];

	snprintf(path, sizeof(path), "/dev/fd/%d", s->pipe_r);
	s->rc = unpack_blob_file(path, s->dst, s->max, &s->used, &s->err);
	/* Drained to the end either way: the writer never meets a closed pipe. */
	while (read(s->pipe_r, buf, sizeof(buf)) > 0 || errno == EINTR)
		errno = 0;
	return NULL;
}

int layer_stream_start(struct layer_stream *s, const char *dst, uint64_t max, struct den_err *err)
{
	int p[2];

	memset(s, 0, sizeof(*s));
	s->pipe_r = s->pipe_w = -1;
	/* libarchive is loaded here, not in the thread. */
	if (den_archive_load(err) < 0)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return den_err_set(err, errno, "cannot unpack %s", dst);
	s->pipe_r = p[0];
	s->pipe_w = p[1];
	s->dst = dst;
	s->max = max;
	if ((errno = pthread_create(&s->thread, NULL, unpack_thread, s)) != 0) {
		close(p[0]);
		close(p[1]);
		return den_err_set(err, errno, "cannot unpack %s", dst);
	}
	s->running = true;
	return 0;
}

void layer_stream_data(const void *buf, size_t len, void *arg)
{
	struct layer_stream *s = arg;

	if (s->pipe_w >= 0 && den_write_all(s->pipe_w, buf, len) < 0)
		layer_stream_restart(s);
}

void layer_stream_restart(void *arg)
{
	struct layer_stream *s = arg;

	s->broken = true;
	if (s->pipe_w >= 0)
		close(s->pipe_w);
	s->pipe_w = -1;
}

int layer_stream_finish(struct layer_stream *s, uint64_t *used, struct den_err *err)
{
	if (s->pipe_w >= 0)
		close(s->pipe_w);
	s->pipe_w = -1;
	if (s->running)
		pthread_join(s->thread, NULL);
	s->running = false;
	if (s->pipe_r >= 0)
		close(s->pipe_r);
	s->pipe_r = -1;
	if (!s->broken && s->rc == 0) {
		*used = s->used;
		return 0;
	}
	unlink(s->dst);
	if (s->broken)
		return 1;
	*err = s->err;
	return -1;
}
