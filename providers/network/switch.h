/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_NETWORK_SWITCH_H
#define DEN_PROVIDERS_NETWORK_SWITCH_H

/*
 * A project's private network is a user-space Ethernet switch (DESIGN.md
 * §8): no host interface, no bridge, no host address. Each machine on it
 * is a port: one end of a socket pair whose other end its supervisor
 * holds (SOCK_SEQPACKET, one packet a frame; handed to the switch over
 * its control socket), so no path names a port, and a frame's port is the
 * descriptor it came in on, which no guest can forge. Every frame comes
 * from a guest, so from a hostile program:
 * the switch forwards only whole Ethernet frames whose source is the MAC
 * den gave that port (and, for IPv4 and ARP, whose sender address is its
 * own or 0.0.0.0), unicast only to the port that owns the destination
 * (den gives every MAC, so there is nothing to learn and no unknown
 * address to flood), broadcast and multicast to every other port.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SWITCH_MAX_PORTS 64
#define ETH_ALEN_DEN 6
/*
 * A private network's MTU: den gives it to every card on it (a
 * container's tap, a VM's virtio-net), so that a frame carries 64 KiB,
 * as on loopback, and a stream costs 40 times fewer trips through the
 * switch than at Ethernet's 1500.
 */
#define SWITCH_MTU 65520
/* Destination, source, EtherType; then up to SWITCH_MTU bytes, and a VLAN tag at most. */
#define SWITCH_MIN_FRAME 14
#define SWITCH_MAX_FRAME (14 + 4 + SWITCH_MTU)

struct switch_stream;
struct usernet;

struct switch_port {
	char name[64];		      /* the machine's */
	uint8_t mac[ETH_ALEN_DEN];    /* the one source its frames may carry */
	int fd;			      /* the switch's end of the machine's socket pair */
	struct switch_stream *stream; /* its framing when fd is a stream (malloc'd), or NULL */
	unsigned long long in, out;   /* frames forwarded from it, to it */
	unsigned long long dropped;   /* frames from it the switch refused */
	/*
	 * dhcp: true: its own DHCP server (core/usernet.h, usernet_new_dhcp),
	 * which gets the ARP and DHCP (whole UDP datagrams to port 67) of its
	 * broadcasts and of what it sends to dhcp_mac, and leases it its
	 * address; NULL for a machine that sets its own.
	 */
	struct usernet *dhcp;
	uint8_t dhcp_mac[ETH_ALEN_DEN];
	bool used;
};

/* In switch_route's out: the frame also goes to its own port's DHCP server. */
#define SWITCH_TO_DHCP (-1)

struct net_switch {
	struct switch_port ports[SWITCH_MAX_PORTS];
};

/* The MAC den gives a machine's address on a private network: 52:54 and the address's bytes. */
void switch_mac_of(uint32_t addr, uint8_t mac[ETH_ALEN_DEN]);

/* A MAC as text, "52:54:c0:a8:32:0a" (what QEMU, den's VMM and the switch take). */
#define SWITCH_MAC_TEXT 18
void switch_mac_text(const uint8_t mac[ETH_ALEN_DEN], char out[SWITCH_MAC_TEXT]);
/* That text back, with nothing after it; false unless it is a unicast MAC (a machine's own). */
bool switch_mac_parse(const char *s, uint8_t mac[ETH_ALEN_DEN]);

/*
 * Adds the port of machine name, with its MAC, on fd (the switch's end,
 * which it then owns: closed on detach or failure). A machine already
 * there is attached anew (a restarted supervisor). Fails when the switch
 * is full or another machine has that MAC. Returns the port's index.
 */
int switch_attach(struct net_switch *sw, const char *name, const uint8_t mac[ETH_ALEN_DEN], int fd,
		  struct den_err *err);
/* Removes port i, closing its descriptor and freeing its stream and DHCP server. */
void switch_detach(struct net_switch *sw, int i);
/* Machine name's port, or -1. */
int switch_port_named(const struct net_switch *sw, const char *name);
/* How many ports are attached. */
size_t switch_ports(const struct net_switch *sw);

/*
 * Where a frame of len bytes from port from goes: the ports, in out (room
 * for SWITCH_MAX_PORTS: the other ports, and SWITCH_TO_DHCP for the
 * port's own DHCP server), and how many. 0 when it goes nowhere: from no port, of a length
 * no Ethernet frame has, from a MAC not its port's, or to a unicast
 * address no other port has. Counts it on the ports.
 */
size_t switch_route(struct net_switch *sw, int from, const uint8_t *frame, size_t len, int *out);

#endif
