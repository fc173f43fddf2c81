/* SPDX-License-Identifier: MIT */
#include "core/machine.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/project.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define STATE_FILE "state.json"
#define STATE_MAX (64 * 1024)

static const char *const state_names[] = {
	[MACHINE_NOT_CREATED] = "not created", [MACHINE_RUNNING] = "running",
	[MACHINE_STOPPED] = "stopped",	       [MACHINE_SUSPENDED] = "suspended",
	[MACHINE_ABORTED] = "aborted",	       [MACHINE_UNKNOWN] = "unknown",
};

static const char *const state_ids[] = {
	[MACHINE_NOT_CREATED] = "not_created", [MACHINE_RUNNING] = "running",
	[MACHINE_STOPPED] = "stopped",	       [MACHINE_SUSPENDED] = "suspended",
	[MACHINE_ABORTED] = "aborted",	       [MACHINE_UNKNOWN] = "unknown",
};

const char *machine_state_name(enum machine_state s)
{
	return state_names[s];
}

const char *machine_state_id(enum machine_state s)
{
	return state_ids[s];
}

/*
 * state.json is den's own file, but a den killed mid-write, a disk error or
 * a hand edit can leave anything in it: every value is checked as strictly
 * as an Envfile's before a command, a config file or a terminal sees it.
 */
static bool printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return false;
	return n > 0 && n <= max;
}

/* One of chars, 1 to max long, not starting with '-' (it may reach a command line). */
static bool made_of(const char *s, const char *chars, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && s[0] != '-' && strspn(s, chars) == n;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

bool machine_is_user_name(const char *s)
{
	return made_of(s, NAME_CHARS, 32);
}

/* The string at key, checked by ok; absent or null: NULL. */
static int take_string(json_t *j, const char *key, bool (*ok)(const char *), char **out,
		       const char **bad)
{
	json_t *v = json_object_get(j, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !ok(json_string_value(v))) {
		*bad = key;
		return -1;
	}
	*out = strdup(json_string_value(v));
	return 0;
}

static int take_int(json_t *j, const char *key, json_int_t max, long long *out, const char **bad)
{
	json_t *v = json_object_get(j, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
		*bad = key;
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static bool ok_provider(const char *s)
{
	return made_of(s, "abcdefghijklmnopqrstuvwxyz0123456789", 16);
}

static bool ok_text(const char *s)
{
	return printable(s, 256);
}

static bool ok_box(const char *s)
{
	return made_of(s, NAME_CHARS "/+:~", 256);
}

static bool ok_key_path(const char *s)
{
	return s[0] == '/' && printable(s, 4096);
}

/* "ports": what provider_plan_ports wrote, nothing else. */
static bool ok_ports(json_t *ports)
{
	json_t *p;
	size_t i;

	if (!json_is_array(ports) || json_array_size(ports) > 1024)
		return false;
	json_array_foreach(ports, i, p)
	{
		json_t *guest = json_object_get(p, "guest"), *host = json_object_get(p, "host");
		const char *ip = json_string_value(json_object_get(p, "host_ip"));
		const char *proto = json_string_value(json_object_get(p, "protocol"));
		json_t *id = json_object_get(p, "id");

		if (!json_is_integer(guest) || !json_is_integer(host) ||
		    json_integer_value(guest) < 1 || json_integer_value(guest) > 65535 ||
		    json_integer_value(host) < 1 || json_integer_value(host) > 65535 ||
		    ip == NULL || !made_of(ip, "0123456789abcdefABCDEF.:", 45) || proto == NULL ||
		    (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) ||
		    (id != NULL && !json_is_null(id) &&
		     (!json_is_string(id) || !printable(json_string_value(id), 256))))
			return false;
	}
	return true;
}

/* An address as den writes it: an IPv4 or IPv6 literal, so no name and no option. */
static bool ok_address(const char *s)
{
	struct in6_addr a;

	return strlen(s) < INET6_ADDRSTRLEN &&
	       (inet_pton(AF_INET, s, &a) == 1 || inet_pton(AF_INET6, s, &a) == 1);
}

static int parse_record(const char *path, const char *text, struct machine_record *r,
			struct den_err *err)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr), *ports;
	const char *bad = NULL;
	long long port, pid, created;

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return den_err_set(err, 0,
				   "%s is damaged (%s at line %d); run `den destroy` for this "
				   "machine to start it afresh",
				   path, j ? "not an object" : jerr.text, jerr.line);
	}
	ports = json_object_get(j, "ports");
	if (take_string(j, "provider", ok_provider, &r->provider, &bad) < 0 ||
	    take_string(j, "id", ok_text, &r->id, &bad) < 0 ||
	    take_string(j, "box", ok_box, &r->box, &bad) < 0 ||
	    take_string(j, "box_version", ok_box, &r->box_version, &bad) < 0 ||
	    take_string(j, "ssh_user", machine_is_user_name, &r->ssh_user, &bad) < 0 ||
	    take_string(j, "ssh_key", ok_key_path, &r->ssh_key, &bad) < 0 ||
	    take_string(j, "ssh_host", ok_address, &r->ssh_host, &bad) < 0 ||
	    take_int(j, "ssh_port", 65535, &port, &bad) < 0 ||
	    take_int(j, "supervisor_pid", 1 << 22, &pid, &bad) < 0 ||
	    take_int(j, "created", 1LL << 40, &created, &bad) < 0 ||
	    (ports != NULL && !ok_ports(ports) && (bad = "ports") != NULL)) {
		json_decref(j);
		return den_err_set(err, 0,
				   "%s is damaged (its \"%s\" is not what den writes); run `den "
				   "destroy` for this machine to start it afresh",
				   path, bad);
	}
	r->ssh_port = (int)port;
	r->supervisor = (pid_t)pid;
	r->created = created;
	r->running = json_is_true(json_object_get(j, "running"));
	r->ports_json = ports != NULL ? json_dumps(ports, JSON_COMPACT) : NULL;
	json_decref(j);
	return 0;
}

bool machine_is_dir(const struct den_machine *dm, const char *path)
{
	char legacy[PATH_MAX];

	if (strcmp(path, dm->dir) == 0)
		return true;
	/* Supervisors started by an older den name the folder where it kept state. */
	snprintf(legacy, sizeof(legacy), "%s/" DEN_LEGACY_DIR "/machines/%s", dm->root,
		 dm->cfg->name);
	return strcmp(path, legacy) == 0;
}

int machine_open(const char *root, const struct machine *cfg, struct den_machine *dm,
		 struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;

	memset(dm, 0, sizeof(*dm));
	dm->cfg = cfg;
	dm->root = root;
	if (project_machine_dir(root, cfg->name, &dm->dir, err) < 0)
		return -1;
	if (asprintf(&path, "%s/" STATE_FILE, dm->dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", cfg->name);
	if (den_read_own_file(path, STATE_MAX, &text, NULL, err) < 0) {
		if (err->errno_ == ENOENT) {
			den_err_clear(err);
			return 0;
		}
		return -1;
	}
	if (parse_record(path, text, &dm->rec, err) < 0)
		return -1;
	dm->exists = true;
	return 0;
}

int machine_save(struct den_machine *dm, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL;
	json_t *j;

	if (den_mkdir_p(dm->dir, 0700, err) < 0)
		return -1;
	if (asprintf(&path, "%s/" STATE_FILE, dm->dir) < 0)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	j = json_pack("{s:i, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:I, s:s?, s:b}", "version", 1,
		      "provider", dm->rec.provider, "id", dm->rec.id, "box", dm->rec.box,
		      "box_version", dm->rec.box_version, "ssh_port", dm->rec.ssh_port,
		      "supervisor_pid", (int)dm->rec.supervisor, "created",
		      (json_int_t)dm->rec.created, "ssh_user", dm->rec.ssh_user, "running",
		      dm->rec.running);
	if (j == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (dm->rec.ssh_key != NULL)
		json_object_set_new(j, "ssh_key", json_string(dm->rec.ssh_key));
	if (dm->rec.ssh_host != NULL)
		json_object_set_new(j, "ssh_host", json_string(dm->rec.ssh_host));
	if (dm->rec.ports_json != NULL)
		json_object_set_new(j, "ports", json_loads(dm->rec.ports_json, 0, NULL));
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (text == NULL)
		return den_err_set(err, ENOMEM, "machine %s", dm->cfg->name);
	if (den_write_file_atomic(path, text, 0644, err) < 0)
		return -1;
	dm->exists = true;
	return 0;
}

void machine_close(struct den_machine *dm)
{
	free(dm->dir);
	free(dm->rec.provider);
	free(dm->rec.id);
	free(dm->rec.box);
	free(dm->rec.box_version);
	free(dm->rec.ssh_user);
	free(dm->rec.ssh_key);
	free(dm->rec.ports_json);
	free(dm->rec.ssh_host);
	memset(dm, 0, sizeof(*dm));
}
