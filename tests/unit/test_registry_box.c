/* SPDX-License-Identifier: MIT */
/*
 * The pieces of a registry pull and push that stand alone: the record of
 * a box's blobs read as untrusted input (registry/box_record.c), digests
 * den names files by, and a box file decompressed while it downloads
 * (registry/layer_stream.c) against boxes/pack_blob.c's zstd.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boxes/pack.h"
#include "core/fsutil.h"
#include "registry/box-internal.h"
#include "registry/client.h"
#include "registry/layer_stream.h"
#include "tests/helpers/testutil.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

Test(registry_box, only_sha256_digests_name_files)
{
	cr_assert(registry_digest_valid("sha256:" D64));
	cr_assert_not(registry_digest_valid("sha256:" D64 "0"));
	cr_assert_not(registry_digest_valid("sha256:0123"));
	cr_assert_not(
		registry_digest_valid("sha256:../../../../etc/passwd0123456789abcdef0123456789ab"));
	cr_assert_not(registry_digest_valid("SHA256:" D64));
	cr_assert_not(registry_digest_valid("sha512:" D64 D64));
	cr_assert_not(registry_digest_valid(
		"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
}

Test(registry_box, a_registrys_words_never_drive_the_terminal)
{
	char buf[64], small[6];

	/* C0, DEL, C1 (8-bit CSI as UTF-8) and a byte that is not UTF-8: each one '?'. */
	cr_assert_str_eq(registry_shown("a\033[2Jb\177c\302\2331m\377d", buf, sizeof(buf)),
			 "a?[2Jb?c?1m?d");
	cr_assert_str_eq(registry_shown("caf\xc3\xa9 \xe2\x9c\x93", buf, sizeof(buf)),
			 "caf\xc3\xa9 \xe2\x9c\x93");
	cr_assert_str_eq(registry_shown(NULL, buf, sizeof(buf)), "");
	/* Cut to the buffer, a sequence cut in two shown as '?'. */
	cr_assert_str_eq(registry_shown("abcd\xc3\xa9", small, sizeof(small)), "abcd?");
	/* In place. */
	snprintf(buf, sizeof(buf), "x\ny\xc2\x85z");
	cr_assert_str_eq(registry_shown(buf, buf, sizeof(buf)), "x?y?z");
}

static const char *layer(const char *mt, const char *digest, const char *title)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"layers\": [{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": 5, "
		 "\"annotations\": {\"" ANN_TITLE "\": \"%s\"}}], \"repositories\": [\"r/x\"]}",
		 mt, digest, title);
	return buf;
}

Test(registry_box, a_record_that_does_not_check_out_is_ignored)
{
	char *dir = make_temp_dir();
	json_t *j;

	cr_assert_null(oci_layers_read(dir), "no record");
	write_file(dir, LAYERS_RECORD, layer(MT_BOX_FILE_ZSTD, "sha256:" D64, "box.img"));
	j = oci_layers_read(dir);
	cr_assert_not_null(j, "a good record is read");
	json_decref(j);
	write_file(dir, LAYERS_RECORD, layer("application/x-evil", "sha256:" D64, "box.img"));
	cr_assert_null(oci_layers_read(dir), "a media type den does not push");
	write_file(dir, LAYERS_RECORD, layer(MT_BOX_FILE_ZSTD, "sha256:../x", "box.img"));
	cr_assert_null(oci_layers_read(dir), "a digest that is a path");
	write_file(dir, LAYERS_RECORD, "{\"layers\": [], \"repositories\": []}");
	cr_assert_null(oci_layers_read(dir), "no layers");
	write_file(dir, LAYERS_RECORD, "not json");
	cr_assert_null(oci_layers_read(dir), "not JSON");
	rm_rf(dir);
	free(dir);
}

Test(registry_box, writing_a_record_keeps_the_repositories_of_the_same_layers)
{
	char *dir = make_temp_dir();
	struct den_err err = { 0 };
	json_t *layers, *j;

	write_file(dir, LAYERS_RECORD, layer(MT_BOX_FILE_ZSTD, "sha256:" D64, "box.img"));
	j = oci_layers_read(dir);
	layers = json_incref(json_object_get(j, "layers"));
	json_decref(j);
	cr_assert_eq(oci_layers_write(dir, layers, "host/y", &err), 0, "%s", err.msg);
	j = oci_layers_read(dir);
	json_t *repos = json_object_get(j, "repositories");
	cr_assert_eq(json_array_size(repos), 2);
	cr_assert_str_eq(json_string_value(json_array_get(repos, 0)), "host/y", "the newest first");
	cr_assert_str_eq(json_string_value(json_array_get(repos, 1)), "r/x");
	json_decref(j);
	/* Other layers: the repositories that had the old ones are forgotten. */
	json_object_set_new(json_array_get(layers, 0), "size", json_integer(6));
	cr_assert_eq(oci_layers_write(dir, layers, "host/z", &err), 0, "%s", err.msg);
	j = oci_layers_read(dir);
	cr_assert_eq(json_array_size(json_object_get(j, "repositories")), 1);
	json_decref(j);
	json_decref(layers);
	rm_rf(dir);
	free(dir);
}

/* A file of n bytes that compresses but is not all alike. */
static char *sample(const char *dir, size_t n)
{
	char *path = NULL;
	FILE *f;

	cr_assert(asprintf(&path, "%s/box.img", dir) > 0);
	f = fopen(path, "w");
	for (size_t i = 0; i < n; i++)
		fputc((int)((i * 7 + i / 4096) % 251), f);
	fclose(f);
	return path;
}

static char *slurp(const char *path, size_t *len)
{
	char *text = NULL;
	struct den_err err = { 0 };

	cr_assert_eq(den_read_file(path, 64u << 20, &text, len, &err), 0, "%s", err.msg);
	return text;
}

Test(registry_box, a_layer_is_decompressed_as_it_arrives)
{
	char *dir = make_temp_dir(), *in = sample(dir, 3u << 20), *blob = NULL, *out = NULL;
	struct den_err err = { 0 };
	struct pack_blob b;
	struct layer_stream s;
	size_t zlen, a, c;
	uint64_t used = 0;

	cr_assert(asprintf(&blob, "%s/blob", dir) > 0 && asprintf(&out, "%s/out", dir) > 0);
	cr_assert_eq(pack_blob_file(in, blob, &b, &err), 0, "%s", err.msg);
	cr_assert_lt(b.size, 3u << 20, "zstd made it smaller");
	char *z = slurp(blob, &zlen);
	cr_assert_eq(layer_stream_start(&s, out, 64u << 20, &err), 0, "%s", err.msg);
	/* In odd pieces, as a download delivers them. */
	for (size_t off = 0; off < zlen;) {
		size_t n = zlen - off < 1000 ? zlen - off : 1000;
		layer_stream_data(z + off, n, &s);
		off += n;
	}
	cr_assert_eq(layer_stream_finish(&s, &used, &err), 0, "%s", err.msg);
	cr_assert_eq(used, 3u << 20);
	char *x = slurp(in, &a), *y = slurp(out, &c);
	cr_assert(a == c && memcmp(x, y, a) == 0, "the bytes that went in come out");
	free(x);
	free(y);

	/* The download started over: the output is void and gone. */
	unlink(out);
	cr_assert_eq(layer_stream_start(&s, out, 64u << 20, &err), 0, "%s", err.msg);
	layer_stream_data(z, zlen / 2, &s);
	layer_stream_restart(&s);
	layer_stream_data(z + zlen / 2, zlen - zlen / 2, &s);
	cr_assert_eq(layer_stream_finish(&s, &used, &err), 1, "void after a restart");
	cr_assert_not(den_exists(out), "and removed");

	/* Past the size cap: an error, and nothing kept. */
	cr_assert_eq(layer_stream_start(&s, out, 1u << 20, &err), 0, "%s", err.msg);
	layer_stream_data(z, zlen, &s);
	cr_assert_eq(layer_stream_finish(&s, &used, &err), -1);
	cr_assert(strstr(err.msg, "DEN_BOX_MAX_SIZE") != NULL, "%s", err.msg);
	cr_assert_not(den_exists(out));
	free(z);
	free(in);
	free(blob);
	free(out);
	rm_rf(dir);
	free(dir);
}
