/* SPDX-License-Identifier: MIT */
/* A VirtualBox, VMware or Hyper-V box made a libvirt box, in place (boxes/vm_import.h). */
#include "boxes/vm_import.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INFO_MAX (1u << 20)
#define META_MAX (1u << 20)

/* Files of the box that stay: what den's VM box form is. */
static const char *const kept[] = { "metadata.json", "box.img", "Vagrantfile", "box.json" };

static int qemu_img(const char *const argv[], char *out, size_t size, struct den_err *err)
{
	struct den_spawn sp = { .argv = argv,
				.out = out ? DEN_SPAWN_CAPTURE : DEN_SPAWN_NULL,
				.out_buf = out,
				.out_size = size,
				.err_fd = DEN_SPAWN_NULL,
				.name = argv[1] && strcmp(argv[1], "info") == 0
						? "qemu-img info"
						: "qemu-img convert",
				.install = "install qemu-utils" };

	return den_spawn_run(&sp, err);
}

/* Is path (as qemu-img names an extent) inside dir? Links resolved: dir is real already. */
static bool inside(const char *dir, const char *path)
{
	char real[PATH_MAX];
	size_t n = strlen(dir);

	return realpath(path, real) != NULL && strncmp(real, dir, n) == 0 && real[n] == '/';
}

/*
 * The disk reads no file but its own (and, for a vmdk, extents beside it):
 * no backing file, no data file. Its virtual size into *size.
 */
static int check_disk(const char *dir, const char *disk, const char *format, uint64_t *size,
		      struct den_err *err)
{
	cleanup_free char *out = malloc(INFO_MAX);
	const char *argv[] = { "qemu-img", "info", "--output=json", "-f", format, disk, NULL };
	json_error_t jerr;
	json_t *info, *data, *e;
	size_t i;
	int rc = 0;

	if (out == NULL)
		return den_err_set(err, ENOMEM, "qemu-img info");
	/* The format is given, never probed: a hostile disk may look like another one. */
	if (qemu_img(argv, out, INFO_MAX, err) < 0)
		return den_err_wrap(err, "the box's disk is not a %s image", format);
	info = json_loads(out, 0, &jerr);
	data = json_object_get(json_object_get(info, "format-specific"), "data");
	if (json_object_get(info, "backing-filename") != NULL ||
	    json_object_get(data, "data-file") != NULL)
		rc = den_err_set(
			err, 0,
			"refused: the box's disk refers to another file (a backing or data "
			"file); a box must bring its whole disk");
	json_array_foreach(json_object_get(data, "extents"), i, e)
	{
		const char *f = json_string_value(json_object_get(e, "filename"));
		if (rc == 0 && (f == NULL || !inside(dir, f)))
			rc = den_err_set(err, 0,
					 "refused: the box's disk reads an extent outside the box "
					 "(%.200s)",
					 f ? f : "?");
	}
	json_t *v = json_object_get(info, "virtual-size");
	if (rc == 0 && (!json_is_integer(v) || json_integer_value(v) <= 0))
		rc = den_err_set(err, 0, "qemu-img info: the box's disk has no size");
	else if (rc == 0)
		*size = (uint64_t)json_integer_value(v);
	json_decref(info);
	return rc;
}

/* Removes what the conversion leaves behind: everything but kept[]. */
static int remove_the_rest(const char *dir, struct den_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return den_err_set(err, errno, "cannot read %s", dir);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		bool keep = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
		for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++)
			keep |= strcmp(e->d_name, kept[i]) == 0;
		if (!keep)
			rc = den_rm_rf_at(dirfd(d), e->d_name, err);
	}
	closedir(d);
	return rc;
}

/* metadata.json as a libvirt box's, with where it came from and what it asked for. */
static int rewrite_metadata(const char *dir, const char *provider, const struct vm_description *d,
			    uint64_t size, struct den_err *err)
{
	cleanup_free char *path = NULL, *text = NULL, *out = NULL;
	json_error_t jerr;
	json_t *m, *den;
	char memory[32];
	int rc;

	if (asprintf(&path, "%s/metadata.json", dir) < 0)
		return den_err_set(err, ENOMEM, "cannot convert the box");
	if (den_read_file(path, META_MAX, &text, NULL, err) < 0)
		return -1;
	m = json_loads(text, 0, &jerr);
	if (!json_is_object(m)) {
		json_decref(m);
		return den_err_set(err, 0, "the box's metadata.json is not a JSON object");
	}
	den = json_object_get(m, "den");
	if (!json_is_object(den)) {
		den = json_object();
		json_object_set_new(m, "den", den);
	}
	json_object_set_new(m, "provider", json_string("libvirt"));
	json_object_set_new(m, "format", json_string("qcow2"));
	json_object_set_new(m, "virtual_size",
			    json_integer((json_int_t)((size + (1ull << 30) - 1) >> 30)));
	json_object_set_new(den, "imported_from", json_string(provider));
	if (d->cpus > 0)
		json_object_set_new(den, "cpus", json_sprintf("%u", d->cpus));
	if (d->memory >= (16u << 20)) {
		snprintf(memory, sizeof(memory), "%lluM", (unsigned long long)(d->memory >> 20));
		json_object_set_new(den, "memory", json_string(memory));
	}
	out = json_dumps(m, JSON_INDENT(2));
	json_decref(m);
	if (out == NULL)
		return den_err_set(err, ENOMEM, "cannot convert the box");
	rc = den_write_file_atomic(path, out, 0644, err);
	return rc;
}

int vm_import(const char *dir, const char *provider, struct den_err *err)
{
	cleanup_free char *real = realpath(dir, NULL), *disk = NULL, *img = NULL;
	struct vm_description d;
	uint64_t size = 0;
	int rc = -1;

	if (real == NULL)
		return den_err_set(err, errno, "cannot read %s", dir);
	if (vm_describe(real, provider, &d, err) < 0)
		return den_err_wrap(err, "a %s box", provider);
	if (asprintf(&disk, "%s/%s", real, d.disk) < 0 || asprintf(&img, "%s/box.img", real) < 0) {
		den_err_set(err, ENOMEM, "cannot convert the box");
		goto out;
	}
	if (!inside(real, disk)) {
		den_err_set(err, 0, "refused: the box's disk %s leads outside the box", d.disk);
		goto out;
	}
	if (check_disk(real, disk, d.format, &size, err) < 0)
		goto out;
	den_info("converting the %s box's disk (%s, %s) to qcow2", provider, d.disk, d.format);
	const char *argv[] = {
		"qemu-img", "convert", "-f", d.format, "-O", "qcow2", disk, img, NULL
	};
	if (qemu_img(argv, NULL, 0, err) < 0 || remove_the_rest(real, err) < 0 ||
	    rewrite_metadata(real, provider, &d, size, err) < 0)
		goto out;
	rc = 0;
out:
	vm_description_free(&d);
	return rc < 0 ? den_err_wrap(err, "converting the %s box", provider) : 0;
}
