/* SPDX-License-Identifier: MIT */
/* QEMU's stream framing on a switch port (switch_stream.h). */
#include "providers/network/switch_stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* Hands out every whole frame in s->in and keeps the rest; false on a length no frame has. */
static bool take_frames(struct switch_stream *s, switch_frame_fn *take, void *arg,
			unsigned long long *dropped)
{
	size_t at = 0;

	while (s->have - at >= 4) {
		uint32_t len;
		memcpy(&len, s->in + at, 4);
		len = ntohl(len);
		if (len > SWITCH_STREAM_LIMIT)
			return false;
		size_t here = s->have - at - 4;
		if (len > SWITCH_MAX_FRAME) {
			/* Too long for Ethernet: what is here goes, the rest is skipped as it comes. */
			size_t part = here < len ? here : len;
			s->skip = len - part;
			at += 4 + part;
			(*dropped)++;
			continue;
		}
		if (here < len)
			break;
		if (len > 0)
			take(arg, s->in + at + 4, len);
		at += 4 + len;
	}
	memmove(s->in, s->in + at, s->have - at);
	s->have -= at;
	return true;
}

bool switch_stream_read(struct switch_stream *s, int fd, switch_frame_fn *take, void *arg,
			unsigned long long *dropped)
{
	uint8_t scrap[4096];
	ssize_t n;

	if (s->skip > 0) {
		size_t want = s->skip < sizeof(scrap) ? s->skip : sizeof(scrap);
		n = recv(fd, scrap, want, MSG_DONTWAIT);
		if (n > 0)
			s->skip -= (size_t)n;
	} else {
		n = recv(fd, s->in + s->have, sizeof(s->in) - s->have, MSG_DONTWAIT);
		if (n > 0) {
			s->have += (size_t)n;
			if (!take_frames(s, take, arg, dropped))
				return false;
		}
	}
	if (n == 0)
		return false;
	return n > 0 || errno == EAGAIN || errno == EINTR;
}

bool switch_stream_pending(const struct switch_stream *s)
{
	return s->out_at < s->out_len;
}

bool switch_stream_flush(struct switch_stream *s, int fd)
{
	while (switch_stream_pending(s)) {
		ssize_t n = send(fd, s->out + s->out_at, s->out_len - s->out_at,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		s->out_at += (size_t)n;
	}
	s->out_at = s->out_len = 0;
	return true;
}

bool switch_stream_send(struct switch_stream *s, int fd, const uint8_t *frame, size_t len)
{
	uint32_t head = htonl((uint32_t)len);

	if (switch_stream_pending(s) || len > SWITCH_MAX_FRAME)
		return false;
	memcpy(s->out, &head, 4);
	memcpy(s->out + 4, frame, len);
	ssize_t n = send(fd, s->out, 4 + len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n <= 0)
		return false; /* nothing went: the stream is still whole */
	s->out_at = (size_t)n;
	s->out_len = 4 + len;
	if (!switch_stream_pending(s))
		s->out_at = s->out_len = 0;
	return true;
}
