/* SPDX-License-Identifier: MIT */
/*
 * A Vagrantfile's lists made den's: networks (forwarded ports, private
 * networks), synced folders and provisioners. Each option den has the same
 * meaning for is kept; any other is listed with its line.
 */
#include "vagrantfile/convert-internal.h"

#include <stdio.h>
#include <string.h>

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void copy_if(json_t *to, const char *to_key, const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	if (v != NULL && !json_is_null(v))
		json_object_set(to, to_key, v);
}

static void forwarded_port(struct conv *c, const json_t *o, json_int_t line, json_t *ports)
{
	static const char *const known[] = { "guest",	     "host", "protocol", "host_ip",
					     "auto_correct", "id",   NULL };
	json_t *p = json_object();

	if (conv_number(json_object_get(o, "guest")) < 0 ||
	    conv_number(json_object_get(o, "host")) < 0) {
		conv_left(c, line, "a forwarded port needs a guest and a host port");
		json_decref(p);
		return;
	}
	json_object_set_new(p, "guest", json_integer(conv_number(json_object_get(o, "guest"))));
	json_object_set_new(p, "host", json_integer(conv_number(json_object_get(o, "host"))));
	copy_if(p, "protocol", o, "protocol");
	copy_if(p, "host_ip", o, "host_ip");
	copy_if(p, "auto_correct", o, "auto_correct");
	copy_if(p, "id", o, "id");
	json_array_append_new(ports, p);
	conv_left_keys(c, "the forwarded port", o, NULL, line, known, "den has no such option");
}

static void private_network(struct conv *c, const json_t *o, json_int_t line, json_t *nets)
{
	static const char *const known[] = { "ip", "netmask", "type", NULL };
	const char *type = str(o, "type");
	json_t *n = json_object();

	if (type != NULL && strcmp(type, "dhcp") == 0) {
		json_object_set_new(n, "dhcp", json_true());
	} else if (str(o, "ip") != NULL) {
		json_object_set(n, "ip", json_object_get(o, "ip"));
		copy_if(n, "netmask", o, "netmask");
	} else {
		conv_left(c, line, "a private network with neither ip nor type: \"dhcp\"");
		json_decref(n);
		return;
	}
	json_array_append_new(nets, n);
	conv_left_keys(c, "the private network", o, NULL, line, known,
		       "den's private networks are its own switch, with no host interface");
}

void conv_networks(struct conv *c, const json_t *networks, json_t *ports, json_t *nets)
{
	size_t i;
	json_t *n;

	json_array_foreach(networks, i, n)
	{
		const char *type = str(n, "type");
		json_int_t line = json_integer_value(json_object_get(n, "line"));
		const json_t *o = json_object_get(n, "options");
		if (type != NULL && strcmp(type, "forwarded_port") == 0)
			forwarded_port(c, o, line, ports);
		else if (type != NULL && strcmp(type, "private_network") == 0)
			private_network(c, o, line, nets);
		else
			conv_left(c, line,
				  "config.vm.network \"%s\": den has no such network (its machines "
				  "reach out through NAT; forward ports to reach in)",
				  type != NULL ? type : "?");
	}
}

/* A folder's mount_options: ro and rw are den's; others are listed. */
static void mount_options(struct conv *c, json_t *f, const json_t *opts, json_int_t line)
{
	json_t *keep = json_array(), *v;
	size_t i;

	json_array_foreach(opts, i, v)
	{
		const char *o = json_string_value(v);
		if (o != NULL && (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0))
			json_array_append(keep, v);
		else
			conv_left(c, line,
				  "synced folder mount option '%s': den takes ro or rw only",
				  o != NULL ? o : "?");
	}
	if (json_array_size(keep) > 0)
		json_object_set(f, "mount_options", keep);
	json_decref(keep);
}

json_t *conv_folders(struct conv *c, const json_t *folders)
{
	static const char *const known[] = { "type",  "disabled",	"create",
					     "owner", "group",		"mount_options",
					     "id",    "rsync__exclude", NULL };
	json_t *out = json_array(), *d;
	size_t i;

	json_array_foreach(folders, i, d)
	{
		const json_t *o = json_object_get(d, "options");
		json_int_t line = json_integer_value(json_object_get(d, "line"));
		const char *type = str(o, "type");
		json_t *f = json_object();

		json_object_set_new(f, "host", conv_host_path(c, json_object_get(d, "host")));
		json_object_set(f, "guest", json_object_get(d, "guest"));
		if (type != NULL && strcmp(type, "rsync") == 0) {
			json_object_set_new(f, "type", json_string("rsync"));
			json_t *ex = conv_list(json_object_get(o, "rsync__exclude"));
			if (ex != NULL)
				json_object_set_new(f, "rsync_exclude", ex);
		} else if (type != NULL) {
			conv_note(
				c, line,
				"synced folder type \"%s\": den shares it its own way (native: an "
				"idmapped bind mount or virtio-9p)",
				type);
		}
		if (json_is_array(json_object_get(o, "mount_options")))
			mount_options(c, f, json_object_get(o, "mount_options"), line);
		copy_if(f, "owner", o, "owner");
		copy_if(f, "group", o, "group");
		copy_if(f, "create", o, "create");
		copy_if(f, "disabled", o, "disabled");
		if (json_object_get(o, "rsync__exclude") != NULL &&
		    (type == NULL || strcmp(type, "rsync") != 0))
			conv_left(c, line, "rsync__exclude on a folder that is not type \"rsync\"");
		json_array_append_new(out, f);
		conv_left_keys(c, "the synced folder", o, NULL, line, known,
			       "den has no such option");
	}
	return out;
}

/* The options each provisioner den has takes, as Vagrant names them (and den). */
static const char *const shell_keys[] = { "inline",	"path",	  "args",	"env",
					  "privileged", "reboot", "keep_color", "upload_path",
					  "name",	"run",	  "before",	"after",
					  NULL };
static const char *const file_keys[] = { "source", "destination", "name", "run",
					 "before", "after",	  NULL };
static const char *const ansible_keys[] = { "playbook",
					    "extra_vars",
					    "groups",
					    "limit",
					    "tags",
					    "skip_tags",
					    "become",
					    "verbose",
					    "galaxy_role_file",
					    "inventory_path",
					    "config_file",
					    "name",
					    "run",
					    "before",
					    "after",
					    "install",
					    "provisioning_path",
					    NULL };
/* Keys whose values are host paths (ansible_local's are the guest's). */
static const char *const host_path_keys[] = {
	"path", "source", "playbook", "galaxy_role_file", "inventory_path", "config_file", NULL
};

static json_t *one_step(struct conv *c, const json_t *s)
{
	const char *type = str(s, "type");
	const json_t *o = json_object_get(s, "options"), *lines = json_object_get(s, "lines");
	json_int_t line = json_integer_value(json_object_get(s, "line"));
	const char *const *keys = NULL;
	const char *k;
	json_t *v, *step = json_object(), *body = json_object();
	bool local = strcmp(type, "ansible_local") == 0;

	if (strcmp(type, "shell") == 0)
		keys = shell_keys;
	else if (strcmp(type, "file") == 0)
		keys = file_keys;
	else if (strcmp(type, "ansible") == 0 || local)
		keys = ansible_keys;
	if (keys == NULL) {
		conv_left(c, line,
			  "config.vm.provision \"%s\": den has shell, file, ansible and "
			  "ansible_local provisioners",
			  type);
		json_decref(step);
		json_decref(body);
		return NULL;
	}
	if (str(s, "name") != NULL)
		json_object_set(body, "name", json_object_get(s, "name"));
	json_object_foreach((json_t *)o, k, v)
	{
		if (!conv_listed(keys, k) || json_is_null(v))
			continue;
		if (strcmp(k, "install") == 0 || strcmp(k, "provisioning_path") == 0) {
			if (!local)
				continue; /* listed below as not converted */
		}
		if (!local && conv_listed(host_path_keys, k) && json_is_string(v))
			json_object_set_new(body, k, conv_host_path(c, v));
		else if (strcmp(k, "limit") == 0 || strcmp(k, "tags") == 0 ||
			 strcmp(k, "skip_tags") == 0)
			json_object_set_new(body, k, conv_list(v));
		else if (strcmp(k, "run") == 0 && json_is_string(v) &&
			 strcmp(json_string_value(v), "not_first") == 0)
			conv_left(c, json_integer_value(json_object_get(lines, k)),
				  "run: \"not_first\": den runs a step once, always or never");
		else
			json_object_set(body, k, v);
	}
	/* ansible's install and provisioning_path are ansible_local's in den. */
	static const char *const local_only[] = { "install", "provisioning_path", NULL };
	for (const char *const *l = local_only; !local && *l != NULL; l++)
		if (json_object_get(o, *l) != NULL)
			conv_left(c, json_integer_value(json_object_get(lines, *l)),
				  "%s on an ansible step: den takes it on ansible_local only", *l);
	conv_left_keys(c, type, o, lines, line, keys, "den has no such option");
	/* A shell step with only inline text reads best as `- shell: TEXT`. */
	if (strcmp(type, "shell") == 0 && json_object_size(body) == 1 &&
	    json_is_string(json_object_get(body, "inline")))
		json_object_set(step, type, json_object_get(body, "inline"));
	else
		json_object_set(step, type, body);
	json_decref(body);
	return step;
}

json_t *conv_provisioners(struct conv *c, const json_t *steps)
{
	json_t *out = json_array(), *s;
	size_t i;

	json_array_foreach(steps, i, s)
	{
		json_t *step = one_step(c, s);
		const json_t *calls = json_object_get(s, "calls");
		size_t j;
		json_t *call;
		json_array_foreach(calls, j, call)
			conv_left(c, json_integer_value(json_object_get(call, "line")),
				  "%s: a call den cannot convert", str(call, "name"));
		const char *k;
		json_t *space;
		json_object_foreach(json_object_get(s, "spaces"), k, space)
		{
			char prefix[128];
			snprintf(prefix, sizeof(prefix), "%s step's %s", str(s, "type"), k);
			conv_left_all(c, prefix, space, "den has no such option");
		}
		if (step != NULL)
			json_array_append_new(out, step);
	}
	return out;
}
