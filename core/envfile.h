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
#include "core/err.h"

#define ENVFILE_NAME "Envfile"
#define ENVFILE_MAX_BYTES (1u << 20) /* an Envfile is a config file, not a data set */
#define ENVFILE_MAX_MACHINES 1024

struct envfile_pos {
	int line, col; /* 1-based; 0 when the value is a default, not from the file */
};

enum fwd_proto { FWD_TCP, FWD_UDP };

struct forwarded_port {
	uint16_t guest, host;
	enum fwd_proto protocol;
	const char *host_ip; /* address to listen on; default 127.0.0.1 */
	bool auto_correct;   /* pick a free host port when this one is taken */
	const char *id;	     /* optional name, as in Vagrant */
	struct envfile_pos pos;
};

enum sync_type { SYNC_NATIVE, SYNC_RSYNC }; /* native: bind mount or 9p, by provider */

struct synced_folder {
	const char *host;      /* as written */
	const char *host_path; /* absolute, resolved against the project root */
	const char *guest;     /* absolute path inside the machine */
	enum sync_type type;
	bool disabled, create;	    /* create: make the host folder when missing */
	const char *owner, *group;  /* NULL: the SSH user */
	const char **mount_options; /* e.g. "ro" */
	size_t n_mount_options;
	const char **rsync_exclude;
	size_t n_rsync_exclude;
	struct envfile_pos pos;
};

struct private_network {
	const char *ip;	 /* IPv4 address of the machine */
	unsigned prefix; /* netmask length, default 24 */
	struct envfile_pos pos;
};

enum prov_kind { PROV_SHELL, PROV_FILE, PROV_ANSIBLE, PROV_ANSIBLE_LOCAL };
enum prov_run { RUN_ONCE, RUN_ALWAYS, RUN_NEVER };

struct env_var {
	const char *name, *value;
};

struct prov_shell {
	const char *inline_script; /* lines joined with '\n'; NULL when path is used */
	const char *path;	   /* host script, as written */
	const char *path_abs;	   /* resolved against the project root */
	const char **args;
	size_t n_args;
	struct env_var *env;
	size_t n_env;
	bool privileged;	 /* run with sudo; default true */
	const char *upload_path; /* where the script goes in the guest */
	bool reboot;		 /* reboot and wait for SSH after the script */
	bool keep_color;	 /* pass colour codes through */
};

struct prov_file {
	const char *source, *source_abs, *destination;
};

struct prov_ansible {
	const char *playbook;	      /* host path (ansible) or guest path (ansible_local) */
	const char *playbook_abs;     /* ansible only: resolved against the project root */
	const char *extra_vars_json;  /* JSON object text, or NULL */
	const char *groups_json;      /* {"group": ["machine"...], "group:vars": {...}} or NULL */
	const char *limit;	      /* NULL: the machine itself */
	const char *tags, *skip_tags; /* comma-separated, or NULL */
	bool become;
	unsigned verbose; /* 0..4 (-v .. -vvvv) */
	const char *galaxy_role_file, *inventory_path, *config_file;
	bool install;		       /* ansible_local: install ansible when missing */
	const char *provisioning_path; /* ansible_local: working folder in the guest */
};

struct prov_step {
	enum prov_kind kind;
	const char *name; /* given, or "<kind>-<n>" */
	enum prov_run run;
	const char *before, *after; /* names of steps to run before/after */
	struct prov_shell shell;
	struct prov_file file;
	struct prov_ansible ansible;
	struct envfile_pos pos;
};

enum net_mode { NET_USER, NET_HOST }; /* NET_USER: den's user-mode NAT */
enum accel_mode { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

struct ssh_settings {
	const char *username;	      /* NULL: what the box says */
	const char *private_key_path; /* Vagrant-style boxes: the key to log in first */
	bool insert_key;	      /* replace that key with den's own; default true */
};

struct machine {
	const char *name;
	const char *matrix_of; /* the machine whose `matrix:` made this one, or NULL */
	const char *box, *box_version, *box_url;
	const char *provider; /* "kvm", "qemu", "container", or NULL: den chooses */
	unsigned cpus;
	uint64_t memory;    /* bytes */
	uint64_t disk_size; /* bytes; 0: the box's size */
	const char *hostname;
	bool primary, autostart;
	unsigned boot_timeout, graceful_halt_timeout; /* seconds */
	enum net_mode network;
	enum accel_mode accel;
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
	uint64_t set;		/* which keys the file gave (ENVFILE_KEY_* bits) */
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

/* The providers an Envfile may name (NULL-terminated). */
extern const char *const envfile_provider_names[];

#endif
