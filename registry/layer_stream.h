/* SPDX-License-Identifier: MIT */
#ifndef DEN_REGISTRY_LAYER_STREAM_H
#define DEN_REGISTRY_LAYER_STREAM_H

/*
 * A compressed box file decompressed while it downloads (a registry_tee):
 * a thread unpacks from a pipe the download writes to, so a pull costs
 * the longer of the two, not their sum. Its output is only a candidate
 * until the blob's digest matched; the caller removes it otherwise.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct layer_stream {
	int pipe_r, pipe_w;
	pthread_t thread;
	bool running;
	bool broken; /* the download started over: the output is void */
	const char *dst;
	uint64_t max, used;
	int rc;
	struct den_err err;
};

/* Starts the thread that unpacks into dst (at most max bytes). */
int layer_stream_start(struct layer_stream *s, const char *dst, uint64_t max, struct den_err *err);

/* registry_tee's callbacks (arg: the layer_stream). */
void layer_stream_data(const void *buf, size_t len, void *arg);
void layer_stream_restart(void *arg);

/*
 * Ends the stream (no more bytes) and waits for the thread: 0 when dst is
 * whole (*used its size), 1 when it is void (broken: unpack the file
 * instead), -1 when unpacking failed (err says why). dst is removed
 * unless 0.
 */
int layer_stream_finish(struct layer_stream *s, uint64_t *used, struct den_err *err);

#endif
