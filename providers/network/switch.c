/* SPDX-License-Identifier: MIT */
/* A private network's forwarding: which ports a guest's frame may reach (switch.h). */
#include "providers/network/switch.h"
#include "core/usernet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void switch_mac_of(uint32_t addr, uint8_t mac[ETH_ALEN_DEN])
{
	/* 0x52: a locally administered unicast address, as QEMU's own 52:54:00. */
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = (uint8_t)(addr >> 24);
	mac[3] = (uint8_t)(addr >> 16);
	mac[4] = (uint8_t)(addr >> 8);
	mac[5] = (uint8_t)addr;
}

void switch_mac_text(const uint8_t mac[ETH_ALEN_DEN], char out[SWITCH_MAC_TEXT])
{
	snprintf(out, SWITCH_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

bool switch_mac_parse(const char *s, uint8_t mac[ETH_ALEN_DEN])
{
	unsigned v[ETH_ALEN_DEN];
	char end;

	if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
				&v[5], &end) != ETH_ALEN_DEN)
		return false;
	for (int i = 0; i < ETH_ALEN_DEN; i++)
		mac[i] = (uint8_t)v[i];
	return !(mac[0] & 1);
}

int switch_port_named(const struct net_switch *sw, const char *name)
{
	for (int i = 0; i < SWITCH_MAX_PORTS; i++)
		if (sw->ports[i].used && strcmp(sw->ports[i].name, name) == 0)
			return i;
	return -1;
}

static int find_mac(const struct net_switch *sw, const uint8_t *mac)
{
	for (int i = 0; i < SWITCH_MAX_PORTS; i++)
		if (sw->ports[i].used && memcmp(sw->ports[i].mac, mac, ETH_ALEN_DEN) == 0)
			return i;
	return -1;
}

int switch_attach(struct net_switch *sw, const char *name, const uint8_t mac[ETH_ALEN_DEN], int fd,
		  struct den_err *err)
{
	int at = switch_port_named(sw, name), other = find_mac(sw, mac);

	if (strlen(name) >= sizeof(sw->ports[0].name) || name[0] == '\0') {
		close(fd);
		return den_err_set(err, EINVAL, "'%s' is no machine name for a switch port", name);
	}
	if (other >= 0 && other != at) {
		close(fd);
		return den_err_set(err, EEXIST,
				   "machine %s: machine %s is on this network with its address",
				   name, sw->ports[other].name);
	}
	if (at >= 0)
		switch_detach(sw, at);
	for (int i = 0; at < 0 && i < SWITCH_MAX_PORTS; i++)
		if (!sw->ports[i].used)
			at = i;
	if (at < 0) {
		close(fd);
		return den_err_set(err, ENOSPC, "machine %s: the network has %d machines already",
				   name, SWITCH_MAX_PORTS);
	}
	struct switch_port *p = &sw->ports[at];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	memcpy(p->mac, mac, ETH_ALEN_DEN);
	p->fd = fd;
	p->used = true;
	return at;
}

void switch_detach(struct net_switch *sw, int i)
{
	if (i < 0 || i >= SWITCH_MAX_PORTS || !sw->ports[i].used)
		return;
	close(sw->ports[i].fd);
	free(sw->ports[i].stream);
	if (sw->ports[i].dhcp != NULL)
		usernet_free(sw->ports[i].dhcp);
	memset(&sw->ports[i], 0, sizeof(sw->ports[i]));
	sw->ports[i].fd = -1;
}

size_t switch_ports(const struct net_switch *sw)
{
	size_t n = 0;

	for (int i = 0; i < SWITCH_MAX_PORTS; i++)
		n += sw->ports[i].used;
	return n;
}

/*
 * Whether an IPv4 or ARP frame speaks for its own port's address, which
 * den gave with its MAC (switch_mac_of: bytes 2-5), or for none (0.0.0.0:
 * DHCP, ARP probes): a guest's root may set any address on its card, and
 * must not answer for another machine's. Other EtherTypes pass.
 */
static bool own_address(const struct switch_port *p, const uint8_t *frame, size_t len)
{
	static const uint8_t none[4];
	const uint8_t *ip = p->mac + 2, *said;
	unsigned type = (unsigned)frame[12] << 8 | frame[13];

	if (type == 0x0800) { /* IPv4: its source address */
		if (len < 14 + 20)
			return false;
		said = frame + 14 + 12;
	} else if (type == 0x0806) { /* ARP: its sender's MAC and address */
		if (len < 14 + 28 || memcmp(frame + 14 + 8, p->mac, ETH_ALEN_DEN) != 0)
			return false;
		said = frame + 14 + 14;
	} else {
		return true;
	}
	return memcmp(said, ip, 4) == 0 || memcmp(said, none, 4) == 0;
}

/*
 * What a port's DHCP server is given: ARP, and whole IPv4 UDP datagrams to
 * port 67 (DHCP's). Nothing else a guest sends reaches libslirp: no
 * fragment waits there for the rest of its datagram, no TCP for a timer.
 */
static bool for_dhcp(const uint8_t *frame, size_t len)
{
	unsigned type = (unsigned)frame[12] << 8 | frame[13];

	if (type == 0x0806)
		return true;
	if (type != 0x0800 || len < 14 + 20 + 8)
		return false;
	const uint8_t *ip = frame + 14;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ip[0] >> 4 != 4 || ihl < 20 || len < 14 + ihl + 8 || ip[9] != 17)
		return false;
	if ((ip[6] & 0x3f) != 0 || ip[7] != 0) /* more fragments, or an offset: a fragment */
		return false;
	const uint8_t *udp = ip + ihl;
	return ((unsigned)udp[2] << 8 | udp[3]) == 67;
}

size_t switch_route(struct net_switch *sw, int from, const uint8_t *frame, size_t len, int *out)
{
	size_t n = 0;

	if (from < 0 || from >= SWITCH_MAX_PORTS || !sw->ports[from].used)
		return 0;
	struct switch_port *src = &sw->ports[from];
	/* A frame no Ethernet carries, or one claiming another machine's address. */
	if (len < SWITCH_MIN_FRAME || len > SWITCH_MAX_FRAME ||
	    memcmp(frame + ETH_ALEN_DEN, src->mac, ETH_ALEN_DEN) != 0 ||
	    !own_address(src, frame, len)) {
		src->dropped++;
		return 0;
	}
	if (frame[0] & 1) { /* broadcast and multicast: every other machine */
		for (int i = 0; i < SWITCH_MAX_PORTS; i++)
			if (i != from && sw->ports[i].used)
				out[n++] = i;
		if (src->dhcp != NULL && for_dhcp(frame, len))
			out[n++] = SWITCH_TO_DHCP;
	} else if (src->dhcp != NULL && memcmp(frame, src->dhcp_mac, ETH_ALEN_DEN) == 0) {
		if (for_dhcp(frame, len))
			out[n++] = SWITCH_TO_DHCP;
	} else {
		int to = find_mac(sw, frame);
		if (to >= 0 && to != from)
			out[n++] = to;
	}
	if (n == 0) {
		src->dropped++;
		return 0;
	}
	src->in++;
	for (size_t i = 0; i < n; i++)
		if (out[i] != SWITCH_TO_DHCP)
			sw->ports[out[i]].out++;
	return n;
}
