/* SPDX-License-Identifier: MIT */
#ifndef DEN_VAGRANTFILE_CONVERT_INTERNAL_H
#define DEN_VAGRANTFILE_CONVERT_INTERNAL_H

/* What convert.c and convert_items.c share while they turn a record into an Envfile. */

#include <jansson.h>
#include <stdbool.h>

struct conv {
	const char *shown;  /* the Vagrantfile, as lines name it */
	const char *rebase; /* its folder when the Envfile goes elsewhere, else NULL */
	json_t *left;	    /* lines for what was not converted */
	json_t *notes;	    /* lines for what was converted with a change */
};

/* "SHOWN:LINE: text" onto c->left or c->notes. */
void conv_left(struct conv *c, json_int_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void conv_note(struct conv *c, json_int_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A recorded setting's value ({"value": V, "line": N} under key), or NULL. */
const json_t *conv_value(const json_t *values, const char *key);
json_int_t conv_line(const json_t *values, const char *key);

/* A host path as the Envfile needs it: relative ones under c->rebase when set (new ref). */
json_t *conv_host_path(const struct conv *c, const json_t *path);

/* A whole number from an integer or a string of digits; -1 when it is neither. */
long long conv_number(const json_t *v);

/* A string or a list of strings as a list (new ref), or NULL. */
json_t *conv_list(const json_t *v);

/* Whether k is one of keys (NULL-terminated). */
bool conv_listed(const char *const *keys, const char *k);

/* Lists each key of options that known (NULL-terminated) lacks, with lines[key] or line. */
void conv_left_keys(struct conv *c, const char *what, const json_t *options, const json_t *lines,
		    json_int_t line, const char *const *known, const char *why);

/* Everything a recorder object holds (values, calls, namespaces), as not converted. */
void conv_left_all(struct conv *c, const char *prefix, const json_t *rec, const char *why);

/*
 * A config (the whole Vagrantfile's, or a define's) as a machine's keys
 * (convert.c). defaults: it goes into defaults:, which has no hostname;
 * *hostname then gets the Vagrantfile's (new ref), for each machine.
 */
json_t *conv_config(struct conv *c, const json_t *cfg, bool defaults, json_t **hostname);

/* config.vm.network ...: forwarded ports and private networks, appended to ports and nets. */
void conv_networks(struct conv *c, const json_t *networks, json_t *ports, json_t *nets);

/* config.vm.synced_folder ...: den's synced_folders. */
json_t *conv_folders(struct conv *c, const json_t *folders);

/* config.vm.provision ...: den's provision steps. */
json_t *conv_provisioners(struct conv *c, const json_t *steps);

#endif
