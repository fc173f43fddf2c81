/* SPDX-License-Identifier: MIT */
/*
 * A private network's forwarding (providers/network/switch.c): frames a
 * hostile guest writes go only where Ethernet would take them from the
 * MAC den gave its machine, and nowhere else.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "providers/network/switch.h"

static struct net_switch sw;

/* Machine name on the switch at ip, its port's descriptor a real one (closed on detach). */
static void attach(const char *name, uint32_t ip)
{
	uint8_t mac[ETH_ALEN_DEN];
	struct den_err err = { 0 };
	int fd = dup(STDERR_FILENO);

	cr_assert_geq(fd, 0);
	switch_mac_of(ip, mac);
	cr_assert_geq(switch_attach(&sw, name, mac, fd, &err), 0, "%s", err.msg);
}

static int port(const char *name)
{
	return switch_port_named(&sw, name);
}

/* A frame of len bytes from ip src to ip dst (0: broadcast). */
static size_t frame(uint8_t *f, size_t len, uint32_t src, uint32_t dst)
{
	memset(f, 0, len);
	if (dst == 0)
		memset(f, 0xff, ETH_ALEN_DEN);
	else
		switch_mac_of(dst, f);
	switch_mac_of(src, f + ETH_ALEN_DEN);
	f[12] = 0x08; /* IPv4 */
	return len;
}

#define WEB 0xc0a8320aU /* 192.168.50.10 */
#define DB 0xc0a83214U	/* 192.168.50.20 */
#define CACHE 0xc0a8321eU

static void three(void)
{
	memset(&sw, 0, sizeof(sw));
	for (int i = 0; i < SWITCH_MAX_PORTS; i++)
		sw.ports[i].fd = -1;
	attach("web", WEB);
	attach("db", DB);
	attach("cache", CACHE);
}

TestSuite(net_switch, .init = three);

Test(net_switch, unicast_goes_to_the_one_machine_with_that_address)
{
	uint8_t f[64];
	int out[SWITCH_MAX_PORTS];

	cr_assert_eq(switch_route(&sw, port("web"), f, frame(f, 64, WEB, DB), out), 1);
	cr_expect_eq(out[0], port("db"));
	cr_expect_eq(sw.ports[port("web")].in, 1);
	cr_expect_eq(sw.ports[port("db")].out, 1);
	cr_expect_eq(sw.ports[port("cache")].out, 0, "the third machine does not see it");
}

Test(net_switch, broadcast_goes_to_every_other_machine)
{
	uint8_t f[64];
	int out[SWITCH_MAX_PORTS];

	cr_assert_eq(switch_route(&sw, port("web"), f, frame(f, 64, WEB, 0), out), 2);
	cr_expect_neq(out[0], port("web"));
	cr_expect_neq(out[1], port("web"));
}

Test(net_switch, a_frame_with_another_machines_source_address_is_dropped)
{
	uint8_t f[64];
	int out[SWITCH_MAX_PORTS];

	/* web says it is db, to db and to everyone. */
	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 64, DB, CACHE), out), 0);
	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 64, DB, 0), out), 0);
	cr_expect_eq(sw.ports[port("web")].dropped, 2);
	cr_expect_eq(sw.ports[port("cache")].out, 0);
}

Test(net_switch, lengths_no_ethernet_frame_has_are_dropped)
{
	uint8_t f[SWITCH_MAX_FRAME + 8];
	int out[SWITCH_MAX_PORTS];

	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 13, WEB, DB), out), 0);
	cr_expect_eq(
		switch_route(&sw, port("web"), f, frame(f, SWITCH_MAX_FRAME + 1, WEB, DB), out), 0);
	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, SWITCH_MAX_FRAME, WEB, DB), out), 1,
		     "a full frame with a VLAN tag goes");
	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 14, WEB, DB), out), 0,
		     "an IPv4 frame with no IPv4 header does not");
	frame(f, 14, WEB, DB);
	f[12] = 0x88, f[13] = 0xb5; /* a local experimental EtherType: no address to check */
	cr_expect_eq(switch_route(&sw, port("web"), f, 14, out), 1, "another bare header goes");
}

Test(net_switch, unknown_destinations_unknown_senders_and_itself_go_nowhere)
{
	uint8_t f[64];
	int out[SWITCH_MAX_PORTS];

	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 64, WEB, 0xc0a83299U), out), 0,
		     "no flooding of an address no machine has");
	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 64, WEB, WEB), out), 0);
	cr_expect_eq(port("stranger"), -1);
	cr_expect_eq(switch_route(&sw, -1, f, frame(f, 64, WEB, DB), out), 0);
}

Test(net_switch, a_detached_machine_gets_nothing_and_its_address_can_come_back)
{
	uint8_t f[64], mac[ETH_ALEN_DEN];
	int out[SWITCH_MAX_PORTS];
	struct den_err err = { 0 };
	int fd = dup(STDERR_FILENO);

	switch_detach(&sw, port("db"));
	cr_expect_eq(switch_ports(&sw), 2);
	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 64, WEB, DB), out), 0);
	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 64, WEB, 0), out), 1);
	switch_mac_of(WEB, mac);
	cr_expect_lt(switch_attach(&sw, "other", mac, fd, &err), 0, "web's address is web's");
	cr_expect_not_null(strstr(err.msg, "web"), "%s", err.msg);
	cr_expect_eq(fcntl(fd, F_GETFD), -1, "a refused port's descriptor is closed");
	attach("db", DB);
	cr_expect_eq(switch_route(&sw, port("web"), f, frame(f, 64, WEB, DB), out), 1);
	attach("db", DB);
	cr_expect_eq(switch_ports(&sw), 3, "a machine attached again has one port");
}

Test(net_switch, macs_come_from_the_address)
{
	uint8_t mac[ETH_ALEN_DEN];

	switch_mac_of(WEB, mac);
	cr_expect_eq(memcmp(mac, "\x52\x54\xc0\xa8\x32\x0a", 6), 0);
	cr_expect_eq(mac[0] & 3, 2, "locally administered, unicast");
}

static void put_ip(uint8_t *at, uint32_t ip)
{
	at[0] = (uint8_t)(ip >> 24), at[1] = (uint8_t)(ip >> 16), at[2] = (uint8_t)(ip >> 8),
	at[3] = (uint8_t)ip;
}

Test(net_switch, a_guest_cannot_speak_for_another_machines_ip_address)
{
	uint8_t f[64];
	int out[SWITCH_MAX_PORTS];

	/* IPv4 from web's MAC with db's address as its source: dropped; with its own, or none: on. */
	frame(f, 64, WEB, CACHE);
	put_ip(f + 26, DB);
	cr_expect_eq(switch_route(&sw, port("web"), f, 64, out), 0);
	put_ip(f + 26, WEB);
	cr_expect_eq(switch_route(&sw, port("web"), f, 64, out), 1);
	/* An ARP reply from web saying db's address is at web's MAC: dropped. */
	frame(f, 64, WEB, 0);
	f[12] = 0x08, f[13] = 0x06;
	switch_mac_of(WEB, f + 22);
	put_ip(f + 28, DB);
	cr_expect_eq(switch_route(&sw, port("web"), f, 64, out), 0, "ARP for another's address");
	put_ip(f + 28, WEB);
	cr_expect_eq(switch_route(&sw, port("web"), f, 64, out), 2, "ARP for its own goes to all");
	switch_mac_of(DB, f + 22);
	cr_expect_eq(switch_route(&sw, port("web"), f, 64, out), 0, "ARP naming another's MAC");
	frame(f, 20, WEB, DB);
	cr_expect_eq(switch_route(&sw, port("web"), f, 20, out), 0,
		     "IPv4 too short for its header");
}

Test(net_switch, a_mac_as_text_and_back)
{
	uint8_t mac[ETH_ALEN_DEN], back[ETH_ALEN_DEN];
	char text[SWITCH_MAC_TEXT];

	switch_mac_of(WEB, mac);
	switch_mac_text(mac, text);
	cr_expect_str_eq(text, "52:54:c0:a8:32:0a");
	cr_expect(switch_mac_parse(text, back));
	cr_expect_eq(memcmp(mac, back, ETH_ALEN_DEN), 0);
	cr_expect(!switch_mac_parse("53:54:c0:a8:32:0a", back),
		  "a multicast address is no machine's");
	cr_expect(!switch_mac_parse("52:54:c0:a8:32:0a,", back), "nothing after it");
	cr_expect(!switch_mac_parse("52:54:c0:a8:32", back), "six bytes");
}

/* A UDP datagram from ip src to dst (0: broadcast), to port dport, its IPv4 flags and offset given. */
static size_t udp_frame(uint8_t *f, size_t len, uint32_t src, uint32_t dst, unsigned dport,
			unsigned frag)
{
	frame(f, len, src, dst);
	f[14] = 0x45, f[14 + 9] = 17;
	f[14 + 6] = (uint8_t)(frag >> 8), f[14 + 7] = (uint8_t)frag;
	memcpy(f + 14 + 12, "\0\0\0\0", 4);
	f[14 + 20 + 2] = (uint8_t)(dport >> 8), f[14 + 20 + 3] = (uint8_t)dport;
	return len;
}

Test(net_switch, a_dhcp_server_gets_dhcp_and_arp_only)
{
	uint8_t f[300], server_mac[ETH_ALEN_DEN] = { 0x52, 0x55, 0xc0, 0xa8, 0x32, 0xfe };
	int out[SWITCH_MAX_PORTS], web = port("web");

	/* A stand-in: switch_route only compares it with NULL; cleared before any detach. */
	sw.ports[web].dhcp = (struct usernet *)&sw;
	memcpy(sw.ports[web].dhcp_mac, server_mac, ETH_ALEN_DEN);
	cr_expect_eq(switch_route(&sw, web, f, udp_frame(f, 300, WEB, 0, 67, 0), out), 3,
		     "a DISCOVER: both other machines and the server");
	cr_expect_eq(out[2], SWITCH_TO_DHCP);
	cr_expect_eq(switch_route(&sw, web, f, udp_frame(f, 300, WEB, 0, 53, 0), out), 2,
		     "a broadcast to another port: not the server");
	udp_frame(f, 300, WEB, 0xc0a832fe, 67, 0);
	memcpy(f, server_mac, ETH_ALEN_DEN);
	cr_expect_eq(switch_route(&sw, web, f, 300, out), 1, "a renewal to the server's MAC");
	cr_expect_eq(out[0], SWITCH_TO_DHCP);
	udp_frame(f, 300, WEB, 0xc0a832fe, 67, 0x2000);
	memcpy(f, server_mac, ETH_ALEN_DEN);
	cr_expect_eq(switch_route(&sw, web, f, 300, out), 0, "a fragment is not");
	udp_frame(f, 300, WEB, 0x08080808, 80, 0);
	f[14 + 9] = 6;
	memcpy(f, server_mac, ETH_ALEN_DEN);
	cr_expect_eq(switch_route(&sw, web, f, 300, out), 0, "nor TCP through the server");
	cr_expect_eq(switch_route(&sw, port("db"), f, udp_frame(f, 300, DB, 0, 67, 0), out), 2,
		     "a machine without dhcp: no server");
	sw.ports[web].dhcp = NULL;
}
