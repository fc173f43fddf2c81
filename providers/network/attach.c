/* SPDX-License-Identifier: MIT */
/* A machine's ports on its project's switches, started when missing (network.h). */
#include "providers/network/network.h"
#include "providers/network/switch.h"
#include "providers/network/switch_serve.h"
#include "core/cleanup.h"
#include "core/control.h"
#include "core/envfile.h"
#include "core/fsutil.h"
#include "core/machine.h"
#include "core/project.h"
#include "core/spawn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where a network of the project lives: its state folder's networks/NET-PREFIX.*, and env.lock. */
struct net_paths {
	char *sock, *lock, *log; /* the switch's control socket, the network's lock, its log */
	char *project_lock;	 /* the project's (core/lock.h), which the switch takes to end */
};

static void net_paths_free(struct net_paths *p)
{
	free(p->sock), free(p->lock), free(p->log), free(p->project_lock);
}

/* The paths of network n of dm's project, its networks/ folder made. */
static int net_paths_of(const struct den_machine *dm, const struct private_network *n,
			const char *shown, struct net_paths *p, struct den_err *err)
{
	cleanup_free char *state = NULL, *dir = NULL;
	char net[INET_ADDRSTRLEN];

	*p = (struct net_paths){ 0 };
	if (project_state_dir(dm->root, &state, err) < 0)
		return -1;
	envfile_network_text(n, net);
	if (asprintf(&dir, "%s/networks", state) < 0 ||
	    asprintf(&p->sock, "%s/%s-%u.sock", dir, net, n->prefix) < 0 ||
	    asprintf(&p->lock, "%s/%s-%u.lock", dir, net, n->prefix) < 0 ||
	    asprintf(&p->log, "%s/%s-%u.log", dir, net, n->prefix) < 0 ||
	    asprintf(&p->project_lock, "%s/env.lock", state) < 0) {
		net_paths_free(p);
		*p = (struct net_paths){ 0 };
		return den_err_set(err, ENOMEM, "network %s", shown);
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return den_err_set(err, errno, "network %s: cannot make %s", shown, dir);
	return 0;
}

/* Whether a switch answers at path. */
static bool switch_answers(const char *path)
{
	json_t *reply = NULL;
	struct den_err ignored = { 0 };
	bool ok = control_request(path, "status", &reply, &ignored) == 0 &&
		  json_is_true(json_object_get(reply, "ok"));

	json_decref(reply);
	return ok;
}

/* Starts `den net switch` for the network at p, detached, and waits until it listens. */
static int start_switch(const struct net_paths *p, const char *shown, struct den_err *err)
{
	cleanup_close int log_fd = -1;
	int ready[2];
	char line[8] = "";
	pid_t pid;

	log_fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log_fd < 0)
		return den_err_set(err, errno, "network %s: cannot write %s", shown, p->log);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return den_err_set(err, errno, "network %s: cannot start its switch", shown);
	const char *argv[] = { "den",	 "net",		  "switch",	  "--control", p->sock,
			       "--lock", p->project_lock, "--ready-fd=3", NULL };
	struct den_spawn sp = { .argv = argv,
				.path = "/proc/self/exe",
				.in = DEN_SPAWN_NULL,
				.out = log_fd,
				.err_fd = log_fd,
				.fds = &ready[1],
				.n_fds = 1,
				.close_fds = true,
				.setsid = true,
				.name = "den net switch" };
	int rc = den_spawn_start(&sp, &pid, err);
	close(ready[1]);
	ssize_t got = 0;
	while (rc == 0 && (got = read(ready[0], line, sizeof(line) - 1)) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (rc < 0)
		return den_err_wrap(err, "network %s: cannot start its switch", shown);
	if (got <= 0) {
		char tail[512] = "";
		int st;
		den_spawn_wait(pid, &st, err);
		den_read_tail(p->log, 3, tail, sizeof(tail));
		tail[strcspn(tail, "\n")] = '\0';
		return den_err_set(err, 0, "network %s: its switch did not start: %s", shown,
				   tail[0] ? tail : "no message");
	}
	return 0;
}

/*
 * Machines of one `den up` start side by side (cmd/parallel.h), all under
 * its project lock: the network's own lock (networks/NET-PREFIX.lock)
 * lets one of them at a time find or start the switch and join it, so
 * that two never start two switches for one network.
 */
static int lock_network(const struct net_paths *p, const char *shown, int *fd, struct den_err *err)
{
	*fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return den_err_set(err, errno, "network %s: cannot open %s", shown, p->lock);
	while (flock(*fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int saved = errno;
			close(*fd);
			*fd = -1;
			return den_err_set(err, saved, "network %s: cannot lock %s", shown,
					   p->lock);
		}
	return 0;
}

int network_join_all(const struct den_machine *dm, int type, struct network_port *ports,
		     struct den_err *err)
{
	const struct machine *c = dm->cfg;

	for (size_t i = 0; i < c->n_networks; i++)
		ports[i].fd = -1;
	for (size_t i = 0; i < c->n_networks; i++) {
		const struct private_network *n = &c->networks[i];
		struct network_port *port = &ports[i];
		struct net_paths p;
		char net[INET_ADDRSTRLEN], shown[INET_ADDRSTRLEN + 4], server[INET_ADDRSTRLEN];
		uint32_t server_be = htonl(envfile_dhcp_server(n));
		struct switch_dhcp dhcp = { server, n->prefix };
		int lock = -1;

		envfile_network_text(n, net);
		snprintf(shown, sizeof(shown), "%s/%u", net, n->prefix);
		switch_mac_of(n->addr, port->mac);
		snprintf(port->ip, sizeof(port->ip), "%s", n->ip);
		port->prefix = n->prefix;
		inet_ntop(AF_INET, &server_be, server, sizeof(server));
		bool ok = net_paths_of(dm, n, shown, &p, err) == 0 &&
			  lock_network(&p, shown, &lock, err) == 0 &&
			  (switch_answers(p.sock) || start_switch(&p, shown, err) == 0) &&
			  (port->fd = switch_join(p.sock, c->name, port->mac,
						  n->dhcp ? &dhcp : NULL, type, err)) >= 0;
		if (lock >= 0)
			close(lock);
		net_paths_free(&p);
		if (!ok) {
			network_close_all(ports, i + 1);
			return den_err_wrap(err, "machine %s: private network %s", c->name, shown);
		}
	}
	return 0;
}

void network_close_all(struct network_port *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i].fd >= 0)
			close(ports[i].fd), ports[i].fd = -1;
}

/* The first network a and b share (same network address and prefix), or NULL. */
static const struct private_network *shared(const struct machine *a, const struct machine *b)
{
	for (size_t i = 0; i < b->n_networks; i++)
		for (size_t j = 0; j < a->n_networks; j++) {
			const struct private_network *x = &a->networks[j], *y = &b->networks[i];
			uint32_t mask = envfile_netmask(x->prefix);
			if (x->prefix == y->prefix && (x->addr & mask) == (y->addr & mask))
				return y;
		}
	return NULL;
}

char *network_hosts_lines(const struct envfile *ef, const struct machine *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < ef->n_machines; i++) {
		const struct machine *m = &ef->machines[i];
		const struct private_network *n = shared(cfg, m);
		if (n == NULL)
			continue;
		fprintf(f, "%s %s", n->ip, m->name);
		if (m->hostname != NULL && strcmp(m->hostname, m->name) != 0)
			fprintf(f, " %s", m->hostname);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
