/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_NETWORK_SWITCH_SERVE_H
#define DEN_PROVIDERS_NETWORK_SWITCH_SERVE_H

/*
 * A private network's switch as a process (`den net switch`), and how a
 * machine's supervisor joins it. Its control socket speaks den's JSON
 * lines (core/control.h): {"cmd": "attach", "name": N, "mac": M} (and
 * "dhcp": {"server": ADDRESS, "prefix": P} for a machine that asks for
 * its address) with the switch's end of the machine's socket pair passed
 * alongside (SCM_RIGHTS), "detach" (name), "status" (each port's name, mac,
 * frame counts and whether it has a DHCP server) and "stop".
 */

#include <stdint.h>

#include "core/err.h"

/*
 * Serves the switch on a control socket at control_path until it is told
 * to stop, or it has no machine (its last one gone, or none came in a
 * minute) and holds the project's lock at lock_path (NULL: no lock to
 * take): a den that holds it may be about to join. Writes "ready\n" to
 * ready_fd (then closed; -1: none) once listening.
 */
int switch_serve(const char *control_path, const char *lock_path, int ready_fd,
		 struct den_err *err);

/* A machine's DHCP server on its network (dhcp: true): where it answers, and the prefix. */
struct switch_dhcp {
	const char *server;
	unsigned prefix;
};

/*
 * Attaches machine name, with mac, to the switch at control_path: makes
 * the machine's socket pair of type (SOCK_SEQPACKET: one packet, one
 * frame; SOCK_STREAM: QEMU's `-netdev stream` framing), passes the switch
 * its end, and returns the machine's (close-on-exec). With dhcp (else
 * NULL) the switch serves it DHCP, leasing the address its MAC carries.
 */
int switch_join(const char *control_path, const char *name, const uint8_t mac[6],
		const struct switch_dhcp *dhcp, int type, struct den_err *err);

#endif
