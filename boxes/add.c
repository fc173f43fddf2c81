/* SPDX-License-Identifier: MIT */
#include "boxes/box.h"
#include "boxes/catalog.h"
#include "core/digest.h"
#include "boxes/download.h"
#include "boxes/identity.h"
#include "boxes/image.h"
#include "boxes/vm_import.h"
#include "registry/box.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>

#define CATALOG_MAX (16u << 20)

/* A file or download that starts with '{' is a catalog; anything else a box. */
static int sniff_catalog(const char *path, bool *is_catalog, struct den_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[64];
	ssize_t n;

	if (fd < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return den_err_set(err, errno, "cannot read %s", path);
	*is_catalog = false;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')
			continue;
		*is_catalog = buf[i] == '{';
		break;
	}
	return 0;
}

/* $DEN_HOME/cache/<digest of url>.box: where a download of url goes, and resumes. */
static char *cache_path(const char *home, const char *url, struct den_err *err)
{
	cleanup_free char *dir = NULL;
	char hex[DIGEST_HEX_MAX], *p = NULL;
	struct digest *d;

	if (den_crypto_load(err) < 0)
		return NULL;
	d = digest_new(DIGEST_SHA256);
	if (d == NULL) {
		den_err_set(err, ENOMEM, "cannot download %s", url);
		return NULL;
	}
	digest_update(d, url, strlen(url));
	digest_final_hex(d, hex);
	digest_free(d);
	hex[32] = '\0';
	if (asprintf(&dir, "%s/cache", home) < 0 || den_mkdir_p(dir, 0755, err) < 0 ||
	    asprintf(&p, "%s/%s.box", dir, hex) < 0) {
		if (!den_err_is_set(err))
			den_err_set(err, ENOMEM, "cannot download %s", url);
		return NULL;
	}
	return p;
}

/* A catalog's box URL may be relative to the catalog: resolve it. */
static char *resolve_url(const char *catalog_url, const char *url)
{
	char *p = NULL;

	if (download_is_url(url) || catalog_url == NULL)
		return strdup(url);
	if (url[0] == '/') {
		if (strncmp(catalog_url, "file://", 7) == 0)
			return asprintf(&p, "file://%s", url) < 0 ? NULL : p;
		const char *host = strstr(catalog_url, "://");
		const char *path = host ? strchr(host + 3, '/') : NULL;
		int n = path ? (int)(path - catalog_url) : (int)strlen(catalog_url);
		return asprintf(&p, "%.*s%s", n, catalog_url, url) < 0 ? NULL : p;
	}
	const char *slash = strrchr(catalog_url, '/');
	int n = slash ? (int)(slash - catalog_url) : (int)strlen(catalog_url);
	return asprintf(&p, "%.*s/%s", n, catalog_url, url) < 0 ? NULL : p;
}

static int verify(const char *hex, const char *want, const char *type, const char *what,
		  struct den_err *err)
{
	if (want == NULL)
		return 0;
	if (strcasecmp(hex, want) != 0)
		return den_err_set(err, 0,
				   "checksum mismatch for %s: the %s is %s, but %s was expected; "
				   "the download was deleted",
				   what, type, hex, want);
	return 0;
}

/* Downloads url into the cache, checks it, installs it. */
static int fetch_and_install(const char *home, const struct box_add_opts *o,
			     const struct box_id *id, const char *url, const char *checksum,
			     const char *checksum_type, struct store_entry *out,
			     struct den_err *err)
{
	cleanup_free char *path = cache_path(home, url, err);
	struct box_origin origin = { url, checksum, checksum_type };
	struct download d = { .url = url, .progress = o->progress, .kind = DIGEST_SHA256 };
	char label[256];
	int r;

	if (path == NULL)
		return -1;
	if (checksum_type != NULL && digest_kind_parse(checksum_type, &d.kind) < 0)
		return den_err_set(err, 0,
				   "unknown checksum type '%s'; den knows md5, sha1, "
				   "sha256, sha384 and sha512",
				   checksum_type);
	snprintf(label, sizeof(label), "%s %s", id->name, id->version);
	d.path = path;
	d.label = label;
	den_info("downloading %s %s (%s) from %s", id->name, id->version,
		 id->provider ? id->provider : "?", url);
	if (download_file(&d, err) < 0)
		return den_err_wrap(err, "box %s", id->name);
	if (verify(d.hex, checksum, digest_kind_name(d.kind), url, err) < 0) {
		unlink(path);
		return -1;
	}
	if (checksum == NULL)
		origin.checksum = d.hex, origin.checksum_type = "sha256";
	r = store_install(home, id, path, &origin, o->force, out, err);
	if (r < 0)
		return den_err_wrap(err, "box %s from %s", id->name, url);
	unlink(path);
	return r;
}

static int add_from_catalog(const char *home, const struct box_add_opts *o, const char *catalog_url,
			    const char *text, size_t len, struct store_entry *out,
			    struct den_err *err)
{
	struct catalog c;
	const struct catalog_version *v;
	const struct catalog_provider *p;
	cleanup_free char *url = NULL;
	cleanup_close int lock = -1;
	int r;

	if (catalog_parse(text, len, catalog_url, &c, err) < 0)
		return -1;
	if (!box_name_valid(c.name)) {
		den_err_set(err, 0, "catalog %s names its box '%s', which is not a box name",
			    catalog_url, c.name);
		goto fail;
	}
	if (catalog_select(&c, o->version, o->provider, o->arch, &v, &p, err) < 0)
		goto fail;
	/* A VirtualBox, VMware or Hyper-V box is stored converted, as a libvirt box. */
	struct box_id id = { c.name, v->version, vm_import_provider(p->name) ? "libvirt" : p->name,
			     strcmp(p->arch, "unknown") == 0 && o->arch == NULL ? box_host_arch()
										: p->arch };
	url = resolve_url(catalog_url, p->url);
	if (url == NULL) {
		den_err_set(err, ENOMEM, "box %s", c.name);
		goto fail;
	}
	/* Only a catalog on this machine may point at files on it. */
	if (strncmp(url, "file://", 7) == 0 && strncmp(catalog_url, "file://", 7) != 0) {
		den_err_set(err, 0, "refused: catalog %s points at a local file (%s)", catalog_url,
			    url);
		goto fail;
	}
	if (store_lock(home, c.name, &lock, err) < 0)
		goto fail;
	if (!o->force) {
		int have = store_find(home, &id, out, err);
		if (have != 0) {
			catalog_free(&c);
			return have < 0 ? -1 : 1;
		}
	}
	r = fetch_and_install(home, o, &id, url, o->checksum ? o->checksum : p->checksum,
			      o->checksum ? o->checksum_type : p->checksum_type, out, err);
	catalog_free(&c);
	return r;
fail:
	catalog_free(&c);
	return -1;
}

/* A box file (local path or downloaded) with --name. */
static int add_file(const char *home, const struct box_add_opts *o, const char *path,
		    const char *url, struct store_entry *out, struct den_err *err)
{
	struct box_id id = { o->name, "0", o->provider, o->arch };
	struct box_identity self = { 0 };
	struct den_version v;
	const char *why;
	char hex[DIGEST_HEX_MAX];
	enum digest_kind kind = DIGEST_SHA256;
	cleanup_close int lock = -1;

	/* Boxes den built name themselves; others need --name, as in Vagrant. */
	if (o->name == NULL && box_identity_read(path, &self, err) == 0 && self.name != NULL &&
	    box_name_valid(self.name)) {
		struct box_add_opts named = *o;
		named.name = self.name;
		if (o->version == NULL)
			named.version = self.version;
		int r = add_file(home, &named, path, url, out, err);
		box_identity_free(&self);
		return r;
	}
	box_identity_free(&self);
	den_err_clear(err);
	if (o->name == NULL)
		return den_err_usage(err,
				     "%s is a box file, not a catalog: give it a name with "
				     "--name ORG/NAME",
				     o->source);
	if (!box_name_valid(o->name))
		return den_err_usage(err,
				     "'%s' is not a box name; use ORG/NAME with letters, "
				     "digits, '.', '_' and '-'",
				     o->name);
	if (o->version != NULL) {
		if (den_version_parse(o->version, &v, &why) < 0)
			return den_err_usage(err,
					     "--box-version for a box file is its version, "
					     "such as 1.0.0: %s",
					     why);
		id.version = o->version;
	}
	if (o->checksum_type != NULL && digest_kind_parse(o->checksum_type, &kind) < 0)
		return den_err_usage(err,
				     "unknown checksum type '%s'; den knows md5, sha1, "
				     "sha256, sha384 and sha512",
				     o->checksum_type);
	if (digest_file(path, kind, hex, err) < 0)
		return -1;
	if (verify(hex, o->checksum, digest_kind_name(kind), o->source, err) < 0)
		return -1;
	if (store_lock(home, o->name, &lock, err) < 0)
		return -1;
	struct box_origin origin = { url, hex, digest_kind_name(kind) };
	int r = store_install(home, &id, path, &origin, o->force, out, err);
	return r < 0 ? den_err_wrap(err, "box %s", o->name) : r;
}

static bool is_image_ref(const char *s)
{
	char *path = NULL, *tag = NULL;
	enum image_format f = s ? image_ref_parse(s, NULL, &path, &tag) : IMAGE_NONE;

	free(path);
	free(tag);
	return f != IMAGE_NONE;
}

/*
 * A container image: named as the source (its version exact, from the
 * command line or the lock), or as the server of a box name (box_url: the
 * version a constraint).
 */
static int add_image(const char *home, const struct box_add_opts *o, const char *ref,
		     bool named_by_server, struct store_entry *out, struct den_err *err)
{
	struct image_add_opts io = { .ref = ref,
				     .base_dir = o->base_dir,
				     .name = named_by_server ? o->source : o->name,
				     .version = named_by_server ? NULL : o->version,
				     .constraint = named_by_server ? o->version : NULL,
				     .checksum = o->checksum,
				     .force = o->force };

	if (o->provider != NULL && strcmp(o->provider, "container") != 0)
		return den_err_set(err, 0,
				   "%s is a container image: it makes a box for provider "
				   "container, not %s",
				   ref, o->provider);
	if (o->checksum != NULL && o->checksum_type != NULL &&
	    strcasecmp(o->checksum_type, "sha256") != 0)
		return den_err_usage(err, "an image's checksum is its sha256 image id");
	return image_add(home, &io, out, err);
}

/*
 * A den box from a registry: named as the source (oci://REF, a tag or a
 * digest; --box-version a constraint on a tagless one), or as the server
 * of a box name (box_url: oci://HOST/REPO; the version from its tags).
 */
static int add_from_registry(const char *home, const struct box_add_opts *o,
			     struct store_entry *out, struct den_err *err)
{
	bool named_by_server = !oci_box_is_ref(o->source);
	const char *ref = named_by_server ? o->server : o->source;
	struct oci_pull_opts po = { .home = home,
				    .ref = ref + strlen(OCI_BOX_SCHEME),
				    .name = named_by_server ? o->source : o->name,
				    .constraint = o->version,
				    .provider = o->provider,
				    .arch = o->arch,
				    .checksum = o->checksum,
				    .force = o->force,
				    .progress = o->progress };

	if (o->checksum != NULL && o->checksum_type != NULL &&
	    strcasecmp(o->checksum_type, "sha256") != 0)
		return den_err_usage(err, "a box from a registry is checked by its manifest's "
					  "sha256 digest");
	return oci_box_pull(&po, out, err);
}

/* An image from a registry (docker://REF): fetched into a layout, then added as any image. */
static int add_docker_image(const char *home, const struct box_add_opts *o, const char *ref,
			    bool named_by_server, struct store_entry *out, struct den_err *err)
{
	cleanup_free char *layout = NULL, *origin = NULL, *oci = NULL;
	struct den_err ignored = { 0 };
	int r;

	if (docker_image_fetch(home, ref + strlen(DOCKER_IMAGE_SCHEME), o->progress, &layout,
			       &origin, err) < 0)
		return -1;
	if (asprintf(&oci, "oci:%s", layout) < 0) {
		den_rm_rf(layout, &ignored);
		return den_err_set(err, ENOMEM, "image %s", ref);
	}
	struct image_add_opts iopts = { .ref = oci,
					.name = named_by_server ? o->source : o->name,
					.version = named_by_server ? NULL : o->version,
					.constraint = named_by_server ? o->version : NULL,
					.checksum = o->checksum,
					.origin = origin,
					.force = o->force };
	if (o->provider != NULL && strcmp(o->provider, "container") != 0)
		r = den_err_set(err, 0,
				"%s is a container image: it makes a box for provider "
				"container, not %s",
				ref, o->provider);
	else
		r = image_add(home, &iopts, out, err);
	den_rm_rf(layout, &ignored);
	return r;
}

int box_add(const char *home, const struct box_add_opts *o, struct store_entry *out,
	    struct den_err *err)
{
	cleanup_free char *text = NULL, *url = NULL, *path = NULL, *abs = NULL;
	size_t len = 0;
	bool catalog = false;
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (o->checksum != NULL && o->checksum_type == NULL)
		return den_err_usage(err, "--checksum needs --checksum-type (md5, sha1, sha256, "
					  "sha384 or sha512)");
	if (oci_box_is_ref(o->source) || (oci_box_is_ref(o->server) && box_name_valid(o->source)))
		return add_from_registry(home, o, out, err);
	if (docker_image_is_ref(o->source))
		return add_docker_image(home, o, o->source, false, out, err);
	if (docker_image_is_ref(o->server) && box_name_valid(o->source))
		return add_docker_image(home, o, o->server, true, out, err);
	if (is_image_ref(o->source))
		return add_image(home, o, o->source, false, out, err);
	if (is_image_ref(o->server) && box_name_valid(o->source))
		return add_image(home, o, o->server, true, out, err);
	if (download_is_url(o->source)) {
		/* A URL: a catalog (small JSON) or a box file; fetch it to find out. */
		path = cache_path(home, o->source, err);
		if (path == NULL)
			return -1;
		struct download d = { .url = o->source,
				      .path = path,
				      .kind = DIGEST_SHA256,
				      .label = o->source,
				      .progress = o->progress };
		if (download_file(&d, err) < 0)
			return -1;
		if (sniff_catalog(path, &catalog, err) < 0)
			return -1;
		if (!catalog) {
			int r = add_file(home, o, path, o->source, out, err);
			if (r >= 0 || err->kind != DEN_ERR_USAGE)
				unlink(path);
			return r;
		}
		int rc = den_read_file(path, CATALOG_MAX, &text, &len, err);
		unlink(path);
		if (rc < 0)
			return -1;
		return add_from_catalog(home, o, o->source, text, len, out, err);
	}
	if (stat(o->source, &st) == 0) {
		abs = realpath(o->source, NULL);
		if (abs == NULL)
			return den_err_set(err, errno, "cannot read %s", o->source);
		enum image_format f = image_sniff(abs);
		if (f != IMAGE_NONE) {
			cleanup_free char *ref = NULL;
			if (asprintf(&ref, "%s:%s", image_format_name(f), abs) < 0)
				return den_err_set(err, ENOMEM, "box %s", o->source);
			return add_image(home, o, ref, false, out, err);
		}
		if (sniff_catalog(abs, &catalog, err) < 0)
			return -1;
		if (!catalog)
			return add_file(home, o, abs, abs, out, err);
		if (den_read_file(abs, CATALOG_MAX, &text, &len, err) < 0)
			return -1;
		if (asprintf(&url, "file://%s", abs) < 0)
			return den_err_set(err, ENOMEM, "box %s", o->source);
		return add_from_catalog(home, o, url, text, len, out, err);
	}
	if (!box_name_valid(o->source) || strchr(o->source, '/') == NULL)
		return den_err_usage(err, "'%s' is not a box name (ORG/NAME), a URL or a file",
				     o->source);
	if (o->server == NULL || o->server[0] == '\0')
		return den_err_set(
			err, 0,
			"box %s: no box server to ask; set DEN_BOX_SERVER (or box_url in "
			"the Envfile), or add it from a file: den box add FILE --name %s",
			o->source, o->source);
	if (asprintf(&url, "%s%s%s", o->server, o->server[strlen(o->server) - 1] == '/' ? "" : "/",
		     o->source) < 0)
		return den_err_set(err, ENOMEM, "box %s", o->source);
	if (download_text(url, CATALOG_MAX, &text, &len, err) < 0)
		return den_err_wrap(err, "box %s", o->source);
	return add_from_catalog(home, o, url, text, len, out, err);
}
