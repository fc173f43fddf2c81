/* SPDX-License-Identifier: MIT */
/*
 * Checks that need every machine, or the host: names unique after matrix
 * expansion, one primary at most, host ports not forwarded twice, private
 * IPs not given twice, synced folder host paths present, provisioner
 * names unique and before/after pointing at real steps. Read-only: a
 * check never creates anything.
 */
#include "core/envfile-internal.h"
#include "core/cleanup.h"
#include "core/project.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool any_addr(const char *ip)
{
	return strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

static bool ports_clash(const struct forwarded_port *a, const struct forwarded_port *b)
{
	if (a->host != b->host || a->protocol != b->protocol)
		return false;
	if (a->auto_correct && b->auto_correct)
		return false; /* both give way: den picks free ports at up */
	return strcmp(a->host_ip, b->host_ip) == 0 || any_addr(a->host_ip) || any_addr(b->host_ip);
}

static int check_ports(struct ectx *c, struct envfile *ef)
{
	int rc = 0;

	for (size_t i = 0; i < ef->n_machines; i++) {
		struct machine *m = &ef->machines[i];

		for (size_t p = 0; p < m->n_ports; p++) {
			struct forwarded_port *fp = &m->ports[p];
			bool done = false;

			/* Compare with every earlier port, in this machine or before it. */
			for (size_t j = 0; j <= i && !done; j++) {
				struct machine *o = &ef->machines[j];
				size_t end = j == i ? p : o->n_ports;

				for (size_t q = 0; q < end && !done; q++) {
					if (!ports_clash(fp, &o->ports[q]))
						continue;
					done = true;
					rc = ectx_error_at(
						c, fp->pos,
						"host port %u/%s of machine '%s' is already "
						"forwarded "
						"by machine '%s' (line %d)%s",
						fp->host, envfile_proto_name(fp->protocol), m->name,
						o->name, o->ports[q].pos.line,
						m->matrix_of != NULL ? "; a matrix makes several "
								       "machines, so give "
								       "the port auto_correct: true"
								     : "; pick another host port");
				}
			}
		}
	}
	return rc;
}

static int check_names(struct ectx *c, struct envfile *ef)
{
	const struct machine *primary = NULL;
	int rc = 0;

	for (size_t i = 0; i < ef->n_machines; i++) {
		struct machine *m = &ef->machines[i];

		if (strlen(m->name) > 63)
			rc = ectx_error_at(c, m->pos,
					   "machine name '%s' is longer than 63 characters",
					   m->name);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(ef->machines[j].name, m->name) == 0) {
				rc = ectx_error_at(c, m->pos,
						   "two machines are called '%s' (the other is at "
						   "line %d)%s",
						   m->name, ef->machines[j].pos.line,
						   m->matrix_of ? "; a matrix made this name" : "");
				break;
			}
		}
		if (m->primary && primary != NULL)
			rc = ectx_error_at(
				c, m->pos,
				"machines '%s' and '%s' are both primary; only one can be",
				primary->name, m->name);
		else if (m->primary)
			primary = m;
	}
	return rc;
}

/*
 * Two private networks a machine is on, a and b (of machines ma and mb):
 * the same network (the same address with the same netmask) or none in
 * common. Overlapping ones would route a machine's packets by whichever
 * den set first. 0, or an error at a.
 */
static int check_network_pair(struct ectx *c, const struct private_network *a, const char *ma,
			      const struct private_network *b, const char *mb, bool same_machine)
{
	unsigned shorter = a->prefix < b->prefix ? a->prefix : b->prefix;
	bool overlap = ((a->addr ^ b->addr) & envfile_netmask(shorter)) == 0;
	char na[INET_ADDRSTRLEN], nb[INET_ADDRSTRLEN];

	envfile_network_text(a, na);
	envfile_network_text(b, nb);
	if (a->addr == b->addr)
		return ectx_error_at(c, a->pos,
				     "private network ip %s of machine '%s' is already given to "
				     "machine '%s' (line %d)",
				     a->ip, ma, mb, b->pos.line);
	if (!overlap)
		return 0;
	if (a->prefix != b->prefix)
		return ectx_error_at(c, a->pos,
				     "private network %s/%u of machine '%s' overlaps %s/%u of "
				     "machine '%s' (line %d); machines on one network give it the "
				     "same netmask, and different networks must not overlap",
				     na, a->prefix, ma, nb, b->prefix, mb, b->pos.line);
	if (same_machine)
		return ectx_error_at(c, a->pos,
				     "machine '%s' is on private network %s/%u twice (line %d); "
				     "give it one address there",
				     ma, na, a->prefix, b->pos.line);
	return 0;
}

/* Whether a machine of ef has address addr on a private network (given, or picked before). */
static bool address_taken(const struct envfile *ef, uint32_t addr)
{
	for (size_t i = 0; i < ef->n_machines; i++)
		for (size_t a = 0; a < ef->machines[i].n_networks; a++) {
			const struct private_network *n = &ef->machines[i].networks[a];
			if (n->ip[0] != '\0' && n->addr == addr)
				return true;
		}
	return false;
}

/* A machine with dhcp: true on network (base, prefix), or NULL. */
static const struct machine *dhcp_user(const struct envfile *ef, uint32_t base, unsigned prefix)
{
	for (size_t i = 0; i < ef->n_machines; i++)
		for (size_t a = 0; a < ef->machines[i].n_networks; a++) {
			const struct private_network *n = &ef->machines[i].networks[a];
			if (n->dhcp && n->prefix == prefix &&
			    (n->addr & envfile_netmask(prefix)) == base)
				return &ef->machines[i];
		}
	return NULL;
}

/*
 * dhcp: true: den picks the address the network's DHCP server will give
 * (docs/networks.md), so that every machine knows the others by name
 * before any has asked: from the address below the server's down, in the
 * Envfile's order, past addresses machines give themselves. A machine
 * that gives itself the server's address is refused.
 */
static int assign_dhcp(struct ectx *c, struct envfile *ef)
{
	int rc = 0;

	for (size_t i = 0; i < ef->n_machines; i++)
		for (size_t a = 0; a < ef->machines[i].n_networks; a++) {
			struct private_network *n = &ef->machines[i].networks[a];
			const struct machine *user;
			char net[INET_ADDRSTRLEN];
			if (n->dhcp || n->addr != envfile_dhcp_server(n))
				continue;
			user = dhcp_user(ef, n->addr & envfile_netmask(n->prefix), n->prefix);
			if (user == NULL)
				continue;
			envfile_network_text(n, net);
			rc |= ectx_error_at(c, n->pos,
					    "private network ip %s of machine '%s' is where den's "
					    "DHCP server answers on %s/%u (machine '%s' has dhcp: "
					    "true there); give the machine another",
					    n->ip, ef->machines[i].name, net, n->prefix,
					    user->name);
		}
	for (size_t i = 0; i < ef->n_machines; i++)
		for (size_t a = 0; a < ef->machines[i].n_networks; a++) {
			struct private_network *n = &ef->machines[i].networks[a];
			uint32_t base = n->addr & envfile_netmask(n->prefix), pick;
			if (!n->dhcp || n->ip[0] != '\0')
				continue;
			for (pick = envfile_dhcp_server(n) - 1; pick > base; pick--)
				if (!address_taken(ef, pick))
					break;
			if (pick == base) {
				char net[INET_ADDRSTRLEN];
				envfile_network_text(n, net);
				rc |= ectx_error_at(
					c, n->pos,
					"private network %s/%u has no address left for "
					"machine '%s' (dhcp: true); give it a larger one "
					"(network: ADDRESS/PREFIX)",
					net, n->prefix, ef->machines[i].name);
				continue;
			}
			uint32_t be = htonl(pick);
			n->addr = pick;
			inet_ntop(AF_INET, &be, n->ip, sizeof(n->ip));
		}
	return rc;
}

static int check_networks(struct ectx *c, struct envfile *ef)
{
	int rc = 0;

	for (size_t i = 0; i < ef->n_machines; i++) {
		struct machine *m = &ef->machines[i];
		for (size_t a = 0; a < m->n_networks; a++) {
			/* Against every earlier network, in this machine or before it: one error each. */
			int bad = 0;
			for (size_t j = 0; j <= i && bad == 0; j++) {
				struct machine *o = &ef->machines[j];
				size_t end = j == i ? a : o->n_networks;
				for (size_t b = 0; b < end && bad == 0; b++)
					bad = check_network_pair(c, &m->networks[a], m->name,
								 &o->networks[b], o->name, j == i);
			}
			rc |= bad;
		}
	}
	return rc;
}

/* Is one of the two paths the other, or a folder above it? */
static bool nested(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;

	while (n > 1 && (na > nb ? b : a)[n - 1] == '/')
		n--;
	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/' || n == 1) &&
	       (b[n] == '\0' || b[n] == '/' || n == 1);
}

/*
 * A machine can write into its synced folders (and read what rsync copies
 * in): none may hold den's own state ($DEN_HOME: boxes, machine state and
 * keys of every project) or lie inside it.
 */
static int check_den_home(struct ectx *c, const struct machine *m, const struct synced_folder *f)
{
	cleanup_free char *home = NULL, *real_home = NULL, *real_host = NULL;
	struct den_err ignored = { 0 };

	if (den_home(&home, &ignored) < 0)
		return 0; /* den up says so itself */
	real_home = realpath(home, NULL);
	real_host = realpath(f->host_path, NULL);
	if (!nested(f->host_path, home) &&
	    (real_home == NULL || real_host == NULL || !nested(real_host, real_home)))
		return 0;
	return ectx_error_at(c, f->pos,
			     "synced folder host path '%s' of machine '%s' %s den's own state "
			     "(DEN_HOME, %s): the machine could change it; sync a folder apart "
			     "from it, or set DEN_HOME to a folder outside",
			     f->host, m->name,
			     strlen(f->host_path) <= strlen(home) ? "holds" : "is inside", home);
}

static int check_folders(struct ectx *c, struct machine *m)
{
	struct stat st;
	int rc = 0;

	for (size_t i = 0; i < m->n_folders; i++) {
		struct synced_folder *f = &m->folders[i];

		for (size_t j = 0; j < i; j++)
			if (strcmp(m->folders[j].guest, f->guest) == 0)
				rc = ectx_error_at(
					c, f->pos,
					"machine '%s' syncs two folders to %s (the other "
					"is at line %d)",
					m->name, f->guest, m->folders[j].pos.line);
		if (f->disabled)
			continue;
		rc |= check_den_home(c, m, f);
		if (f->create)
			continue;
		if (stat(f->host_path, &st) < 0)
			rc = ectx_error_at(c, f->pos,
					   "synced folder host path '%s' of machine '%s' does not "
					   "exist (%s); create it or add `create: true`",
					   f->host, m->name, f->host_path);
		else if (!S_ISDIR(st.st_mode) && f->type == SYNC_RSYNC)
			rc = ectx_error_at(c, f->pos,
					   "synced folder host path '%s' of machine '%s' is not a "
					   "folder",
					   f->host, m->name);
	}
	return rc;
}

static const struct prov_step *find_step(const struct machine *m, const char *name)
{
	for (size_t i = 0; i < m->n_steps; i++)
		if (strcmp(m->steps[i].name, name) == 0)
			return &m->steps[i];
	return NULL;
}

static int check_steps(struct ectx *c, struct machine *m)
{
	int rc = 0;

	for (size_t i = 0; i < m->n_steps; i++) {
		struct prov_step *s = &m->steps[i];
		const char *refs[2] = { s->before, s->after };
		const char *what[2] = { "before", "after" };

		for (size_t j = 0; j < i; j++)
			if (strcmp(m->steps[j].name, s->name) == 0)
				rc = ectx_error_at(c, s->pos,
						   "machine '%s' has two provisioners named '%s'; "
						   "names must be unique",
						   m->name, s->name);
		for (int r = 0; r < 2; r++) {
			if (refs[r] == NULL)
				continue;
			const struct prov_step *t = find_step(m, refs[r]);
			if (t == NULL)
				rc = ectx_error_at(c, s->pos,
						   "provisioner '%s' of machine '%s' runs %s '%s', "
						   "but no provisioner has that name",
						   s->name, m->name, what[r], refs[r]);
			else if (t == s)
				rc = ectx_error_at(c, s->pos,
						   "provisioner '%s' cannot run %s itself", s->name,
						   what[r]);
		}
	}
	return rc;
}

int envfile_check(struct ectx *c)
{
	struct envfile *ef = c->ef;
	int rc = 0;

	rc |= check_names(c, ef);
	rc |= check_ports(c, ef);
	rc |= assign_dhcp(c, ef);
	rc |= check_networks(c, ef);
	for (size_t i = 0; i < ef->n_machines; i++) {
		rc |= check_folders(c, &ef->machines[i]);
		rc |= check_steps(c, &ef->machines[i]);
	}
	return rc;
}
