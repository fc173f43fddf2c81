/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_PROVIDER_H
#define DEN_PROVIDERS_PROVIDER_H

/*
 * A provider runs machines (DESIGN.md §7): den's VMM (kvm), QEMU (qemu)
 * or den's container runtime (container). Each is one ops struct in its
 * folder, listed in the `providers[]` array of providers/registry.c.
 * Every function returns 0 or < 0 with err filled.
 */

#include <stdbool.h>
#include <sys/types.h>
#include "core/err.h"
#include "core/machine.h"

struct ssh_info {
	char *host;		 /* "127.0.0.1" */
	int port;		 /* forwarded SSH port */
	char *user;		 /* login user */
	char *key_path;		 /* private key den logs in with */
	char *known_hosts;	 /* file holding the host key den gave the guest */
	bool host_key_unchecked; /* a box's first boot, before den's host key is in it */
};

struct den_ssh;

/*
 * What `up` needs besides the Envfile and state.json: the box cmd/up.c
 * resolved for this start. The login user is dm->rec.ssh_user, set by the
 * caller and recorded by provider_record_start.
 */
struct provider_up_args {
	const char *box_dir;  /* the box, unpacked in the store */
	bool box_system_init; /* the box boots its own init ("init": "system" in metadata) */
	bool box_warm;	      /* its seed hook makes warm images ("warm" in metadata, kvm) */
	bool box_den_ssh;     /* no sshd: den serves SSH itself ("ssh": "den", container images) */
	const char *hosts;    /* /etc/hosts lines of the machines on its private networks */
};

struct provider_ops {
	/* Envfile name: "kvm", "qemu", "container". */
	const char *name;
	/* Can this host run it? When not, err says why and what to use instead. */
	int (*probe)(struct den_err *err);
	/* Creates the machine if needed and starts it; returns once its supervisor runs. */
	int (*up)(struct den_machine *dm, const struct provider_up_args *args, struct den_err *err);
	/* Stops it: gracefully within graceful_halt_timeout, at once when force. */
	int (*halt)(struct den_machine *dm, bool force, struct den_err *err);
	/*
	 * Stops it (a forced halt) and removes everything it had in .den; no
	 * process or mount is left. When the halt fails and a process of the
	 * machine may still run, destroy fails and removes nothing (files
	 * never go while it may use them; `den destroy` again retries).
	 */
	int (*destroy)(struct den_machine *dm, struct den_err *err);
	/* Its live state, asked of the supervisor's control socket, not guessed from pids. */
	int (*state)(struct den_machine *dm, enum machine_state *out, struct den_err *err);
	/* How to reach its sshd. */
	int (*ssh_info)(struct den_machine *dm, struct ssh_info *out, struct den_err *err);
	/* Optional (NULL when unsupported): pause with memory kept, and back. */
	int (*suspend)(struct den_machine *dm, struct den_err *err);
	int (*resume)(struct den_machine *dm, struct den_err *err);
	/* Optional: named snapshots of a machine's disk (and memory, where it can). */
	int (*snapshot_save)(struct den_machine *dm, const char *name, struct den_err *err);
	int (*snapshot_restore)(struct den_machine *dm, const char *name, struct den_err *err);
	/* Optional: the snapshot names, one per line (malloc'd), and deleting one. */
	int (*snapshot_list)(struct den_machine *dm, char **names, struct den_err *err);
	int (*snapshot_delete)(struct den_machine *dm, const char *name, struct den_err *err);
	/* What a snapshot keeps, for messages; NULL: "disk and memory". */
	const char *snapshot_keeps;
	/*
	 * Optional: run once SSH answers after each start, on that session
	 * (the qemu provider mounts its 9p folders and puts den's key in).
	 */
	int (*ready)(struct den_machine *dm, struct den_ssh *ssh, struct den_err *err);
	/*
	 * Optional: true while the machine is known not to answer SSH yet, told
	 * without trying it (a warm image's machine whose hook has not said it
	 * is made): SSH waits ask this instead, which costs the guest nothing.
	 */
	bool (*not_ready_yet)(struct den_machine *dm);
	/*
	 * Optional: a halted machine as a box: writes metadata.json, box.img and
	 * Vagrantfile into dir (`den box package`).
	 */
	int (*package)(struct den_machine *dm, const char *dir, struct den_err *err);
};

/* dm->dir/name, one of the machine's files, malloc'd (NULL when out of memory). */
char *provider_path(const struct den_machine *dm, const char *name);

/*
 * Waits until the machine's detached supervisor (pid: `den container run`,
 * `den vmm run`) answers on the machine's control.sock, at most timeout_ms.
 * If it exits first, the error quotes the end of log_name in the machine's
 * folder; if it never answers, it is killed (providers/supervisor.c).
 */
int provider_wait_control(struct den_machine *dm, pid_t pid, const char *log_name, int timeout_ms,
			  struct den_err *err);

/* Every provider built in, NULL-terminated (providers/registry.c). */
extern const struct provider_ops *const providers[];

/* The provider called name, or NULL when this build has none by that name. */
const struct provider_ops *provider_find(const char *name);

void ssh_info_free(struct ssh_info *info);

/*
 * The usual answer to ssh_info (providers/connect.c): 127.0.0.1, the
 * recorded port and user, the known_hosts den wrote, and key_path (NULL:
 * den's own key in the machine's folder).
 */
int provider_ssh_info(const struct den_machine *dm, const char *key_path, struct ssh_info *out,
		      struct den_err *err);

/*
 * Makes a synced folder with `create: true` that is missing; den as root
 * gives it to the project folder's owner (providers/folders.c).
 */
int provider_create_folder(const struct den_machine *dm, const struct synced_folder *f,
			   struct den_err *err);

/*
 * Copies the machine's rsync synced folders in with rsync over its SSH
 * settings (providers/sync.c); nothing when it has none.
 */
int provider_rsync_folders(const struct provider_ops *ops, struct den_machine *dm,
			   struct den_err *err);

/*
 * A provider's destroy after its own clean-up (providers/destroy.c): the
 * forced halt, then its folder removed with remove (den_rm_rf, or
 * userns_rm_rf for files a user namespace made). A halt that fails while
 * state still says the machine runs (or cannot tell) removes nothing; one
 * that stopped it but could not record so (a full disk) goes on.
 */
int provider_destroy(struct den_machine *dm,
		     int (*halt)(struct den_machine *dm, bool force, struct den_err *err),
		     int (*state)(struct den_machine *dm, enum machine_state *out,
				  struct den_err *err),
		     int (*remove)(const char *dir, struct den_err *err), struct den_err *err);

/* A free TCP port on 127.0.0.1, for a machine's SSH (providers/ports.c). */
int provider_free_port(struct den_err *err);
/*
 * The Envfile's forwarded ports as they will be: hosts[i] for ports[i]; a
 * taken host port with auto_correct: true moves to a free one (as Vagrant
 * does). Recorded in dm->rec.ports_json for `den port`.
 */
int provider_plan_ports(struct den_machine *dm, int *hosts, struct den_err *err);
/*
 * What a provider does just before it starts a machine's supervisor: a
 * free SSH port (*port) with known_hosts for it, the forwarded ports
 * planned (*hosts, malloc'd, one per Envfile port), and state.json saying
 * running for provider: a den killed from then on leaves a record that
 * status reads as running or aborted, and up and destroy clean up after.
 */
int provider_record_start(struct den_machine *dm, const char *provider, int *port, int **hosts,
			  struct den_err *err);

/*
 * What a provider's halt records once nothing of the machine runs:
 * state.json says stopped, with no supervisor (provider_record_start's
 * counterpart).
 */
int provider_record_halt(struct den_machine *dm, struct den_err *err);

struct den_ssh;
/*
 * Logs in to the machine with den's key, checking the host key den gave
 * it (providers/connect.c); timeout_s bounds one attempt.
 */
int provider_ssh_open(const struct provider_ops *ops, struct den_machine *dm, int timeout_s,
		      struct den_ssh **out, struct den_err *err);
/*
 * Tries provider_ssh_open (and `true`) until it answers or the machine's
 * boot_timeout passes; stops early when the machine stops.
 */
int provider_ssh_wait(const struct provider_ops *ops, struct den_machine *dm, struct den_ssh **out,
		      struct den_err *err);

#endif
