/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_NETWORK_SWITCH_STREAM_H
#define DEN_PROVIDERS_NETWORK_SWITCH_STREAM_H

/*
 * A switch port that speaks QEMU's `-netdev stream` framing: a 4-byte
 * big-endian length, then the frame. The bytes come from a guest: a
 * frame longer than the network's is skipped, a length no frame has
 * (over 128 KiB) ends the port, and a frame is written whole or dropped, so
 * a slow reader never desynchronises its stream.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "providers/network/switch.h"

#define SWITCH_STREAM_LIMIT (1 << 17) /* no length beyond it: the stream is garbage */

struct switch_stream {
	uint8_t in[4 + SWITCH_MAX_FRAME];
	size_t have; /* bytes in in[] */
	size_t skip; /* bytes of an oversized frame still to throw away */
	uint8_t out[4 + SWITCH_MAX_FRAME];
	size_t out_len, out_at; /* a frame written in part: the rest is out[out_at..out_len) */
};

typedef void switch_frame_fn(void *arg, const uint8_t *frame, size_t len);

/*
 * Reads what fd has and calls take for each whole frame; one longer than
 * SWITCH_MAX_FRAME is skipped and counted in *dropped. False when fd has
 * closed or failed, or sent a length over SWITCH_STREAM_LIMIT.
 */
bool switch_stream_read(struct switch_stream *s, int fd, switch_frame_fn *take, void *arg,
			unsigned long long *dropped);

/*
 * Sends a frame of len bytes (at most SWITCH_MAX_FRAME) without waiting:
 * false when it was dropped (the last one still partly queued, the socket
 * full or gone). A frame the socket took in part is finished by
 * switch_stream_flush.
 */
bool switch_stream_send(struct switch_stream *s, int fd, const uint8_t *frame, size_t len);

/* Writes what is left of a frame sent in part; false when fd failed. */
bool switch_stream_flush(struct switch_stream *s, int fd);

/* Whether a frame waits to be finished (the port wants POLLOUT). */
bool switch_stream_pending(const struct switch_stream *s);

#endif
