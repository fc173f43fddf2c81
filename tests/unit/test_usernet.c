/* SPDX-License-Identifier: MIT */
/*
 * Forwarded-port syntaxes of den's user-mode network (the Envfile's and
 * QEMU's hostfwd), and the stream server `den net run` gives QEMU machines.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/usernet.h"

static const char *ip(struct in_addr a)
{
	static char buf[INET_ADDRSTRLEN];
	return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

Test(usernet, envfile_forwards)
{
	struct usernet_fwd f;
	struct den_err err = { 0 };

	cr_assert(usernet_parse_fwd("8080:80", &f, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.1");
	cr_expect_eq(f.host_port, 8080);
	cr_expect_eq(f.guest_port, 80);
	cr_assert(usernet_parse_fwd("udp:127.0.0.2:5353:53", &f, &err) == 0, "%s", err.msg);
	cr_expect(f.udp);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.2");
	cr_expect(usernet_parse_fwd("80", &f, &err) < 0);
	cr_expect(usernet_parse_fwd("70000:80", &f, &err) < 0);
}

Test(usernet, qemu_hostfwd)
{
	struct usernet_fwd f;
	struct den_err err = { 0 };

	cr_assert(usernet_parse_hostfwd("tcp:127.0.0.1:8080-:80", &f, &err) == 0, "%s", err.msg);
	cr_expect(!f.udp);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.1");
	cr_expect_eq(f.host_port, 8080);
	cr_expect_eq(f.guest_port, 80);
	cr_assert(usernet_parse_hostfwd("udp::5353-:53", &f, &err) == 0, "%s", err.msg);
	cr_expect(f.udp);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.1", "no host address: loopback, never every one");
	cr_assert(usernet_parse_hostfwd(":2222-10.0.2.15:22", &f, &err) == 0, "%s", err.msg);
	cr_expect_eq(f.host_port, 2222);
	cr_expect_eq(f.guest_port, 22);
	cr_assert(usernet_parse_hostfwd("127.0.0.5:2222-10.0.2.15:22", &f, &err) == 0, "%s",
		  err.msg);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.5");

	cr_expect(usernet_parse_hostfwd("sctp::1-:2", &f, &err) < 0);
	cr_expect(strstr(err.msg, "expected [tcp|udp]") != NULL, "%s", err.msg);
	cr_expect(usernet_parse_hostfwd("tcp::8080-10.0.2.9:80", &f, &err) < 0);
	cr_expect(strstr(err.msg, "the guest is 10.0.2.15") != NULL, "%s", err.msg);
	cr_expect(usernet_parse_hostfwd("tcp::0-:80", &f, &err) < 0);
	cr_expect(usernet_parse_hostfwd("tcp::8080-:80x", &f, &err) < 0, "trailing junk");
	cr_expect(usernet_parse_hostfwd("tcp:8080:80", &f, &err) < 0);
}

/* --- den net run's stream server (QEMU's -netdev stream framing) ---------- */

struct served {
	int fd, ready;
	struct usernet_fwd fwd;
	size_t n_fwd;
	int rc;
	char msg[DEN_ERR_MSG_MAX];
};

static void *serve(void *arg)
{
	struct served *s = arg;
	struct den_err err = { 0 };

	s->rc = usernet_serve_stream(s->fd, &s->fwd, s->n_fwd, false, s->ready, &err);
	snprintf(s->msg, sizeof(s->msg), "%s", err.msg);
	close(s->fd);
	return NULL;
}

/* An ARP request from the guest (10.0.2.15) for the gateway 10.0.2.2, framed. */
static size_t arp_request(unsigned char *out)
{
	static const unsigned char frame[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
		10,   0,    2,	  15,	0,    0,    0,	  0,	0,    0,    10,	  0,	2,    2,
	};
	uint32_t len = htonl(sizeof(frame));

	memcpy(out, &len, 4);
	memcpy(out + 4, frame, sizeof(frame));
	return 4 + sizeof(frame);
}

static void start(struct served *s, pthread_t *t, int *peer)
{
	int sv[2], ready[2];
	char c;

	cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(ready) == 0);
	s->fd = sv[0];
	s->ready = ready[1];
	*peer = sv[1];
	/* Set before the thread starts: it may end, and set its own, before we would. */
	s->rc = 1;
	cr_assert(pthread_create(t, NULL, serve, s) == 0);
	/* Ready, or ended: read returns 1 or 0. */
	(void)!read(ready[0], &c, 1);
	close(ready[0]);
}

Test(usernet_stream, the_gateway_answers_arp_in_qemus_framing, .timeout = 20)
{
	struct served s = { .n_fwd = 0 };
	unsigned char buf[128];
	pthread_t t;
	int peer;
	uint32_t len;

	start(&s, &t, &peer);
	cr_assert(write(peer, buf, arp_request(buf)) > 0);
	cr_assert(read(peer, &len, 4) == 4, "a frame comes back");
	len = ntohl(len);
	cr_assert(len >= 42 && len <= sizeof(buf), "one Ethernet frame: %u", len);
	cr_assert(recv(peer, buf, len, MSG_WAITALL) == (ssize_t)len);
	cr_expect(buf[12] == 0x08 && buf[13] == 0x06 && buf[21] == 2, "an ARP reply");
	cr_expect(memcmp(buf + 28, (unsigned char[]){ 10, 0, 2, 2 }, 4) == 0, "from 10.0.2.2");
	close(peer);
	pthread_join(t, NULL);
	cr_expect_eq(s.rc, 0, "QEMU hanging up ends the network quietly: %s", s.msg);
}

Test(usernet_stream, a_length_no_frame_has_ends_it, .timeout = 20)
{
	struct served s = { .n_fwd = 0 };
	uint32_t huge = htonl(1u << 30);
	pthread_t t;
	int peer;

	start(&s, &t, &peer);
	cr_assert(write(peer, &huge, 4) == 4);
	pthread_join(t, NULL);
	cr_expect(s.rc < 0);
	cr_expect(strstr(s.msg, "longer than") != NULL, "%s", s.msg);
	close(peer);
}

Test(usernet_stream, a_forwarded_port_in_use_is_an_error_before_ready, .timeout = 20)
{
	struct served s = { .n_fwd = 1 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int busy = socket(AF_INET, SOCK_STREAM, 0), peer;
	char spec[64];
	struct den_err err = { 0 };
	pthread_t t;

	cr_assert(bind(busy, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(busy, 1) == 0);
	cr_assert(getsockname(busy, (struct sockaddr *)&a, &al) == 0);
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d:22", ntohs(a.sin_port));
	cr_assert(usernet_parse_fwd(spec, &s.fwd, &err) == 0, "%s", err.msg);
	start(&s, &t, &peer);
	pthread_join(t, NULL);
	cr_expect(s.rc < 0, "the port is taken");
	close(peer);
	close(busy);
}
