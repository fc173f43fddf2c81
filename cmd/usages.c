/* SPDX-License-Identifier: MIT */
/*
 * The list of every command's and sub-command's usage (each defined beside
 * its parser), for completion and the manual pages.
 */
#include "cmd/usage.h"

#include <string.h>

extern const struct cmd_usage cmd_usage_up, cmd_usage_halt, cmd_usage_reload, cmd_usage_destroy,
	cmd_usage_suspend, cmd_usage_resume, cmd_usage_snapshot, cmd_usage_snapshot_save,
	cmd_usage_snapshot_restore, cmd_usage_snapshot_list, cmd_usage_snapshot_delete,
	cmd_usage_status, cmd_usage_global_status, cmd_usage_port, cmd_usage_ssh,
	cmd_usage_ssh_config, cmd_usage_exec, cmd_usage_upload, cmd_usage_rsync,
	cmd_usage_provision, cmd_usage_box, cmd_usage_box_add, cmd_usage_box_list,
	cmd_usage_box_remove, cmd_usage_box_outdated, cmd_usage_box_update, cmd_usage_box_prune,
	cmd_usage_box_build, cmd_usage_box_publish, cmd_usage_box_package, cmd_usage_box_push,
	cmd_usage_box_warm, cmd_usage_lxd, cmd_usage_lxd_trust, cmd_usage_init, cmd_usage_validate,
	cmd_usage_version, cmd_usage_help, cmd_usage_completion, cmd_usage_doctor, cmd_usage_vmm,
	cmd_usage_vmm_run, cmd_usage_container, cmd_usage_container_run, cmd_usage_net,
	cmd_usage_net_run, cmd_usage_net_switch;

const struct cmd_usage *const cmd_usages[] = {
	&cmd_usage_up,
	&cmd_usage_halt,
	&cmd_usage_reload,
	&cmd_usage_destroy,
	&cmd_usage_suspend,
	&cmd_usage_resume,
	&cmd_usage_snapshot,
	&cmd_usage_snapshot_save,
	&cmd_usage_snapshot_restore,
	&cmd_usage_snapshot_list,
	&cmd_usage_snapshot_delete,
	&cmd_usage_status,
	&cmd_usage_global_status,
	&cmd_usage_port,
	&cmd_usage_ssh,
	&cmd_usage_ssh_config,
	&cmd_usage_exec,
	&cmd_usage_upload,
	&cmd_usage_rsync,
	&cmd_usage_provision,
	&cmd_usage_box,
	&cmd_usage_box_add,
	&cmd_usage_box_list,
	&cmd_usage_box_remove,
	&cmd_usage_box_outdated,
	&cmd_usage_box_update,
	&cmd_usage_box_prune,
	&cmd_usage_box_build,
	&cmd_usage_box_publish,
	&cmd_usage_box_package,
	&cmd_usage_box_push,
	&cmd_usage_box_warm,
	&cmd_usage_lxd,
	&cmd_usage_lxd_trust,
	&cmd_usage_init,
	&cmd_usage_validate,
	&cmd_usage_version,
	&cmd_usage_help,
	&cmd_usage_completion,
	&cmd_usage_doctor,
	&cmd_usage_vmm,
	&cmd_usage_vmm_run,
	&cmd_usage_container,
	&cmd_usage_container_run,
	&cmd_usage_net,
	&cmd_usage_net_run,
	&cmd_usage_net_switch,
	NULL,
};

const struct cmd_usage *cmd_usage_find(const char *path)
{
	for (const struct cmd_usage *const *u = cmd_usages; *u != NULL; u++)
		if (strcmp((*u)->path, path) == 0)
			return *u;
	return NULL;
}

bool cmd_usage_has_opts(const struct cmd_usage *u)
{
	return u != NULL && u->opts[0].name != NULL;
}

const struct cmd_usage *cmd_usage_next_sub_with_opts(const char *cmd, size_t *at)
{
	size_t len = strlen(cmd);

	for (; cmd_usages[*at] != NULL; (*at)++) {
		const struct cmd_usage *u = cmd_usages[*at];
		if (strncmp(u->path, cmd, len) == 0 && u->path[len] == ' ' &&
		    cmd_usage_has_opts(u)) {
			(*at)++;
			return u;
		}
	}
	return NULL;
}

const struct cmd_opt *cmd_usage_opt(const struct cmd_usage *u, const char *name, char letter)
{
	for (cmd_usage_each_opt(o, u))
		if (name != NULL ? strcmp(o->name, name) == 0
				 : (letter != 0 && o->letter == letter))
			return o;
	return NULL;
}
