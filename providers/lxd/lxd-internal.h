/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_LXD_INTERNAL_H
#define DEN_PROVIDERS_LXD_INTERNAL_H

/*
 * The lxd provider's parts (docs/lxd.md): client.c speaks LXD's REST API
 * (libcurl, over its unix socket or HTTPS; jansson), image.c makes a den
 * container box an LXD image once, instance.c builds and starts an
 * instance, provider.c is the ops struct. LXD's answers are input like
 * any other: sizes are capped and every field is checked before use.
 * Errors below provider.c do not name the machine: each op adds
 * "machine NAME: " once.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/envfile.h"
#include "core/err.h"
#include "core/machine.h"

#define LXD_DEFAULT_SOCKET "/var/lib/lxd/unix.socket"
#define LXD_MAX_ANSWER (16u << 20) /* an answer of LXD's, at most */
#define LXD_OP_WAIT_S 600	   /* one asynchronous operation, at most */

#define LXD_DEFAULT_PORT 8443

struct lxd_client {
	void *curl;    /* one CURL handle: its connection is kept between requests */
	char *where;   /* for messages: "the local LXD (SOCKET)", "LXD at https://..." */
	char *socket;  /* the unix socket, or NULL for HTTPS */
	char *base;    /* "http://lxd" or "https://HOST:PORT" */
	char *project; /* "?project=" on every request; NULL: LXD's default */
	char *target;  /* "&target=" when an instance is made; NULL: LXD picks */
	char *host;    /* the server's address, for proxy devices' listen address */
	bool progress; /* upload progress on stderr */
	/* HTTPS only: */
	char *server_crt; /* the server's pinned certificate (CAINFO) */
	char *server_pin; /* its key's pin, "sha256//BASE64" */
	char *client_crt; /* den's client certificate and key */
	char *client_key;
	bool pairing; /* den lxd trust: a 403 is about the token, not a missing trust */
};

/* An LXD's HTTPS address (tls.c). host has no brackets; v6 says it needs them. */
struct lxd_url {
	char host[256];
	int port;
	bool v6;
};

/* The address host stands for (its first), as text: proxy devices listen on it (malloc'd). */
char *lxd_numeric_host(const char *host, struct den_err *err);

/* "https://HOST[:PORT][/]"; err says the form when it is not. */
int lxd_url_parse(const char *url, struct lxd_url *u, struct den_err *err);

/* "https://HOST:PORT" (brackets for IPv6), what requests go to (malloc'd; NULL: no memory). */
char *lxd_url_base(const struct lxd_url *u);

/* $DEN_HOME/lxd (made, 0700): den's client certificate and the pinned servers. */
int lxd_tls_home(char **dir, struct den_err *err);

/*
 * den's client certificate and key in dir (client.crt, client.key):
 * made when missing and make is true (EC P-384, self-signed, 10 years),
 * else an error.
 */
int lxd_tls_client_cert(const char *dir, bool make, char **crt, char **key, struct den_err *err);

/* dir/servers/HOST_PORT.crt: where a server's certificate is pinned (malloc'd). */
char *lxd_tls_server_path(const char *dir, const struct lxd_url *u);

/*
 * A PEM certificate's fingerprint as LXD shows it (SHA-256 of its DER, hex)
 * and, when pin is not NULL, its key's pin as libcurl takes it.
 */
int lxd_tls_cert_pin(const char *pem, size_t len, char fp[65], char **pin, struct den_err *err);

/* What den reads of a trust token (`lxc config trust add`): the server's certificate. */
struct lxd_token {
	char fingerprint[65];
};
int lxd_tls_token_decode(const char *token, struct lxd_token *t, struct den_err *err);

/* What one request sends and gets back. */
struct lxd_request {
	const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *path;   /* "/1.0/instances/NAME" (escaped); project= is added */
	const char *query;  /* more query parameters ("path=/etc/passwd"), or NULL */
	json_t *body;	    /* JSON to send, or NULL */
	/* Raw upload instead of body: read() fills buf, returns bytes, 0 at the end, < 0 to abort. */
	long (*read)(void *arg, char *buf, size_t len);
	void *read_arg;
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
	/* Out: */
	long status;	/* HTTP status */
	json_t *answer; /* the whole JSON answer (parsed), or NULL */
};

/*
 * Opens a client for a machine's lxd: settings (remote NULL: the local
 * LXD's unix socket, $LXD_DIR/unix.socket or /var/lib/lxd/unix.socket).
 * Nothing is sent yet.
 */
int lxd_open(const struct lxd_settings *s, struct lxd_client *c, struct den_err *err);

/*
 * A client of the LXD at url over HTTPS, trusting the certificate in
 * server_crt only, showing den's client_crt (s NULL: no project, no
 * target). An untrusted client's request fails with err->errno_ EACCES.
 */
int lxd_open_https(const char *url, const char *server_crt, const char *client_crt,
		   const char *client_key, const struct lxd_settings *s, struct lxd_client *c,
		   struct den_err *err);
void lxd_close(struct lxd_client *c);

/* What LXD says of what is not there; lxd_run then sets err->errno_ to ENOENT. */
#define LXD_NOT_FOUND 404

/*
 * One request, and its operation (if LXD answers async) waited for until
 * it ends. Fails when LXD cannot be reached or says no: err quotes LXD's
 * own words, and err->errno_ is ENOENT when LXD said 404. *metadata (when
 * not NULL) gets the answer's (or the operation's) metadata, a new
 * reference; r's answer is freed.
 */
int lxd_run(struct lxd_client *c, struct lxd_request *r, json_t **metadata, struct den_err *err);

/* lxd_run of a JSON request; a failure's err begins with what ("cannot start den-web-1a2b"). */
int lxd_call(struct lxd_client *c, const char *method, const char *path, json_t *body,
	     json_t **metadata, const char *what, struct den_err *err);

/*
 * Waits for the operation LXD named (its "/1.0/operations/ID") to end;
 * its failure is err, LXD's words. *metadata as for lxd_call.
 */
int lxd_wait(struct lxd_client *c, const char *op, json_t **metadata, struct den_err *err);

/* Percent-escapes s for one URL path segment or query value (malloc'd). */
char *lxd_escape(const char *s);

/*
 * A machine's instance (instance.c). Its name: den-MACHINE-HASH, HASH of
 * this host, the project and the machine, so stable across ups and apart
 * between projects and hosts sharing one LXD. Its mark user.den.owner
 * (HOST:PROJECT) is checked before den touches an instance by that name.
 */
int lxd_instance_name(const struct den_machine *dm, char *out, size_t n, struct den_err *err);
int lxd_instance_owner(const struct den_machine *dm, char *out, size_t n);

/* Its config: limits, den's marks, raw.idmap for synced folders (refused when LXD cannot). */
int lxd_instance_config(const struct den_machine *dm, const char *box_dir, json_t **out,
			struct den_err *err);

/* Its devices: proxy devices for SSH (ssh_port) and forwarded ports (hosts[i]), folders. */
json_t *lxd_instance_devices(const struct lxd_client *c, const struct den_machine *dm, int ssh_port,
			     const int *hosts);

/*
 * den's files, put into the stopped instance before each start: the host
 * key, the login user's authorized_keys (user from the box's own
 * /etc/passwd), sshd's settings, the host name.
 */
int lxd_instance_put_credentials(struct lxd_client *c, const char *name,
				 const struct den_machine *dm, const char *box_dir,
				 struct den_err *err);

/*
 * The box's LXD image, uploaded once (image.c): its fingerprint (64 hex
 * digits) in fp. Reused when LXD has it; the box's alias made to point at
 * it.
 */
int lxd_image_ensure(struct lxd_client *c, const char *box_dir, const char *box,
		     const char *version, char fp[65], struct den_err *err);

/*
 * Removes the box's alias and image when no instance of the project uses
 * the image any longer (destroy).
 */
int lxd_image_release(struct lxd_client *c, const char *fp, struct den_err *err);

/*
 * A deterministic unified LXD image tarball of the box (metadata.yaml and
 * rootfs/): write() gets its bytes in order (tarball.c). The same box
 * gives the same bytes, so the same fingerprint.
 */
int lxd_tarball_write(const char *box_dir, const char *box, const char *version,
		      int (*write)(void *arg, const void *buf, size_t len), void *arg,
		      struct den_err *err);

#define NAME_MAX_LEN 64

/* A machine's client and instance name, both ready for requests (provider.c). */
struct lxd_machine {
	struct lxd_client c;
	char name[NAME_MAX_LEN];
	char path[NAME_MAX_LEN + 32]; /* "/1.0/instances/NAME" */
};

/*
 * The instance by its name, when it is this machine's: one whose
 * user.den.owner is another project's (or no den's) is never touched.
 * *inst NULL when there is none.
 */
int lxd_get_instance(struct lxd_machine *m, const struct den_machine *dm, json_t **inst,
		     struct den_err *err);

/* An instance made before set up as this up has it (LXD's volatile keys and the user's devices kept). */
int lxd_update(struct lxd_machine *m, struct den_machine *dm, json_t *inst, json_t *config,
	       json_t *devices, struct den_err *err);

/*
 * remote.c: what a remote LXD cannot do, refused before anything is made:
 * native folders, ports on one of this host's addresses.
 */
int lxd_check_remote(const struct den_machine *dm, struct den_err *err);

/* Where SSH and the ports listen: 127.0.0.1, or the remote's address (state.json, known_hosts). */
int lxd_record_address(struct den_machine *dm, const struct lxd_client *c, int port,
		       struct den_err *err);

/* On a cluster: the devices moved to the address of the member the instance landed on. */
int lxd_place_on_member(struct lxd_machine *m, struct den_machine *dm, int port, const int *hosts,
			json_t *config, struct den_err *err);

#endif
