/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_NETWORK_NETWORK_H
#define DEN_PROVIDERS_NETWORK_NETWORK_H

/*
 * A machine's private networks, as its provider attaches it
 * (docs/networks.md): for each, the project's switch (started when none
 * answers: `den net switch`, one per project and network, gone with its
 * last machine) and the machine's port on it, whose end the provider hands
 * to what runs the machine (QEMU, den's VMM, a container's supervisor).
 * den holds the project's lock (core/lock.h) while it joins: a switch
 * with no machine left ends only when it can take that lock.
 */

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct den_machine;
struct den_ssh;
struct envfile;
struct machine;

struct network_port {
	int fd;		/* the machine's end (close-on-exec), or -1 */
	uint8_t mac[6]; /* 52:54 and the address's bytes */
	char ip[INET_ADDRSTRLEN];
	unsigned prefix;
};

/*
 * Joins dm to each of its private networks: ports[i] for
 * cfg->networks[i], sockets of type (SOCK_SEQPACKET or SOCK_STREAM, see
 * switch_join). On failure no port is left open.
 */
int network_join_all(const struct den_machine *dm, int type, struct network_port *ports,
		     struct den_err *err);

/* Closes the ports' ends (n of them). */
void network_close_all(struct network_port *ports, size_t n);

/*
 * The /etc/hosts lines ("ADDRESS NAME [HOSTNAME]\n") of the machines of ef
 * that share a private network with cfg, cfg itself included, each by its
 * address on the first network they share; "" when none (malloc'd; NULL
 * when out of memory).
 */
char *network_hosts_lines(const struct envfile *ef, const struct machine *cfg);

/*
 * Fails, saying so, when the machine behind ssh lacks one of its private
 * networks' addresses after 10 s: its box does not let den set them.
 */
int network_check_addresses(struct den_ssh *ssh, const struct machine *cfg, struct den_err *err);

#endif
