/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_ENVFILE_H
#define DEN_CORE_ENVFILE_H

/*
 * The Envfile, read into a typed model (docs/envfile.md is the reference).
 * Loading validates everything that can be checked without starting a
 * machine; after envfile_load() succeeds, every field below holds a legal
 * value, defaults are merged and `matrix:` is expanded. All memory belongs
 * to the envfile and goes with envfile_free().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/envfile_items.h"
#include "core/err.h"

#define ENVFILE_NAME "Envfile"
#define ENVFILE_MAX_BYTES (1u << 20) /* an Envfile is a config file, not a data set */
#define ENVFILE_MAX_MACHINES 1024

/*
 * What a machine gets when neither it nor `defaults:` says (docs/envfile.md);
 * `den box warm` makes warm images for these too.
 */
#define ENVFILE_DEFAULT_CPUS 2
#define ENVFILE_DEFAULT_MEMORY ((uint64_t)1 << 30)
#define ENVFILE_DEFAULT_BOOT_TIMEOUT 120

enum net_mode { NET_USER, NET_HOST }; /* NET_USER: den's user-mode NAT */
enum accel_mode { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

struct ssh_settings {
	const char *username;	      /* NULL: what the box says */
	const char *private_key_path; /* Vagrant-style boxes: the key to log in first */
	bool insert_key;	      /* replace that key with den's own; default true */
};

enum lxd_type { LXD_CONTAINER, LXD_VM };

/*
 * provider: lxd's settings (`lxd:`, docs/lxd.md). A field left NULL is
 * LXD's own default; a machine's field wins over the one in defaults.
 */
struct lxd_settings {
	const char *remote;	  /* NULL: the local LXD's unix socket; "https://HOST[:PORT]" */
	const char *project;	  /* the LXD project; NULL: "default" */
	const char *target;	  /* the cluster member to place the instance on */
	const char *storage_pool; /* the root disk's pool; NULL: the profiles' */
	const char **profiles;	  /* NULL: ["default"] */
	size_t n_profiles;
	enum lxd_type type;
	bool type_set;
};

/* The machine keys, one bit each in machine.set, recording what the file gave. */
enum envfile_key {
	ENVFILE_KEY_BOX,
	ENVFILE_KEY_BOX_VERSION,
	ENVFILE_KEY_BOX_URL,
	ENVFILE_KEY_PROVIDER,
	ENVFILE_KEY_CPUS,
	ENVFILE_KEY_MEMORY,
	ENVFILE_KEY_DISK_SIZE,
	ENVFILE_KEY_HOSTNAME,
	ENVFILE_KEY_PRIMARY,
	ENVFILE_KEY_AUTOSTART,
	ENVFILE_KEY_BOOT_TIMEOUT,
	ENVFILE_KEY_HALT_TIMEOUT,
	ENVFILE_KEY_NETWORK,
	ENVFILE_KEY_NO_NEW_PRIVS,
	ENVFILE_KEY_HOST_LOOPBACK,
	ENVFILE_KEY_ACCEL,
	ENVFILE_KEY_LXD,
	ENVFILE_KEY_SSH_USERNAME,
	ENVFILE_KEY_SSH_KEY,
	ENVFILE_KEY_SSH_INSERT_KEY,
	ENVFILE_KEY_PORTS,
	ENVFILE_KEY_FOLDERS,
	ENVFILE_KEY_NETWORKS,
	ENVFILE_KEY_PROVISION,
	ENVFILE_KEY_MATRIX,
	ENVFILE_KEY_COUNT
};
#define KEYBIT(k) ((uint64_t)1 << (k))

struct machine {
	const char *name;
	const char *matrix_of; /* the machine whose `matrix:` made this one, or NULL */
	const char *box, *box_version, *box_url;
	const char *provider; /* "kvm", "qemu", "container", "lxd", or NULL: see cmd/machines.c */
	unsigned cpus;
	uint64_t memory;    /* bytes */
	uint64_t disk_size; /* bytes; 0: the box's size */
	const char *hostname;
	bool primary, autostart;
	unsigned boot_timeout, graceful_halt_timeout; /* seconds */
	enum net_mode network;
	bool no_new_privs; /* containers: PR_SET_NO_NEW_PRIVS (setuid programs, sudo, stop working) */
	bool host_loopback; /* the gateway 10.0.2.2 reaches the host's 127.0.0.1 (off: it does not) */
	enum accel_mode accel;
	struct lxd_settings lxd;
	struct ssh_settings ssh;
	struct forwarded_port *ports;
	size_t n_ports;
	struct synced_folder *folders;
	size_t n_folders;
	struct private_network *networks;
	size_t n_networks;
	struct prov_step *steps;
	size_t n_steps;
	struct envfile_pos pos; /* the machine's name in the file */
	uint64_t set;		/* which keys the file gave (KEYBIT(ENVFILE_KEY_*)) */
	/* where each key given was written (defaults: or a matrix value included) */
	struct envfile_pos key_pos[ENVFILE_KEY_COUNT];
};

struct envfile {
	const char *path; /* as shown in messages, e.g. "Envfile" */
	const char *root; /* absolute project directory */
	const char *name; /* `name:`, or the project folder's name */
	struct machine *machines;
	size_t n_machines;
	struct arena arena; /* owns everything above */
};

/*
 * Reads and validates the Envfile at path; shown is the name used in
 * messages, root the project directory relative paths resolve against.
 * A bad Envfile fails with err->kind DEN_ERR_ENVFILE and one
 * "FILE:LINE:COL: message" line per problem found.
 */
int envfile_load(const char *path, const char *shown, const char *root, struct envfile **out,
		 struct den_err *err);

/* Same, from memory (tests, fuzzing). */
int envfile_load_buffer(const char *data, size_t len, const char *shown, const char *root,
			struct envfile **out, struct den_err *err);

void envfile_free(struct envfile *ef);

/*
 * Another YAML file (a box recipe) read with the Envfile's checks and
 * messages ("FILE:LINE:COL: ..."), as JSON with YAML 1.1 types.
 */
struct json_t;
int yaml_load_json(const char *data, size_t len, const char *shown, struct json_t **out,
		   struct den_err *err);

/* The machine called name, or NULL. */
struct machine *envfile_machine(struct envfile *ef, const char *name);

/*
 * Machines named on a command line: exact names, the name of a matrix
 * (all its machines) or shell patterns ("web*"). No names: every machine.
 * *out is a malloc'd array of pointers into ef.
 */
int envfile_select(struct envfile *ef, char **names, size_t n_names, struct machine ***out,
		   size_t *n_out, struct den_err *err);

/* Names for messages and --json. */
const char *envfile_prov_kind_name(enum prov_kind k);
const char *envfile_run_name(enum prov_run r);
const char *envfile_proto_name(enum fwd_proto p);

/* A machine key as written in the Envfile ("disk_size", "ssh.private_key_path"). */
const char *envfile_key_name(enum envfile_key k);

/*
 * An LXD name as den writes them (projects, profiles, pools, members,
 * snapshots): letters, digits, '-', '_' and '.', not starting with '-' or
 * '.', at most 63; fit for a URL as it is.
 */
bool envfile_lxd_name_ok(const char *s);

/* The providers an Envfile may name (NULL-terminated). */
extern const char *const envfile_provider_names[];

#endif
