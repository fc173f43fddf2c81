/* SPDX-License-Identifier: MIT */
/*
 * A Vagrantfile's record (vagrantfile/recorder.rb) made an Envfile: the
 * settings outside any `define` become defaults:, each defined machine a
 * machine (none defined: Vagrant's one machine, "default"); cpus, memory
 * and disk from the provider blocks, the lists from convert_items.c.
 * Everything else recorded is listed, with its line, as not converted.
 */
#include "vagrantfile/convert-internal.h"
#include "vagrantfile/vagrantfile.h"
#include "core/cleanup.h"
#include "core/yamlout.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_line(struct conv *c, json_t *to, json_int_t line, const char *fmt, va_list ap)
{
	char *text = NULL, *whole = NULL;

	if (vasprintf(&text, fmt, ap) < 0)
		return;
	if (asprintf(&whole, "%s:%lld: %s", c->shown, (long long)line, text) >= 0)
		json_array_append_new(to, json_string(whole));
	free(text);
	free(whole);
}

void conv_left(struct conv *c, json_int_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(c, c->left, line, fmt, ap);
	va_end(ap);
}

void conv_note(struct conv *c, json_int_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(c, c->notes, line, fmt, ap);
	va_end(ap);
}

const json_t *conv_value(const json_t *values, const char *key)
{
	return json_object_get(json_object_get(values, key), "value");
}

json_int_t conv_line(const json_t *values, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(values, key), "line"));
}

json_t *conv_host_path(const struct conv *c, const json_t *path)
{
	const char *p = json_string_value(path);
	char *joined = NULL;

	if (p == NULL || c->rebase == NULL || p[0] == '/' || p[0] == '~')
		return json_string(p != NULL ? p : "");
	if (strcmp(p, ".") == 0)
		return json_string(c->rebase);
	if (asprintf(&joined, "%s/%s", c->rebase, p) < 0)
		return json_string(p);
	json_t *j = json_string(joined);
	free(joined);
	return j;
}

long long conv_number(const json_t *v)
{
	const char *s = json_string_value(v);
	char *end = NULL;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 ? (long long)json_integer_value(v) : -1;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	long long n = strtoll(s, &end, 10);
	return *end == '\0' ? n : -1;
}

json_t *conv_list(const json_t *v)
{
	if (json_is_string(v))
		return json_pack("[O]", v);
	return json_is_array(v) ? json_deep_copy(v) : NULL;
}

bool conv_listed(const char *const *keys, const char *k)
{
	for (; *keys != NULL; keys++)
		if (strcmp(*keys, k) == 0)
			return true;
	return false;
}

void conv_left_keys(struct conv *c, const char *what, const json_t *options, const json_t *lines,
		    json_int_t line, const char *const *known, const char *why)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)options, k, v)
	{
		json_int_t at = json_integer_value(json_object_get(lines, k));
		if (!conv_listed(known, k))
			conv_left(c, at != 0 ? at : line, "%s's %s: %s", what, k, why);
	}
}

/* A recorder's calls and namespaces, as not converted. */
static void left_calls_spaces(struct conv *c, const char *prefix, const json_t *rec,
			      const char *why)
{
	const char *k;
	json_t *v;
	size_t i;
	char name[256];

	json_array_foreach(json_object_get(rec, "calls"), i, v)
		conv_left(c, json_integer_value(json_object_get(v, "line")), "%s.%s(...): %s",
			  prefix, json_string_value(json_object_get(v, "name")), why);
	json_object_foreach(json_object_get(rec, "spaces"), k, v)
	{
		snprintf(name, sizeof(name), "%s.%s", prefix, k);
		conv_left_all(c, name, v, why);
	}
}

/* Everything a recorder holds (values, calls, namespaces), as not converted. */
void conv_left_all(struct conv *c, const char *prefix, const json_t *rec, const char *why)
{
	const char *k;
	json_t *v;

	json_object_foreach(json_object_get(rec, "values"), k, v) conv_left(
		c, json_integer_value(json_object_get(v, "line")), "%s.%s: %s", prefix, k, why);
	left_calls_spaces(c, prefix, rec, why);
}

/* Providers whose cpus and memory den takes, the one it prefers first. */
static const char *const vm_providers[] = { "libvirt",	      "qemu",	       "virtualbox",
					    "vmware_desktop", "vmware_fusion", "vmware_workstation",
					    "hyperv",	      "parallels",     NULL };

static int rank(const char *provider)
{
	for (int i = 0; vm_providers[i] != NULL; i++)
		if (strcmp(vm_providers[i], provider) == 0)
			return i;
	return -1;
}

/* One of cpus, memory, disk: the preferred provider's value and where it came from. */
struct sized {
	long long value;
	int rank;
	char from[96]; /* "provider \"libvirt\"", or "" while none gave it */
	json_int_t line;
};

static void offer(struct conv *c, struct sized *s, const char *what, long long v, int r,
		  const char *from, json_int_t line)
{
	if (v < 0) {
		conv_left(c, line, "%s's %s: not a whole number", from, what);
		return;
	}
	if (s->from[0] != '\0' && s->value != v)
		conv_note(c, line, "%s: %s says %lld, %s %lld (line %lld): den took %s's", what,
			  from, v, s->from, s->value, (long long)s->line,
			  r < s->rank ? from : s->from);
	if (s->from[0] == '\0' || r < s->rank) {
		s->value = v, s->rank = r, s->line = line;
		snprintf(s->from, sizeof(s->from), "%s", from);
	}
}

/* vmware's `v.vmx["memsize"] = "2048"`: a call "[]=" on its vmx namespace. */
static void vmx_settings(struct conv *c, const json_t *vmx, int r, const char *from,
			 struct sized *cpus, struct sized *memory)
{
	size_t i;
	json_t *call;

	json_array_foreach(json_object_get(vmx, "calls"), i, call)
	{
		const char *name = json_string_value(json_object_get(call, "name"));
		const json_t *args = json_object_get(call, "args");
		const char *key = json_string_value(json_array_get(args, 0));
		json_int_t line = json_integer_value(json_object_get(call, "line"));
		if (name != NULL && strcmp(name, "[]=") == 0 && key != NULL &&
		    strcmp(key, "memsize") == 0)
			offer(c, memory, "memory", conv_number(json_array_get(args, 1)), r, from,
			      line);
		else if (name != NULL && strcmp(name, "[]=") == 0 && key != NULL &&
			 strcmp(key, "numvcpus") == 0)
			offer(c, cpus, "cpus", conv_number(json_array_get(args, 1)), r, from, line);
		else
			conv_left(c, line, "%s: vmx[\"%s\"]: VMware's own setting", from,
				  key != NULL ? key : "?");
	}
}

static void override_left(struct conv *c, const char *from, const json_t *override);

/* cpus, memory and disk from the provider blocks; the rest of each block listed. */
static void providers(struct conv *c, const json_t *list, json_t *m)
{
	struct sized cpus = { .value = -1 }, memory = cpus, disk = cpus;
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));
		const json_t *s = json_object_get(p, "settings"),
			     *values = json_object_get(s, "values");
		json_int_t line = json_integer_value(json_object_get(p, "line"));
		int r = rank(name);
		const char *k;
		json_t *v;
		char from[96];

		snprintf(from, sizeof(from), "provider \"%s\"", name);
		override_left(c, from, json_object_get(p, "override"));
		if (r < 0) {
			conv_left(c, line,
				  "config.vm.provider \"%s\": den runs machines with its own "
				  "providers (kvm, qemu, container, lxd); nothing of this block is "
				  "converted",
				  name);
			continue;
		}
		json_object_foreach((json_t *)values, k, v)
		{
			json_int_t at = json_integer_value(json_object_get(v, "line"));
			const json_t *val = json_object_get(v, "value");
			if (strcmp(k, "cpus") == 0)
				offer(c, &cpus, "cpus", conv_number(val), r, from, at);
			else if (strcmp(k, "memory") == 0)
				offer(c, &memory, "memory", conv_number(val), r, from, at);
			else if (strcmp(k, "machine_virtual_size") == 0 &&
				 strcmp(name, "libvirt") == 0)
				offer(c, &disk, "disk", conv_number(val), r, from, at);
			else
				conv_left(c, at, "%s: %s: %s's own setting; den has none", from, k,
					  name);
		}
		json_t *calls = json_object_get(s, "calls"), *call;
		size_t j;
		json_array_foreach(calls, j, call)
			conv_left(c, json_integer_value(json_object_get(call, "line")),
				  "%s: %s(...): %s's own setting; den has none", from,
				  json_string_value(json_object_get(call, "name")), name);
		json_object_foreach(json_object_get(s, "spaces"), k, v)
		{
			if (strcmp(k, "vmx") == 0 && strncmp(name, "vmware", 6) == 0)
				vmx_settings(c, v, r, from, &cpus, &memory);
			else
				conv_left_all(c, from, v, "a provider's own setting; den has none");
		}
	}
	if (cpus.from[0] != '\0')
		json_object_set_new(m, "cpus", json_integer(cpus.value));
	if (memory.from[0] != '\0') {
		char text[32];
		snprintf(text, sizeof(text), "%lldM", memory.value);
		json_object_set_new(m, "memory", json_string(text));
	}
	if (disk.from[0] != '\0') {
		char text[32];
		snprintf(text, sizeof(text), "%lldG", disk.value);
		json_object_set_new(m, "disk_size", json_string(text));
	}
}

/* The settings den knows in config.vm, in the Envfile's order. */
static const char *const vm_keys[] = { "box",	       "box_version",		"hostname",
				       "boot_timeout", "graceful_halt_timeout", NULL };

json_t *conv_config(struct conv *c, const json_t *cfg, bool defaults, json_t **hostname)
{
	const json_t *vm = json_object_get(cfg, "vm"), *values = json_object_get(vm, "values");
	const json_t *ssh = json_object_get(json_object_get(cfg, "ssh"), "values");
	json_t *m = json_object(), *ports = json_array(), *nets = json_array(), *v;
	const char *k;

	for (const char *const *key = vm_keys; *key != NULL; key++) {
		const json_t *val = conv_value(values, *key);
		if (val == NULL || json_is_null(val))
			continue;
		if (strcmp(*key, "hostname") == 0 && defaults) {
			/* den's defaults cannot name a host: each machine gets it. */
			*hostname = json_deep_copy(val);
			conv_note(c, conv_line(values, *key),
				  "config.vm.hostname outside a define: each machine gets it");
		} else if (strstr(*key, "timeout") != NULL) {
			json_object_set_new(m, *key, json_integer(conv_number(val)));
		} else if (json_is_string(val)) {
			json_object_set(m, *key, (json_t *)val);
		} else {
			conv_left(c, conv_line(values, *key), "config.vm.%s: not a string", *key);
		}
	}
	providers(c, json_object_get(vm, "providers"), m);
	json_object_foreach(json_object_get(vm, "values"), k, v)
	{
		json_int_t line = json_integer_value(json_object_get(v, "line"));
		if (conv_listed(vm_keys, k))
			continue;
		if (strcmp(k, "box_check_update") == 0)
			conv_note(
				c, line,
				"config.vm.box_check_update: den never looks for box updates at up "
				"(`den box outdated` does)");
		else if (strcmp(k, "box_url") == 0)
			conv_left(c, line,
				  "config.vm.box_url: den's box_url names a box server; add this "
				  "box once with `den box add %s --name BOX`",
				  json_is_string(json_object_get(v, "value"))
					  ? json_string_value(json_object_get(v, "value"))
					  : "URL");
		else
			conv_left(c, line, "config.vm.%s: den has no such setting", k);
	}
	if (ssh != NULL) {
		json_t *s = json_object();
		static const char *const ssh_keys[] = { "username", "private_key_path",
							"insert_key", NULL };
		for (const char *const *key = ssh_keys; *key != NULL; key++) {
			const json_t *val = conv_value(ssh, *key);
			if (val == NULL)
				continue;
			if (json_is_array(val)) {
				conv_note(c, conv_line(ssh, *key),
					  "config.ssh.private_key_path: den takes one key, the "
					  "first");
				val = json_array_get(val, 0);
			}
			json_object_set_new(s, *key,
					    strcmp(*key, "private_key_path") == 0
						    ? conv_host_path(c, val)
						    : json_deep_copy(val));
		}
		json_object_foreach((json_t *)ssh, k, v)
		{
			if (!conv_listed(ssh_keys, k))
				conv_left(c, json_integer_value(json_object_get(v, "line")),
					  "config.ssh.%s: den has no such setting", k);
		}
		if (json_object_size(s) > 0)
			json_object_set(m, "ssh", s);
		json_decref(s);
	}
	conv_networks(c, json_object_get(vm, "networks"), ports, nets);
	if (json_array_size(ports) > 0)
		json_object_set(m, "forwarded_ports", ports);
	json_t *folders = conv_folders(c, json_object_get(vm, "folders"));
	if (json_array_size(folders) > 0)
		json_object_set(m, "synced_folders", folders);
	if (json_array_size(nets) > 0)
		json_object_set(m, "private_networks", nets);
	json_t *steps = conv_provisioners(c, json_object_get(vm, "provisioners"));
	if (json_array_size(steps) > 0)
		json_object_set(m, "provision", steps);
	json_decref(ports), json_decref(nets), json_decref(folders), json_decref(steps);
	/* What else the Vagrantfile named: config.vm's calls and namespaces, config's others. */
	left_calls_spaces(c, "config.vm", vm, "den has no such setting");
	json_object_foreach(json_object_get(cfg, "spaces"), k, v)
	{
		char name[128];
		snprintf(name, sizeof(name), "config.%s", k);
		conv_left_all(c, name, v, "den has no such setting");
	}
	return m;
}

static void override_left(struct conv *c, const char *from, const json_t *override)
{
	static const char *const lists[] = { "networks", "folders", "provisioners", "providers",
					     NULL };
	const json_t *vm = json_object_get(override, "vm");
	char prefix[128];
	size_t i;
	json_t *v;

	snprintf(prefix, sizeof(prefix), "%s's override.vm", from);
	conv_left_all(c, prefix, vm,
		      "den has one configuration for each machine, not one per provider");
	for (const char *const *l = lists; *l != NULL; l++)
		json_array_foreach(json_object_get(vm, *l), i, v)
			conv_left(c, json_integer_value(json_object_get(v, "line")),
				  "%s's override: %s: den has one configuration for each machine, "
				  "not one per provider",
				  from, *l);
	snprintf(prefix, sizeof(prefix), "%s's override.ssh", from);
	conv_left_all(c, prefix, json_object_get(override, "ssh"),
		      "den has one configuration for each machine");
	const char *k;
	json_object_foreach(json_object_get(override, "spaces"), k, v)
	{
		snprintf(prefix, sizeof(prefix), "%s's override.%s", from, k);
		conv_left_all(c, prefix, v, "den has one configuration for each machine");
	}
}
