/* SPDX-License-Identifier: MIT */
/*
 * The private network's switch as a process (providers/network/
 * switch_serve.c), machines joined as their supervisors join it: frames
 * between them (packets, and QEMU's stream framing), what a hostile guest
 * writes dropped, a machine killed leaving the rest served, and the switch
 * gone with its last machine, once it holds the project's lock.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/control.h"
#include "core/fsutil.h"
#include "providers/network/switch.h"
#include "providers/network/switch_serve.h"
#include "tests/helpers/testutil.h"

#define WEB 0xc0a8320aU
#define DB 0xc0a83214U
#define CACHE 0xc0a8321eU

static char *dir, path[256], lock[256];
static pid_t child = -1;

/* The switch, in a child; with_lock: it ends only holding lock (the project's). */
static void start_switch(bool with_lock)
{
	int ready[2];
	char buf[8];

	snprintf(path, sizeof(path), "%s/switch.sock", dir);
	snprintf(lock, sizeof(lock), "%s/env.lock", dir);
	cr_assert_eq(pipe(ready), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		struct den_err err = { 0 };
		close(ready[0]);
		_exit(switch_serve(path, with_lock ? lock : NULL, ready[1], &err) == 0 ? 0 : 1);
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], buf, sizeof(buf)), 6, "the switch says it is ready");
	close(ready[0]);
}

static void start(void)
{
	dir = make_temp_dir();
	start_switch(false);
}

static void stop(void)
{
	if (child > 0 && waitpid(child, NULL, WNOHANG) == 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	rm_rf(dir);
	free(dir);
}

TestSuite(switch_serve, .init = start, .fini = stop, .timeout = 30);

static int join_as(const char *name, uint32_t ip, int type)
{
	uint8_t mac[ETH_ALEN_DEN];
	struct den_err err = { 0 };

	switch_mac_of(ip, mac);
	int fd = switch_join(path, name, mac, NULL, type, &err);
	cr_assert_geq(fd, 0, "%s joins: %s", name, err.msg);
	return fd;
}

static int join(const char *name, uint32_t ip)
{
	return join_as(name, ip, SOCK_SEQPACKET);
}

static void send_frame(int fd, uint32_t src, uint32_t dst, size_t len, uint8_t tag)
{
	static uint8_t f[SWITCH_MAX_FRAME + 16];

	cr_assert_leq(len, sizeof(f));
	memset(f, tag, len);
	if (dst == 0)
		memset(f, 0xff, ETH_ALEN_DEN);
	else
		switch_mac_of(dst, f);
	switch_mac_of(src, f + ETH_ALEN_DEN);
	cr_assert_eq(send(fd, f, len, 0), (ssize_t)len);
}

/* The tag of the frame fd gets within ms, or -1 when none comes. */
static int got(int fd, int ms)
{
	static uint8_t f[SWITCH_MAX_FRAME + 16];
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	ssize_t n = recv(fd, f, sizeof(f), 0);
	return n > 14 ? f[n - 1] : -1;
}

Test(switch_serve, frames_go_between_machines_and_what_a_guest_forges_does_not)
{
	int web = join("web", WEB), db = join("db", DB), cache = join("cache", CACHE);

	send_frame(web, WEB, DB, 100, 1);
	cr_expect_eq(got(db, 2000), 1, "web to db");
	cr_expect_eq(got(cache, 100), -1, "unicast reaches no third machine");
	send_frame(db, DB, 0, 60, 2);
	cr_expect_eq(got(web, 2000), 2, "a broadcast reaches web");
	cr_expect_eq(got(cache, 2000), 2, "and cache");
	cr_expect_eq(got(db, 100), -1, "not its sender");
	send_frame(web, DB, CACHE, 100, 3);
	cr_expect_eq(got(cache, 300), -1, "web posing as db is dropped");
	send_frame(web, WEB, DB, SWITCH_MAX_FRAME + 1, 4);
	cr_expect_eq(got(db, 300), -1, "a frame longer than the network's is dropped");
	send_frame(web, WEB, DB, 10, 5);
	cr_expect_eq(got(db, 300), -1, "and a shorter one");
	/* Another machine cannot take web's address. */
	uint8_t mac[ETH_ALEN_DEN];
	struct den_err err = { 0 };
	switch_mac_of(WEB, mac);
	cr_expect_lt(switch_join(path, "intruder", mac, NULL, SOCK_SEQPACKET, &err), 0);
	cr_expect_not_null(strstr(err.msg, "web"), "%s", err.msg);
	close(web), close(db), close(cache);
}

Test(switch_serve, a_machine_killed_leaves_the_rest_served_and_the_last_one_ends_it)
{
	int web = join("web", WEB), db = join("db", DB), cache = join("cache", CACHE);
	json_t *reply = NULL;
	struct den_err err = { 0 };
	int status = -1;

	close(cache); /* its supervisor killed */
	send_frame(web, WEB, DB, 100, 7);
	cr_expect_eq(got(db, 2000), 7);
	cr_assert_eq(control_request(path, "status", &reply, &err), 0, "%s", err.msg);
	cr_expect_eq(json_array_size(json_object_get(reply, "ports")), 2, "cache's port is gone");
	json_t *p = json_array_get(json_object_get(reply, "ports"), 0);
	cr_expect_eq(json_integer_value(json_object_get(p, "in")), 1, "web sent one frame");
	json_decref(reply);
	close(web);
	close(db);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the switch ends with its last machine");
	cr_expect(!den_exists(path), "and takes its socket with it");
}

/* A frame as QEMU's stream sends it: the length claimed (BE), then len bytes. */
static void send_framed(int fd, uint32_t claimed, uint32_t src, uint32_t dst, size_t len,
			uint8_t tag)
{
	static uint8_t f[4 + SWITCH_MAX_FRAME + 16];
	uint32_t head = htonl(claimed);

	cr_assert_leq(len, sizeof(f) - 4);
	memcpy(f, &head, 4);
	memset(f + 4, tag, len);
	switch_mac_of(dst, f + 4);
	switch_mac_of(src, f + 4 + ETH_ALEN_DEN);
	cr_assert_eq(send(fd, f, 4 + len, 0), (ssize_t)(4 + len));
}

Test(switch_serve, a_qemu_stream_port_is_framed_and_garbage_ends_only_it)
{
	int vm = join_as("vm", WEB, SOCK_STREAM), db = join("db", DB);
	json_t *reply = NULL;
	struct den_err err = { 0 };
	uint8_t f[64];

	send_framed(vm, 100, WEB, DB, 100, 1);
	cr_expect_eq(got(db, 2000), 1, "a stream frame reaches a packet port");
	/* Too long for the network: skipped whole, and the next frame is still read right. */
	send_framed(vm, SWITCH_MAX_FRAME + 1, WEB, DB, SWITCH_MAX_FRAME + 1, 2);
	send_framed(vm, 60, WEB, DB, 60, 3);
	cr_expect_eq(got(db, 2000), 3, "the frame after an oversized one");
	send_frame(db, DB, WEB, 60, 4);
	struct pollfd p = { vm, POLLIN, 0 };
	cr_assert_eq(poll(&p, 1, 2000), 1);
	cr_assert_eq(recv(vm, f, sizeof(f), MSG_WAITALL), 64, "a 4-byte length and the frame");
	cr_expect_eq(ntohl(*(uint32_t *)f), 60u);
	cr_expect_eq(f[63], 4);
	/* A length no frame has: that port goes, db's stays. */
	send_framed(vm, 0x7fffffffU, WEB, DB, 60, 5);
	cr_expect_eq(got(db, 300), -1);
	cr_assert_eq(control_request(path, "status", &reply, &err), 0, "%s", err.msg);
	cr_expect_eq(json_array_size(json_object_get(reply, "ports")), 1, "vm's port is gone");
	json_decref(reply);
	close(vm), close(db);
}

TestSuite(switch_lock, .timeout = 30);

Test(switch_lock, an_empty_switch_waits_for_the_project_lock_before_it_ends)
{
	int status = -1;

	dir = make_temp_dir();
	snprintf(lock, sizeof(lock), "%s/env.lock", dir);
	start_switch(true);
	/* Taken after the fork: a lock the switch inherited would never be let go. */
	int held = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_eq(flock(held, LOCK_EX), 0);
	close(join("web", WEB));
	usleep(1500 * 1000);
	cr_expect_eq(waitpid(child, &status, WNOHANG), 0,
		     "a den holds the lock (it may be joining): the switch stays");
	cr_expect(den_exists(path));
	close(held);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "then it ends");
	cr_expect(!den_exists(path));
	stop();
}

/* The IPv4 header checksum of the 20 bytes at h. */
static uint16_t ip_checksum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A DHCPDISCOVER from the machine at ip (its MAC), as a client sends it: 300 bytes of BOOTP. */
static void send_discover(int fd, uint32_t ip)
{
	uint8_t f[14 + 20 + 8 + 300] = { 0 }, *h = f + 14, *u = h + 20, *b = u + 8;
	uint16_t sum;

	memset(f, 0xff, ETH_ALEN_DEN);
	switch_mac_of(ip, f + ETH_ALEN_DEN);
	f[12] = 0x08;
	h[0] = 0x45, h[2] = (20 + 8 + 300) >> 8, h[3] = (20 + 8 + 300) & 0xff;
	h[8] = 64, h[9] = 17;
	memset(h + 16, 0xff, 4);
	sum = ip_checksum(h);
	h[10] = (uint8_t)(sum >> 8), h[11] = (uint8_t)sum;
	u[1] = 68, u[3] = 67, u[4] = (8 + 300) >> 8, u[5] = (8 + 300) & 0xff;
	b[0] = 1, b[1] = 1, b[2] = 6, b[4] = 0x12, b[5] = 0x34, b[10] = 0x80;
	switch_mac_of(ip, b + 28);
	memcpy(b + 236, "\x63\x82\x53\x63\x35\x01\x01\xff", 8);
	cr_assert_eq(send(fd, f, sizeof(f), 0), (ssize_t)sizeof(f));
}

/* The DHCP answer fd gets within ms: its message type, the address offered, the server. */
static int dhcp_answer(int fd, int ms, uint32_t *yiaddr, uint32_t *server)
{
	uint8_t f[2048];
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	ssize_t n = recv(fd, f, sizeof(f), 0);
	const uint8_t *b = f + 14 + 20 + 8;
	if (n < 14 + 20 + 8 + 240 || f[12] != 0x08 || f[14 + 9] != 17 || b[0] != 2)
		return -1;
	uint32_t be;
	memcpy(&be, b + 16, 4);
	*yiaddr = ntohl(be);
	int type = -1;
	for (const uint8_t *o = b + 240; o + 2 <= f + n && *o != 0xff; o += o[0] ? 2 + o[1] : 1) {
		if (o[0] == 53 && o[1] == 1)
			type = o[2];
		if (o[0] == 54 && o[1] == 4) {
			memcpy(&be, o + 2, 4);
			*server = ntohl(be);
		}
	}
	return type;
}

Test(switch_serve, a_dhcp_machine_is_offered_its_own_address_by_its_own_server)
{
	uint8_t mac[ETH_ALEN_DEN];
	struct den_err err = { 0 };
	struct switch_dhcp dhcp = { "192.168.50.254", 24 };
	uint32_t offered = 0, server = 0;

	switch_mac_of(WEB, mac);
	int web = switch_join(path, "web", mac, &dhcp, SOCK_SEQPACKET, &err);
	cr_assert_geq(web, 0, "web joins with dhcp: %s", err.msg);
	int db = join("db", DB);
	send_discover(web, WEB);
	cr_expect_eq(dhcp_answer(web, 3000, &offered, &server), 2, "a DHCPOFFER comes back");
	cr_expect_eq(offered, WEB, "of web's own address: %08x", offered);
	cr_expect_eq(server, 0xc0a832feU, "from the server den named: %08x", server);
	cr_expect_eq(got(db, 1000), 0, "db sees web's DISCOVER, a broadcast");
	cr_expect_eq(got(db, 300), -1, "but not the offer");
	send_discover(db, DB);
	cr_expect_eq(got(web, 1000), 0, "web sees db's DISCOVER");
	cr_expect_eq(dhcp_answer(db, 500, &offered, &server), -1,
		     "a machine with a fixed address has no DHCP server");
	cr_expect_eq(got(web, 300), -1, "and web's server does not answer db");
	json_t *reply = NULL;
	cr_assert_eq(control_request(path, "status", &reply, &err), 0, "%s", err.msg);
	json_t *ports = json_object_get(reply, "ports");
	for (size_t i = 0; i < json_array_size(ports); i++) {
		json_t *p = json_array_get(ports, i);
		bool web_port = strcmp(json_string_value(json_object_get(p, "name")), "web") == 0;
		cr_expect_eq(json_is_true(json_object_get(p, "dhcp")), web_port,
			     "status says which port has a DHCP server");
	}
	json_decref(reply);
	switch_mac_of(CACHE, mac);
	dhcp.server = "10.0.0.1";
	cr_expect_lt(switch_join(path, "cache", mac, &dhcp, SOCK_SEQPACKET, &err), 0,
		     "a server off the machine's network is refused");
	close(web), close(db);
}
