/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_P9_H
#define DEN_PROVIDERS_KVM_P9_H

/*
 * A 9P2000.L file server over one host folder, for synced folders
 * (virtio_9p.c carries it; nothing here knows of virtio). The guest is
 * hostile: it runs untrusted code as root.
 *
 * Security model. Every fid holds an O_PATH descriptor of its object and
 * the object's path relative to the root. Walking a name opens it with
 * openat2() relative to its parent's descriptor, with O_NOFOLLOW and
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV: a symlink is a fid of the link itself, never followed,
 * and no mount point inside the folder is crossed. Names from the guest are
 * one component (not empty, no '/', no NUL, not "." or ".."); only walk
 * takes "." and "..", and ".." goes up by the fid's path, reopened from the
 * root's descriptor beneath it, never above the root. Every operation acts
 * on a directory descriptor plus one checked name (openat2, mkdirat,
 * unlinkat, renameat, symlinkat, linkat), or on the object's own
 * descriptor (through /proc/self/fd/N for chmod, xattrs, utimensat and
 * opening for I/O): never a host path built from guest input, so a folder
 * the guest renames mid-operation cannot lead outside. Only regular files
 * and directories are opened for I/O (fifos and device nodes are refused,
 * so the VMM never blocks on one).
 *
 * Ownership is QEMU's security_model=mapped-xattr, in its format, so a
 * folder shared by both looks the same: host files keep their host owner;
 * what the guest creates belongs on the host to the VMM's user, with host
 * mode = the guest's & 0755 | 0600 (0700 for directories), never setuid,
 * setgid or sticky; the guest's uid, gid, mode and rdev come from the
 * xattrs user.virtfs.{uid,gid,mode} (32-bit little-endian) and
 * user.virtfs.rdev (64-bit) when present, else from the host. Guest
 * chown/chmod set those (chmod also the safe host bits); mknod makes a
 * regular file whose type is in user.virtfs.mode. Symlinks are real host
 * symlinks (readlink also reads QEMU's kind: a file with S_IFLNK in its
 * mode xattr). The guest can neither read nor write user.virtfs.*, nor any
 * xattr outside "user.".
 *
 * Bounds: msize at most P9_MAX_MSIZE, P9_MAX_FIDS fids, P9_MAX_WALK names
 * a walk, and budgets for fid paths and xattr values held between
 * requests. A malformed request gets an Rlerror (EPROTO), never more.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define P9_MAX_MSIZE (512u << 10)
#define P9_MIN_MSIZE 4096 /* Linux's client refuses less */
#define P9_MAX_FIDS 65536
#define P9_MAX_WALK 16 /* MAXWELEM */

struct p9_server;

/*
 * Serves root (a directory, opened O_PATH|O_DIRECTORY|O_NOFOLLOW: a root
 * that is itself a symlink is refused); ro: every write refused with EROFS.
 */
int p9_server_new(const char *root, bool ro, struct p9_server **out, struct den_err *err);

/*
 * Answers the request in[0..in_len) into out (out_max >= 11, else nothing
 * is written and 0 returned); returns the reply's length. Never fails: a
 * malformed request gets an Rlerror.
 */
size_t p9_handle(struct p9_server *s, const uint8_t *in, size_t in_len, uint8_t *out,
		 size_t out_max);

/*
 * An Rlerror(ecode) for a request the transport could not take whole (more
 * than P9_MAX_MSIZE bytes), with its tag when in holds one; its length, or
 * 0 when out_max < 11.
 */
size_t p9_reply_error(const uint8_t *in, size_t in_len, uint32_t ecode, uint8_t *out,
		      size_t out_max);

/* Closes every fid and the root. NULL is fine. */
void p9_server_free(struct p9_server *s);

/* How many fids the guest holds: none once it has let go of the share (unmounted). */
unsigned p9_server_fids(const struct p9_server *s);

#endif
