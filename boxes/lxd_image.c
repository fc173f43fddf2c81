/* SPDX-License-Identifier: MIT */
/*
 * LXD and LXC images as container boxes: LXD's unified tarball
 * (metadata.yaml, templates/ and rootfs/ in one archive) and the split form
 * (a metadata tarball holding metadata.yaml, and a rootfs tarball). Their
 * identity is LXD's fingerprint: the sha256 of the metadata tarball then
 * the rootfs, or of the unified tarball.
 */
#include "boxes/image.h"
#include "boxes/unpack.h"
#include "core/cleanup.h"
#include "core/digest.h"
#include "core/fsutil.h"
#include "core/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yaml.h>

#define META_YAML_MAX (1u << 20)
#define CHUNK (1 << 16)

/* What one tarball holds at its top: metadata.yaml, rootfs/. */
struct tar_top {
	bool metadata, rootfs;
};

/* Reads path's member names (headers only); metadata.yaml's text into *yaml when asked. */
static int scan_tar(const char *path, struct tar_top *top, char **yaml, struct den_err *err)
{
	struct archive *a;
	struct archive_entry *e;
	int r, rc = 0;

	memset(top, 0, sizeof(*top));
	a = unpack_open(path, false, err);
	if (a == NULL)
		return -1;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *m = image_member_name(e);
		if (m == NULL)
			continue;
		top->rootfs |= strncmp(m, "rootfs/", 7) == 0;
		if (strcmp(m, "metadata.yaml") != 0 || archive_entry_filetype(e) != AE_IFREG)
			continue;
		top->metadata = true;
		if (yaml == NULL || *yaml != NULL)
			continue;
		if (archive_entry_size(e) < 0 || archive_entry_size(e) > META_YAML_MAX) {
			rc = den_err_set(err, 0, "refused: %s's metadata.yaml is over 1 MiB", path);
			break;
		}
		size_t n = (size_t)archive_entry_size(e);
		*yaml = calloc(1, n + 1);
		if (*yaml == NULL || archive_read_data(a, *yaml, n) != (la_ssize_t)n) {
			rc = den_err_set(err, *yaml ? 0 : ENOMEM, "cannot read %s's metadata.yaml",
					 path);
			break;
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF && r != ARCHIVE_OK)
		rc = den_err_set(err, 0, "%s is damaged or truncated: %s", path,
				 archive_error_string(a));
	archive_read_free(a);
	return rc;
}

/* A scalar of a mapping node, by key, or NULL. */
static const char *yaml_get(yaml_document_t *doc, yaml_node_t *map, const char *key,
			    yaml_node_t **value)
{
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		if (k == NULL || k->type != YAML_SCALAR_NODE || v == NULL ||
		    strcmp((const char *)k->data.scalar.value, key) != 0)
			continue;
		if (value != NULL)
			*value = v;
		return v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "";
	}
	return NULL;
}

/* metadata.yaml: its architecture checked, its properties kept as the image's config. */
static int read_metadata(const char *text, struct image *img, struct den_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *props = NULL;
	const char *arch;
	json_t *p = json_object();
	int rc = 0;

	if (p == NULL || !yaml_parser_initialize(&parser)) {
		json_decref(p);
		return den_err_set(err, ENOMEM, "cannot read metadata.yaml");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&parser, &doc)) {
		rc = den_err_set(err, 0, "metadata.yaml is not YAML: %s",
				 parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		json_decref(p);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	arch = yaml_get(&doc, root, "architecture", NULL);
	if (arch == NULL || (strcmp(arch, "x86_64") != 0 && strcmp(arch, "amd64") != 0))
		rc = den_err_set(err, 0,
				 "the image is for %.40s; den's container provider runs x86_64 "
				 "(amd64) images",
				 arch ? arch : "no architecture it names");
	yaml_get(&doc, root, "properties", &props);
	for (yaml_node_pair_t *q = props && props->type == YAML_MAPPING_NODE
					   ? props->data.mapping.pairs.start
					   : NULL;
	     rc == 0 && q != NULL && q < props->data.mapping.pairs.top; q++) {
		yaml_node_t *k = yaml_document_get_node(&doc, q->key);
		yaml_node_t *v = yaml_document_get_node(&doc, q->value);
		if (k && v && k->type == YAML_SCALAR_NODE && v->type == YAML_SCALAR_NODE)
			json_object_set_new(p, (const char *)k->data.scalar.value,
					    json_string((const char *)v->data.scalar.value));
	}
	if (rc == 0) {
		const char *os = json_string_value(json_object_get(p, "os"));
		const char *release = json_string_value(json_object_get(p, "release"));
		img->config = json_pack("{s:o}", "properties", json_incref(p));
		if (os != NULL && release != NULL &&
		    asprintf(&img->reference, "%s/%s", os, release) < 0)
			img->reference = NULL;
		/* An LXD image's own name is lower-case: "Debian" and "bookworm" give "debian/bookworm". */
		for (char *c = img->reference; c != NULL && *c != '\0'; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	}
	json_decref(p);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/* LXD's fingerprint: sha256 over the files, in order. */
static int fingerprint(const char *const *files, size_t n, struct image *img, struct den_err *err)
{
	struct digest *d;
	char hex[DIGEST_HEX_MAX], *buf = malloc(CHUNK);

	if (den_crypto_load(err) < 0 || buf == NULL || (d = digest_new(DIGEST_SHA256)) == NULL) {
		free(buf);
		return den_err_is_set(err) ? -1 : den_err_set(err, ENOMEM, "cannot read the image");
	}
	for (size_t i = 0; i < n; i++) {
		cleanup_close int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		ssize_t r;
		if (fd < 0) {
			free(buf);
			digest_free(d);
			return den_err_set(err, errno, "cannot read %s", files[i]);
		}
		while ((r = read(fd, buf, CHUNK)) > 0)
			digest_update(d, buf, (size_t)r);
	}
	free(buf);
	digest_final_hex(d, hex);
	digest_free(d);
	return asprintf(&img->id, "sha256:%s", hex) < 0 ? den_err_set(err, ENOMEM, "image") : 0;
}

/* The split form's two tarballs in dir: which holds metadata.yaml, which the root. */
static int find_split(const char *dir, char **meta, char **rootfs, struct den_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return den_err_set(err, errno, "cannot read %s", dir);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		cleanup_free char *p = NULL;
		struct tar_top top;
		char magic[4] = "";
		if (e->d_type != DT_REG || asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			continue;
		cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && read(fd, magic, 4) == 4 && memcmp(magic, "hsqs", 4) == 0)
			rc = den_err_set(
				err, 0,
				"%s is a squashfs root file system, which den does not "
				"read; export the image as a tarball (unsquashfs, then tar)",
				p);
		else if (scan_tar(p, &top, NULL, err) < 0)
			den_err_clear(err); /* not a tarball: not one of the image's */
		else if (top.metadata && *meta == NULL)
			*meta = steal_pointer(&p);
		else if (!top.metadata && *rootfs == NULL)
			*rootfs = steal_pointer(&p);
		else
			rc = den_err_set(err, 0,
					 "%s holds more than a metadata tarball and a rootfs "
					 "tarball (%s)",
					 dir, e->d_name);
	}
	closedir(d);
	if (rc == 0 && (*meta == NULL || *rootfs == NULL))
		rc = den_err_set(err, 0,
				 "%s has no %s: an LXD image in two files is a tarball with "
				 "metadata.yaml and a rootfs tarball",
				 dir, *meta == NULL ? "metadata tarball" : "rootfs tarball");
	return rc;
}

int image_lxd_open(const char *path, struct image *img, struct den_err *err)
{
	cleanup_free char *yaml = NULL, *meta = NULL, *rootfs = NULL;
	struct tar_top top;
	struct stat st;

	memset(img, 0, sizeof(*img));
	if (stat(path, &st) < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	if (S_ISDIR(st.st_mode)) {
		if (find_split(path, &meta, &rootfs, err) < 0 ||
		    scan_tar(meta, &top, &yaml, err) < 0)
			goto fail;
		const char *files[] = { meta, rootfs };
		if (fingerprint(files, 2, img, err) < 0)
			goto fail;
		img->lxd_rootfs = steal_pointer(&rootfs);
	} else {
		if (scan_tar(path, &top, &yaml, err) < 0)
			goto fail;
		if (!top.metadata || !top.rootfs) {
			den_err_set(err, 0, "%s is not an LXD image: it has no %s at its top", path,
				    top.metadata ? "rootfs/" : "metadata.yaml");
			goto fail;
		}
		const char *files[] = { path };
		if (fingerprint(files, 1, img, err) < 0 ||
		    (img->lxd_unified = strdup(path)) == NULL)
			goto fail;
	}
	if (yaml == NULL) {
		den_err_set(err, 0, "the image has no metadata.yaml");
		goto fail;
	}
	if (read_metadata(yaml, img, err) < 0)
		goto fail;
	return 0;
fail:
	image_free(img);
	return -1;
}

/* A folder below dir, reached through no link (a unified tarball's rootfs/). */
static int is_plain_dir(const char *dir, const char *name)
{
	cleanup_close int at = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
	int fd = at < 0 ? -1 : (int)syscall(SYS_openat2, at, name, &how, sizeof(how));

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int lxd_unpack_rootfs(const struct image *img, const char *dir, uint64_t max, struct den_err *err)
{
	cleanup_free char *root = NULL, *whole = NULL, *from = NULL;

	if (asprintf(&root, "%s/rootfs", dir) < 0 || asprintf(&whole, "%s/lxd", dir) < 0 ||
	    asprintf(&from, "%s/rootfs", whole) < 0)
		return den_err_set(err, ENOMEM, "cannot unpack the image");
	if (img->lxd_rootfs != NULL)
		return mkdir(root, 0755) < 0 ? den_err_set(err, errno, "cannot make %s", root)
					     : unpack_archive(img->lxd_rootfs, root, UNPACK_ROOTFS,
							      max, NULL, err);
	/* Unified: the whole archive with a root file system's rules, then its rootfs/ kept. */
	if (mkdir(whole, 0755) < 0)
		return den_err_set(err, errno, "cannot make %s", whole);
	if (unpack_archive(img->lxd_unified, whole, UNPACK_ROOTFS, max, NULL, err) < 0)
		return -1;
	if (!is_plain_dir(whole, "rootfs"))
		return den_err_set(err, 0, "refused: the image's rootfs is not a folder");
	if (rename(from, root) < 0)
		return den_err_set(err, errno, "cannot move %s", from);
	return den_rm_rf(whole, err);
}
