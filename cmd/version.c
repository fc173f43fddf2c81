/* SPDX-License-Identifier: MIT */
/* `den version`, `den --version`: den's version, and with -v or --json its libraries'. */
#include "cmd/cmd.h"

#include <archive.h>
#include <curl/curlver.h>
#include <libslirp-version.h>
#include <libssh/libssh_version.h>
#include <stdio.h>
#include <yaml.h>

const struct cmd_usage cmd_usage_version = {
	.path = "version",
};

#define STR_(x) #x
#define STR(x) STR_(x)

/* Compile-time versions, so printing them loads none of these libraries. */
static const struct {
	const char *name, *version;
} libs[] = {
	{ "libyaml", NULL }, /* only known at run time */
	{ "jansson", JANSSON_VERSION },
	{ "libcurl", LIBCURL_VERSION },
	{ "libarchive", ARCHIVE_VERSION_ONLY_STRING },
	{ "libssh",
	  STR(LIBSSH_VERSION_MAJOR) "." STR(LIBSSH_VERSION_MINOR) "." STR(LIBSSH_VERSION_MICRO) },
	{ "libslirp", SLIRP_VERSION_STRING },
};

static const char *lib_version(size_t i)
{
	return libs[i].version ? libs[i].version : yaml_get_version_string();
}

int cmd_version(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	if (argc > 1)
		return den_err_usage(err, "`den version` takes no arguments, got '%s'", argv[1]);
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:{}}", "version", DEN_VERSION, "libraries");
		for (size_t i = 0; j != NULL && i < sizeof(libs) / sizeof(libs[0]); i++)
			json_object_set_new(json_object_get(j, "libraries"), libs[i].name,
					    json_string(lib_version(i)));
		return cmd_print_json(j, err);
	}
	printf("den %s\n", DEN_VERSION);
	if (den_log_level() >= DEN_LOG_VERBOSE)
		for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
			printf("  %-11s %s\n", libs[i].name, lib_version(i));
	return 0;
}
