/* SPDX-License-Identifier: MIT */
/*
 * Merging `defaults:` into each machine, and the values a machine gets
 * when neither says anything (docs/envfile.md lists them).
 */
#include "core/envfile-internal.h"
#include "core/size.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_CPUS ENVFILE_DEFAULT_CPUS
#define DEFAULT_MEMORY ENVFILE_DEFAULT_MEMORY
#define DEFAULT_BOOT_TIMEOUT ENVFILE_DEFAULT_BOOT_TIMEOUT
#define DEFAULT_HALT_TIMEOUT 60

#define TAKE(m, d, key, field)                                                                     \
	do {                                                                                       \
		if (!((m)->set & KEYBIT(key)) && ((d)->set & KEYBIT(key))) {                       \
			(m)->field = (d)->field;                                                   \
			(m)->set |= KEYBIT(key);                                                   \
			(m)->key_pos[key] = (d)->key_pos[key];                                     \
		}                                                                                  \
	} while (0)

/* dst = a then b, in a fresh arena array. */
#define CONCAT(c, type, dst, n_dst, a, n_a, b, n_b)                                                \
	do {                                                                                       \
		size_t n_ = (n_a) + (n_b);                                                         \
		type *arr_ = arena_calloc(&(c)->ef->arena, n_ ? n_ : 1, sizeof(type));             \
		if (arr_ == NULL)                                                                  \
			return ectx_oom(c);                                                        \
		if ((n_a) > 0)                                                                     \
			memcpy(arr_, (a), (n_a) * sizeof(type));                                   \
		if ((n_b) > 0)                                                                     \
			memcpy(arr_ + (n_a), (b), (n_b) * sizeof(type));                           \
		(dst) = arr_;                                                                      \
		(n_dst) = n_;                                                                      \
	} while (0)

int envfile_merge_defaults(struct ectx *c, struct machine *m, const struct machine *d)
{
	TAKE(m, d, ENVFILE_KEY_BOX, box);
	TAKE(m, d, ENVFILE_KEY_BOX_VERSION, box_version);
	TAKE(m, d, ENVFILE_KEY_BOX_URL, box_url);
	TAKE(m, d, ENVFILE_KEY_PROVIDER, provider);
	TAKE(m, d, ENVFILE_KEY_CPUS, cpus);
	TAKE(m, d, ENVFILE_KEY_MEMORY, memory);
	TAKE(m, d, ENVFILE_KEY_DISK_SIZE, disk_size);
	TAKE(m, d, ENVFILE_KEY_AUTOSTART, autostart);
	TAKE(m, d, ENVFILE_KEY_BOOT_TIMEOUT, boot_timeout);
	TAKE(m, d, ENVFILE_KEY_HALT_TIMEOUT, graceful_halt_timeout);
	TAKE(m, d, ENVFILE_KEY_NETWORK, network);
	TAKE(m, d, ENVFILE_KEY_NO_NEW_PRIVS, no_new_privs);
	TAKE(m, d, ENVFILE_KEY_HOST_LOOPBACK, host_loopback);
	TAKE(m, d, ENVFILE_KEY_ACCEL, accel);
	envfile_merge_lxd(m, d);
	TAKE(m, d, ENVFILE_KEY_SSH_USERNAME, ssh.username);
	TAKE(m, d, ENVFILE_KEY_SSH_KEY, ssh.private_key_path);
	TAKE(m, d, ENVFILE_KEY_SSH_INSERT_KEY, ssh.insert_key);

	CONCAT(c, struct forwarded_port, m->ports, m->n_ports, d->ports, d->n_ports, m->ports,
	       m->n_ports);
	CONCAT(c, struct private_network, m->networks, m->n_networks, d->networks, d->n_networks,
	       m->networks, m->n_networks);
	CONCAT(c, struct prov_step, m->steps, m->n_steps, d->steps, d->n_steps, m->steps,
	       m->n_steps);

	/* Synced folders: the machine's entry replaces the default with its guest path. */
	struct synced_folder *f =
		arena_calloc(&c->ef->arena, d->n_folders + m->n_folders + 1, sizeof(*f));
	size_t n = 0;
	if (f == NULL)
		return ectx_oom(c);
	for (size_t i = 0; i < d->n_folders; i++) {
		bool replaced = false;
		for (size_t j = 0; j < m->n_folders; j++)
			if (strcmp(d->folders[i].guest, m->folders[j].guest) == 0)
				replaced = true;
		if (!replaced)
			f[n++] = d->folders[i];
	}
	for (size_t j = 0; j < m->n_folders; j++)
		f[n++] = m->folders[j];
	m->folders = f;
	m->n_folders = n;
	return 0;
}

/* A host name from a machine name: '_' and '.' become '-'. */
static const char *hostname_from(struct ectx *c, const char *name)
{
	char *h = arena_strndup(&c->ef->arena, name, strlen(name) > 63 ? 63 : strlen(name));

	if (h == NULL)
		return NULL;
	for (char *p = h; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p))
			*p = '-';
	while (h[0] == '-')
		h++;
	for (size_t len = strlen(h); len > 0 && h[len - 1] == '-'; len--)
		h[len - 1] = '\0';
	return h[0] != '\0' ? h : "den";
}

int envfile_finish_machine(struct ectx *c, struct machine *m)
{
	if (!(m->set & KEYBIT(ENVFILE_KEY_CPUS)))
		m->cpus = DEFAULT_CPUS;
	if (!(m->set & KEYBIT(ENVFILE_KEY_MEMORY)))
		m->memory = DEFAULT_MEMORY;
	if (!(m->set & KEYBIT(ENVFILE_KEY_AUTOSTART)))
		m->autostart = true;
	if (!(m->set & KEYBIT(ENVFILE_KEY_BOOT_TIMEOUT)))
		m->boot_timeout = DEFAULT_BOOT_TIMEOUT;
	if (!(m->set & KEYBIT(ENVFILE_KEY_HALT_TIMEOUT)))
		m->graceful_halt_timeout = DEFAULT_HALT_TIMEOUT;
	if (!(m->set & KEYBIT(ENVFILE_KEY_SSH_INSERT_KEY)))
		m->ssh.insert_key = true;
	if (!(m->set & KEYBIT(ENVFILE_KEY_HOSTNAME))) {
		m->hostname = hostname_from(c, m->name);
		if (m->hostname == NULL)
			return ectx_oom(c);
	}
	for (size_t i = 0; i < m->n_steps; i++) {
		struct prov_step *s = &m->steps[i];

		if (s->name == NULL) {
			s->name = arena_printf(&c->ef->arena, "%s-%zu",
					       envfile_prov_kind_name(s->kind), i + 1);
			if (s->name == NULL)
				return ectx_oom(c);
		}
	}
	if (m->box == NULL)
		return ectx_error_at(c, m->pos,
				     "machine '%s' has no box; add `box: den/debian-12` to it or "
				     "to defaults",
				     m->name);
	return 0;
}
