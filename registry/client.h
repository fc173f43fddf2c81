/* SPDX-License-Identifier: MIT */
#ifndef DEN_REGISTRY_CLIENT_H
#define DEN_REGISTRY_CLIENT_H

/*
 * The OCI distribution API over libcurl (docs/boxes.md, "Sharing boxes
 * through a registry"): one client per registry and repository, holding
 * one connection, the user's credentials and the bearer token the
 * registry handed out. TLS is verified (a registry's CA from
 * $DEN_REGISTRY_CA or the certs.d folders docker and podman read); plain
 * HTTP only to loopback or to hosts in $DEN_INSECURE_REGISTRIES. 429 and
 * 5xx answers and dropped connections are retried with backoff. Every
 * error names the registry and what it said.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "registry/registry.h"

struct registry_client;

/* The manifests' media types den reads. */
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

/* Opens a client for ref's registry and repository; push asks for push rights too. */
int registry_open(const struct registry_ref *ref, bool push, struct registry_client **out,
		  struct den_err *err);
void registry_close(struct registry_client *c);

/* "HOST/REPOSITORY", for messages. */
const char *registry_name(const struct registry_client *c);

/* A manifest or index as the registry sent it, and the digest of its bytes. */
struct registry_doc {
	char *data;
	size_t len;
	char media_type[128];
	char digest[72]; /* "sha256:HEX" */
};
void registry_doc_free(struct registry_doc *d);

/*
 * The manifest at reference (a tag or a digest), at most 4 MiB. A digest
 * reference must match the bytes; 0, or 1 when the registry has none.
 */
int registry_get_manifest(struct registry_client *c, const char *reference,
			  struct registry_doc *out, struct den_err *err);

/*
 * The same for a manifest that must be there: "registry HOST/REPO has no
 * REFERENCE" (", which its index names" when listed) otherwise.
 */
int registry_need_manifest(struct registry_client *c, const char *reference, bool listed,
			   struct registry_doc *out, struct den_err *err);

/* Whether d is an index (OCI's, or Docker's manifest list). */
bool registry_doc_is_index(const struct registry_doc *d);

/* Stores a manifest under reference (a tag, or its own digest). */
int registry_put_manifest(struct registry_client *c, const char *reference, const char *media_type,
			  const char *data, size_t len, struct den_err *err);

/* The repository's tags (malloc'd array of malloc'd strings), every page. */
int registry_list_tags(struct registry_client *c, char ***tags, size_t *n, struct den_err *err);

/* Whether the repository has the blob: 1 yes, 0 no. */
int registry_blob_exists(struct registry_client *c, const char *digest, struct den_err *err);

/* A small blob (a config) into memory: exactly size bytes that hash to digest. */
int registry_get_blob_mem(struct registry_client *c, const char *digest, uint64_t size, char **out,
			  struct den_err *err);

/*
 * What also sees a blob's bytes as they land, in order from the first
 * (what a resumed file already held included), before the digest is known
 * to match: a consumer that starts work early and drops it when the blob
 * is refused. restart: the bytes so far are void (the registry ignored a
 * Range); none follow for this consumer.
 */
struct registry_tee {
	void (*data)(const void *buf, size_t len, void *arg);
	void (*restart)(void *arg);
	void *arg;
};

/* Where a downloaded blob goes. */
struct registry_blob_dst {
	const char *path;		/* the cache file: resumed when it holds bytes; locked */
	const char *move_to;		/* renamed here once whole and checked, or NULL */
	const char *label;		/* for the progress line and messages */
	bool progress;			/* a progress line on stderr */
	const struct registry_tee *tee; /* or NULL */
};

/*
 * A blob into dst->path, resuming what a cut connection or a killed den
 * left there; the bytes are hashed as they arrive and the file is removed
 * when they do not hash to digest or pass size. Two dens fetching the same
 * blob take turns; the second finds it whole, or moved away and fetches
 * it again.
 */
int registry_get_blob_file(struct registry_client *c, const char *digest, uint64_t size,
			   const struct registry_blob_dst *dst, struct den_err *err);

/*
 * Makes the blob in path (size bytes, hashing to digest) part of the
 * repository: nothing sent when it is there already (1), mounted from
 * from_repo on the same registry when that has it (2), else uploaded (0):
 * in one request, or in chunks that a dropped connection resumes. With
 * path NULL nothing is uploaded: 3 when the blob would need its bytes.
 */
int registry_put_blob(struct registry_client *c, const char *digest, const char *path,
		      uint64_t size, const char *from_repo, const char *label, bool progress,
		      struct den_err *err);

/* The same for bytes in memory (a config); mounted too, never chunked. */
int registry_put_blob_mem(struct registry_client *c, const char *digest, const char *data,
			  size_t len, const char *from_repo, struct den_err *err);

/*
 * s as den may print it, at most n - 1 bytes, in buf (s may be buf): each
 * control character (C0, DEL, C1) and each byte that is not UTF-8 as '?'.
 */
const char *registry_shown(const char *s, char *buf, size_t n);

/* "sha256:" and 64 lowercase hex digits: the only digests den names files by. */
bool registry_digest_valid(const char *digest);

#endif
