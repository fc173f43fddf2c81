/* SPDX-License-Identifier: MIT */
/*
 * A container's network, as slirp4netns does it: in the container's new
 * network namespace a tap device tap0 gets 10.0.2.15/24 and a default
 * route via 10.0.2.2; its descriptor goes back to den, whose user-mode
 * network (core/usernet.c) answers for the gateway, DNS and the outside.
 * Each private network is one more tap, eth1 on, with its address and
 * den's MAC for it, whose frames den carries to the network's switch.
 */
#include "providers/container/container-internal.h"
#include "core/cleanup.h"
#include "core/envfile_items.h"
#include "core/usernet.h"
#include "providers/network/switch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <net/route.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int set_addr(int sock, const char *ifname, unsigned long req, const char *ip,
		    struct den_err *err)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	if (ioctl(sock, req, &ifr) < 0)
		return den_err_set(err, errno, "cannot set %s on %s", ip, ifname);
	return 0;
}

static int set_mac(int sock, const char *ifname, const unsigned char mac[6], struct den_err *err)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0)
		return den_err_set(err, errno, "cannot set the MAC address of %s", ifname);
	return 0;
}

/*
 * tap0's MAC, the same at every boot (QEMU's user-network default): the
 * user-mode network remembers the guest's address, and a rebooted
 * container must still answer to it.
 */
static const unsigned char usernet_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int set_mtu(int sock, const char *ifname, int mtu, struct den_err *err)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_mtu = mtu;
	if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
		return den_err_set(err, errno, "cannot set the MTU of %s to %d", ifname, mtu);
	return 0;
}

static int link_up(int sock, const char *ifname, struct den_err *err)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return den_err_set(err, errno, "cannot read the flags of %s", ifname);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return den_err_set(err, errno, "cannot bring %s up", ifname);
	return 0;
}

static int default_route(int sock, struct den_err *err)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;

	gw->sin_family = dst->sin_family = mask->sin_family = AF_INET;
	inet_pton(AF_INET, USERNET_GATEWAY, &gw->sin_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = "tap0";
	if (ioctl(sock, SIOCADDRT, &rt) < 0)
		return den_err_set(err, errno, "cannot add the default route");
	return 0;
}

/* A tap device ifname (nonblocking, close-on-exec) in *tap, and a socket to configure it. */
static int open_tap(const char *ifname, int *tap, int *sock, struct den_err *err)
{
	struct ifreq ifr = { 0 };

	*tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (*tap < 0)
		return den_err_set(err, errno,
				   "cannot open /dev/net/tun (the container network "
				   "needs it; or use network: host)");
	*sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*sock < 0)
		return den_err_set(err, errno, "cannot configure the container network");
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(*tap, TUNSETIFF, &ifr) < 0)
		return den_err_set(err, errno, "cannot create %s", ifname);
	return 0;
}

int ctr_net_make_private_tap(const char *ifname, const struct ctr_net *n, int *out,
			     struct den_err *err)
{
	cleanup_close int tap = -1, sock = -1;
	char ip[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	struct in_addr a = { htonl(n->addr) }, m = { htonl(envfile_netmask(n->prefix)) };
	unsigned char mac[6];

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	inet_ntop(AF_INET, &m, mask, sizeof(mask));
	switch_mac_of(n->addr, mac);
	if (open_tap(ifname, &tap, &sock, err) < 0 || set_mac(sock, ifname, mac, err) < 0 ||
	    set_mtu(sock, ifname, SWITCH_MTU, err) < 0 ||
	    set_addr(sock, ifname, SIOCSIFADDR, ip, err) < 0 ||
	    set_addr(sock, ifname, SIOCSIFNETMASK, mask, err) < 0 || link_up(sock, ifname, err) < 0)
		return -1;
	*out = steal_fd(&tap);
	return 0;
}

int ctr_net_make_tap(int *out, const char *ping_groups, struct den_err *err)
{
	cleanup_close int tap = -1, sock = -1;

	if (open_tap("tap0", &tap, &sock, err) < 0)
		return -1;
	if (link_up(sock, "lo", err) < 0 || set_mac(sock, "tap0", usernet_mac, err) < 0 ||
	    set_addr(sock, "tap0", SIOCSIFADDR, USERNET_GUEST, err) < 0 ||
	    set_addr(sock, "tap0", SIOCSIFNETMASK, "255.255.255.0", err) < 0 ||
	    link_up(sock, "tap0", err) < 0 || default_route(sock, err) < 0)
		return -1;
	/* ping without CAP_NET_RAW (ICMP datagram sockets), for every group: this netns only. */
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	size_t len = strlen(ping_groups);
	bool ok = fd >= 0 && write(fd, ping_groups, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	if (!ok)
		return den_err_set(err, errno, "cannot let the container ping (ping_group_range)");
	*out = steal_fd(&tap);
	return 0;
}

int ctr_send_fd(int sock, int fd, struct den_err *err)
{
	char byte = 't', buf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) < 0)
		return den_err_set(err, errno, "cannot hand the network device to den");
	return 0;
}

int ctr_recv_fd(int sock, int *fd, struct den_err *err)
{
	char byte, buf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)
	};
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c == NULL || c->cmsg_type != SCM_RIGHTS)
		return den_err_set(err, n < 0 ? errno : 0,
				   "the container did not send its network "
				   "device");
	memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}
