/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_ENVFILE_ITEMS_H
#define DEN_CORE_ENVFILE_ITEMS_H

/*
 * The list items of a machine in the Envfile model (core/envfile.h):
 * forwarded ports, synced folders, private networks and provisioner steps.
 */

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdint.h>

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
	char ip[INET_ADDRSTRLEN]; /* IPv4 address of the machine (den's pick when dhcp) */
	uint32_t addr;		  /* the same, host byte order */
	unsigned prefix;	  /* netmask length, default 24 */
	/*
	 * dhcp: true: the machine asks the network's DHCP server (in den's
	 * switch) for its address, which den picks at load time
	 * (envfile_check.c), so that other machines know it by name.
	 */
	bool dhcp;
	struct envfile_pos pos;
};

/* The network `dhcp: true` joins when it names none (VirtualBox's, which Vagrant users know). */
#define ENVFILE_DHCP_NETWORK "172.28.128.0"
#define ENVFILE_DHCP_PREFIX 24
/* Where a network's DHCP server answers: its last address before the broadcast. */
uint32_t envfile_dhcp_server(const struct private_network *n);

/* The netmask of a prefix length, host byte order (0 for 0). */
uint32_t envfile_netmask(unsigned prefix);
/* The network n's machine is on, dotted ("192.168.50.0"): its address, its host part zeroed. */
void envfile_network_text(const struct private_network *n, char out[INET_ADDRSTRLEN]);

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

#endif
