/* SPDX-License-Identifier: MIT */
/*
 * The switch as a process (switch.h): its control socket takes machines
 * (attach: a name, a MAC and, passed with the request, the switch's end
 * of the machine's socket pair), lets them go (detach, or their end
 * closing: a supervisor or QEMU killed), says what it carries (status)
 * and ends (stop, or its last machine gone). Frames go out without
 * waiting: a machine that does not read its frames loses them, and stalls
 * no other.
 */
#include "providers/network/switch_serve.h"
#include "providers/network/switch.h"
#include "providers/network/switch_stream.h"
#include "core/cleanup.h"
#include "core/control.h"
#include "core/usernet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static json_t *fail(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

#define IDLE_MS 60000 /* a switch no machine joined ends after it */

/* A machine's port: SOCK_SEQPACKET (a packet, a frame) or SOCK_STREAM (QEMU's framing); else 0. */
static int port_type(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return 0;
	return type == SOCK_SEQPACKET || type == SOCK_STREAM ? type : 0;
}

static ssize_t dhcp_send(const void *frame, size_t len, void *arg);

/*
 * "dhcp": {"server": ADDRESS, "prefix": N}: the port's own DHCP server,
 * which leases it the address its MAC carries (switch_mac_of), on that
 * network, answering at server. NULL, or the reason it cannot be.
 */
static const char *add_dhcp(struct switch_port *p, json_t *dhcp)
{
	const char *server = json_string_value(json_object_get(dhcp, "server"));
	json_int_t prefix = json_integer_value(json_object_get(dhcp, "prefix"));
	struct usernet_dhcp d = { .hostname = p->name };
	struct den_err err = { 0 };
	uint32_t lease, mask;

	if (server == NULL || inet_pton(AF_INET, server, &d.server) != 1 || prefix < 1 ||
	    prefix > 30)
		return "dhcp takes a server address and a prefix from 1 to 30";
	lease = (uint32_t)p->mac[2] << 24 | (uint32_t)p->mac[3] << 16 | (uint32_t)p->mac[4] << 8 |
		p->mac[5];
	mask = ~0u << (32 - prefix);
	if ((ntohl(d.server.s_addr) & mask) != (lease & mask) || ntohl(d.server.s_addr) == lease)
		return "the DHCP server's address is not another one on the machine's network";
	d.lease.s_addr = htonl(lease);
	d.netmask.s_addr = htonl(mask);
	d.network.s_addr = htonl(lease & mask);
	if (usernet_new_dhcp(&d, dhcp_send, p, &p->dhcp, &err) < 0)
		return "the switch cannot start its DHCP server (libslirp)";
	/* libslirp's own MAC: 52:55 and its address's bytes. */
	p->dhcp_mac[0] = 0x52;
	p->dhcp_mac[1] = 0x55;
	memcpy(p->dhcp_mac + 2, &d.server.s_addr, 4);
	return NULL;
}

static json_t *attach(struct net_switch *sw, json_t *req, int fd)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	uint8_t mac[ETH_ALEN_DEN];
	struct den_err err = { 0 };

	int type = fd >= 0 ? port_type(fd) : 0;
	struct switch_stream *stream = NULL;

	if (type == 0) {
		if (fd >= 0)
			close(fd);
		return fail(
			"attach passes the switch's end of a SOCK_SEQPACKET or SOCK_STREAM pair");
	}
	if (name == NULL ||
	    !switch_mac_parse(json_string_value(json_object_get(req, "mac")), mac)) {
		close(fd);
		return fail("attach takes a name and a unicast mac (52:54:...)");
	}
	if (type == SOCK_STREAM && (stream = calloc(1, sizeof(*stream))) == NULL) {
		close(fd);
		return fail("the switch is out of memory");
	}
	int at = switch_attach(sw, name, mac, fd, &err);
	if (at < 0) {
		free(stream);
		return fail(err.msg);
	}
	sw->ports[at].stream = stream;
	json_t *dhcp = json_object_get(req, "dhcp");
	const char *why = dhcp != NULL ? add_dhcp(&sw->ports[at], dhcp) : NULL;
	if (why != NULL) {
		switch_detach(sw, at);
		return fail(why);
	}
	return json_pack("{s:b}", "ok", 1);
}

static json_t *status(const struct net_switch *sw)
{
	json_t *ports = json_array();

	for (int i = 0; i < SWITCH_MAX_PORTS; i++) {
		const struct switch_port *p = &sw->ports[i];
		char mac[SWITCH_MAC_TEXT];
		if (!p->used)
			continue;
		switch_mac_text(p->mac, mac);
		json_array_append_new(ports,
				      json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}", "name", p->name,
						"mac", mac, "in", (json_int_t)p->in, "out",
						(json_int_t)p->out, "dropped",
						(json_int_t)p->dropped, "dhcp", p->dhcp != NULL));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "ports", ports);
}

/* One client of the control socket; false when the switch is to end. */
static bool serve_client(struct net_switch *sw, int listener, bool *had_port)
{
	cleanup_close int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	int passed = -1;

	if (fd < 0)
		return true;
	json_t *req = control_read_request_passed(fd, &passed);
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	bool go_on = true;
	if (cmd != NULL && strcmp(cmd, "attach") == 0) {
		json_t *r = attach(sw, req, passed);
		*had_port |= json_is_true(json_object_get(r, "ok"));
		passed = -1;
		control_reply(fd, r);
	} else if (cmd != NULL && strcmp(cmd, "detach") == 0) {
		const char *name = json_string_value(json_object_get(req, "name"));
		switch_detach(sw, name != NULL ? switch_port_named(sw, name) : -1);
		control_reply(fd, json_pack("{s:b}", "ok", 1));
	} else if (cmd != NULL && strcmp(cmd, "status") == 0) {
		control_reply(fd, status(sw));
	} else if (cmd != NULL && strcmp(cmd, "stop") == 0) {
		control_reply(fd, json_pack("{s:b}", "ok", 1));
		go_on = false;
	} else {
		control_reply(fd, fail("unknown command; try attach, detach, status or stop"));
	}
	if (passed >= 0)
		close(passed);
	json_decref(req);
	return go_on;
}

struct from_port {
	struct net_switch *sw;
	int port;
};

/* A frame out to port p, now or never. */
static bool port_send(struct switch_port *p, const void *frame, size_t len)
{
	return p->stream != NULL ? switch_stream_send(p->stream, p->fd, frame, len)
				 : send(p->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

/* What a port's DHCP server answers, out to that port. */
static ssize_t dhcp_send(const void *frame, size_t len, void *arg)
{
	struct switch_port *p = arg;

	if (len < SWITCH_MIN_FRAME || len > SWITCH_MAX_FRAME || !port_send(p, frame, len))
		return -1;
	p->out++;
	return (ssize_t)len;
}

/* A frame from a port, out to where it goes; a port that cannot take it now loses it. */
static void route_frame(void *arg, const uint8_t *frame, size_t len)
{
	struct from_port *f = arg;
	int out[SWITCH_MAX_PORTS];
	size_t k = switch_route(f->sw, f->port, frame, len, out);

	for (size_t j = 0; j < k; j++) {
		if (out[j] == SWITCH_TO_DHCP) {
			usernet_input(f->sw->ports[f->port].dhcp, frame, len);
			continue;
		}
		struct switch_port *p = &f->sw->ports[out[j]];
		if (!port_send(p, frame, len))
			p->out--;
	}
}

/* What port i has sent, out to where it goes; false when the machine's end has closed. */
static bool forward(struct net_switch *sw, int i)
{
	struct switch_port *p = &sw->ports[i];
	struct from_port f = { sw, i };
	uint8_t frame[SWITCH_MAX_FRAME + 1];

	if (p->stream != NULL)
		return switch_stream_read(p->stream, p->fd, route_frame, &f, &p->dropped);
	ssize_t n = recv(p->fd, frame, sizeof(frame), MSG_DONTWAIT | MSG_TRUNC);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return false;
	/* MSG_TRUNC: n is the packet's own length, which an oversized one's gives away. */
	if (n > 0)
		route_frame(&f, frame, (size_t)n);
	return true;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Whether a switch with no machine may end now: only while it holds the
 * project's lock (lock_path), so no den is between finding it and joining
 * it; none given: at once. The lock stays held until the process ends.
 */
static bool may_end(const char *lock_path, int *lock_fd)
{
	if (lock_path == NULL)
		return true;
	if (*lock_fd < 0)
		*lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	return *lock_fd >= 0 && flock(*lock_fd, LOCK_EX | LOCK_NB) == 0;
}

int switch_serve(const char *control_path, const char *lock_path, int ready_fd, struct den_err *err)
{
	struct net_switch sw;
	struct pollfd p[SWITCH_MAX_PORTS + 1];
	int map[SWITCH_MAX_PORTS + 1];
	bool had_port = false, go_on = true;
	cleanup_close int listener = control_listen(control_path, err);
	cleanup_close int lock_fd = -1;
	long long started = now_ms();

	if (listener < 0)
		return -1;
	memset(&sw, 0, sizeof(sw));
	for (int i = 0; i < SWITCH_MAX_PORTS; i++)
		sw.ports[i].fd = -1;
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "ready\n", 6);
		close(ready_fd);
	}
	while (go_on) {
		nfds_t n = 1;
		bool empty = switch_ports(&sw) == 0;
		/* Empty: it ends once it had a machine, or none came for a minute. */
		if (empty && (had_port || now_ms() - started >= IDLE_MS) &&
		    may_end(lock_path, &lock_fd))
			break;
		p[0] = (struct pollfd){ listener, POLLIN, 0 };
		for (int i = 0; i < SWITCH_MAX_PORTS; i++)
			if (sw.ports[i].used) {
				struct switch_stream *st = sw.ports[i].stream;
				map[n] = i;
				p[n++] = (struct pollfd){
					sw.ports[i].fd,
					(short)(POLLIN |
						(st != NULL && switch_stream_pending(st) ? POLLOUT
											 : 0)),
					0
				};
			}
		if (poll(p, n, empty ? 1000 : -1) < 0) {
			if (errno == EINTR)
				continue;
			den_err_set(err, errno, "the switch at %s cannot wait", control_path);
			break;
		}
		for (nfds_t j = 1; j < n; j++) {
			struct switch_port *port = &sw.ports[map[j]];
			bool alive = true;
			if (!p[j].revents)
				continue;
			if (p[j].revents & POLLOUT)
				alive = switch_stream_flush(port->stream, port->fd);
			if (alive && (p[j].revents & (POLLIN | POLLHUP | POLLERR)))
				alive = forward(&sw, map[j]) &&
					!(p[j].revents & (POLLHUP | POLLERR));
			/* Its supervisor or QEMU gone: the port goes, the others stay. */
			if (!alive)
				switch_detach(&sw, map[j]);
		}
		if (p[0].revents & POLLIN)
			go_on = serve_client(&sw, listener, &had_port);
	}
	for (int i = 0; i < SWITCH_MAX_PORTS; i++)
		switch_detach(&sw, i);
	unlink(control_path);
	return den_err_is_set(err) ? -1 : 0;
}
