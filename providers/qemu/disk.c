/* SPDX-License-Identifier: MIT */
#include "providers/qemu/disk.h"
#include "core/spawn.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int qemu_img(char *const argv[], char *out, size_t out_len, struct den_err *err)
{
	char name[64];
	struct den_spawn sp = { .argv = (const char *const *)argv,
				.out = DEN_SPAWN_CAPTURE,
				.out_buf = out,
				.out_size = out_len,
				.err_fd = DEN_SPAWN_NULL, /* in the error only */
				.name = name,
				.install = "install qemu-utils" };

	snprintf(name, sizeof(name), "qemu-img %s", argv[1]);
	return den_spawn_run(&sp, err);
}

int qemu_disk_size(const char *path, const char *format, uint64_t *size, struct den_err *err)
{
	char *out = malloc(QEMU_IMG_OUTPUT_MAX);
	/* The format is given, never probed: a raw image may look like anything. */
	char *argv[] = { "qemu-img",   "info", "--output=json", "-f", (char *)format,
			 (char *)path, NULL };
	json_error_t jerr;

	if (out == NULL)
		return den_err_set(err, ENOMEM, "qemu-img");
	if (qemu_img(argv, out, QEMU_IMG_OUTPUT_MAX, err) < 0) {
		free(out);
		return -1;
	}
	json_t *info = json_loads(out, 0, &jerr);
	free(out);
	json_t *v = json_object_get(info, "virtual-size");
	json_t *data = json_object_get(
		json_object_get(json_object_get(info, "format-specific"), "data"), "data-file");
	int rc = 0;
	/* A box that reads other files of the host is hostile: its backing or data file. */
	if (json_object_get(info, "backing-filename") != NULL || data != NULL)
		rc = den_err_set(err, 0,
				 "%s refers to another file (a backing or data file): refused, a "
				 "box must be one self-contained image",
				 path);
	else if (!json_is_integer(v) || json_integer_value(v) < 0)
		rc = den_err_set(err, 0, "qemu-img info %s: no virtual size", path);
	else
		*size = (uint64_t)json_integer_value(v);
	json_decref(info);
	return rc;
}

int qemu_disk_create(const char *base, const char *base_format, const char *path, uint64_t size,
		     struct den_err *err)
{
	char out[4096], size_arg[32];
	uint64_t base_size = 0;

	if (base[0] != '/')
		return den_err_set(err, EINVAL, "the box image %s must be an absolute path", base);
	if (qemu_disk_size(base, base_format, &base_size, err) < 0)
		return den_err_wrap(err, "the box image");
	/* A disk_size under the box's is ignored: a disk never shrinks below its file systems. */
	snprintf(size_arg, sizeof(size_arg), "%llu",
		 (unsigned long long)(size > base_size ? size : base_size));
	char *argv[] = {
		"qemu-img",	     "create", "-q",	     "-f",	   "qcow2",  "-F",
		(char *)base_format, "-b",     (char *)base, (char *)path, size_arg, NULL
	};
	return qemu_img(argv, out, sizeof(out), err);
}
