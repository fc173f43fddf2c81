/* SPDX-License-Identifier: MIT */
/* Host ports for a machine: its SSH port and the Envfile's forwarded ports. */
#include "providers/provider.h"
#include "core/cleanup.h"
#include "core/keys.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A free TCP port on 127.0.0.1, for the machine's SSH. */
int provider_free_port(struct den_err *err)
{
	cleanup_close int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return den_err_set(err, errno, "cannot find a free port for SSH");
	return ntohs(a.sin_port);
}

/* Can den listen on ip:port (tcp or udp) right now? */
static bool port_free(const char *ip, int port, bool udp)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	cleanup_close int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		return true; /* not IPv4: let the supervisor say what is wrong */
	return bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
}

/*
 * The Envfile's forwarded ports as they will be: a taken host port with
 * auto_correct: true moves to a free one (as Vagrant does). Recorded in
 * state.json for `den port`.
 */
int provider_plan_ports(struct den_machine *dm, int *hosts, struct den_err *err)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < dm->cfg->n_ports; i++) {
		const struct forwarded_port *p = &dm->cfg->ports[i];
		bool udp = p->protocol == FWD_UDP;

		hosts[i] = p->host;
		if (p->auto_correct && !port_free(p->host_ip, p->host, udp)) {
			int moved = provider_free_port(err);
			if (moved < 0) {
				json_decref(arr);
				return -1;
			}
			den_info(
				"%s: host port %u is taken; forwarding %d to guest port %u instead",
				dm->cfg->name, p->host, moved, p->guest);
			hosts[i] = moved;
		}
		json_array_append_new(arr,
				      json_pack("{s:i, s:s, s:i, s:s, s:s?}", "guest", p->guest,
						"host_ip", p->host_ip, "host", hosts[i], "protocol",
						udp ? "udp" : "tcp", "id", p->id));
	}
	free(dm->rec.ports_json);
	dm->rec.ports_json = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return 0;
}

int provider_record_start(struct den_machine *dm, const char *provider, int *port, int **hosts,
			  struct den_err *err)
{
	*hosts = NULL;
	*port = provider_free_port(err);
	if (*port < 0 || keys_write_known_hosts(dm->dir, "127.0.0.1", *port, err) < 0)
		return -1;
	*hosts = calloc(dm->cfg->n_ports + 1, sizeof(**hosts));
	if (*hosts == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (provider_plan_ports(dm, *hosts, err) < 0)
		return -1;
	free(dm->rec.provider);
	dm->rec.provider = strdup(provider);
	dm->rec.ssh_port = *port;
	free(dm->rec.ssh_host); /* 127.0.0.1: a provider that listens elsewhere says so after */
	dm->rec.ssh_host = NULL;
	dm->rec.supervisor = 0;
	dm->rec.running = true;
	if (dm->rec.created == 0)
		dm->rec.created = time(NULL);
	return machine_save(dm, err);
}

int provider_record_halt(struct den_machine *dm, struct den_err *err)
{
	dm->rec.running = false;
	dm->rec.supervisor = 0;
	return machine_save(dm, err);
}
