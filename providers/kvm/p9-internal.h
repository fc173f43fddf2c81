/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVIDERS_KVM_P9_INTERNAL_H
#define DEN_PROVIDERS_KVM_P9_INTERNAL_H

/*
 * The 9P server's own pieces (p9.h has the model): the fid table
 * (p9_fid.c), names and paths (p9_walk.c), ownership and attributes
 * (p9_meta.c), xattrs (p9_xattr.c), file I/O (p9_file.c), directory
 * changes (p9_dir.c) and the dispatch (p9_server.c).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "providers/kvm/p9.h"
#include "providers/kvm/p9_msg.h"

/* 9P2000.L message types, as Linux's include/net/9p/9p.h numbers them; R = T + 1. */
enum {
	P9_TLERROR = 6,
	P9_RLERROR = 7,
	P9_TSTATFS = 8,
	P9_TLOPEN = 12,
	P9_TLCREATE = 14,
	P9_TSYMLINK = 16,
	P9_TMKNOD = 18,
	P9_TRENAME = 20,
	P9_TREADLINK = 22,
	P9_TGETATTR = 24,
	P9_TSETATTR = 26,
	P9_TXATTRWALK = 30,
	P9_TXATTRCREATE = 32,
	P9_TREADDIR = 40,
	P9_TFSYNC = 50,
	P9_TLOCK = 52,
	P9_TGETLOCK = 54,
	P9_TLINK = 70,
	P9_TMKDIR = 72,
	P9_TRENAMEAT = 74,
	P9_TUNLINKAT = 76,
	P9_TVERSION = 100,
	P9_TAUTH = 102,
	P9_TATTACH = 104,
	P9_TFLUSH = 108,
	P9_TWALK = 110,
	P9_TREAD = 116,
	P9_TWRITE = 118,
	P9_TCLUNK = 120,
	P9_TREMOVE = 122,
};

#define P9_NOTAG 0xffffu
#define P9_NOFID 0xffffffffu
#define P9_NONUNAME 0xffffffffu /* an attach that names no uid */
#define P9_HDR 7		/* size[4] type[1] tag[2] */
#define P9_IOHDR 11		/* Rread, Rreaddir: the header and count[4] */
#define P9_NAME_MAX 255
#define P9_PATH_MAX 4096	    /* a fid's path relative to the root, NUL included */
#define P9_PATH_BUDGET (64u << 20)  /* every fid's path together */
#define P9_XATTR_MAX (64u << 10)    /* one value or listing (the kernel's XATTR_SIZE_MAX) */
#define P9_XATTR_BUDGET (16u << 20) /* every xattr fid's value together */
#define P9_FID_BUCKETS 4096
#define P9_UNSET 0xffffffffu /* an ownership field not to write */

/* An xattr fid's value: read by Tread (xattrwalk) or filled by Twrite and set at clunk. */
struct p9_xattr {
	char *name; /* NULL: the listing of names */
	uint8_t *value;
	size_t size;   /* of value */
	size_t filled; /* writing: bytes received so far, in order */
	int flags;     /* writing: XATTR_CREATE, XATTR_REPLACE */
	bool writing;
};

struct p9_fid {
	uint32_t id;
	struct p9_fid *next;	/* in its hash bucket */
	int fd;			/* O_PATH of the object itself (a symlink is never followed) */
	int io;			/* opened for I/O by lopen or lcreate, else -1 */
	mode_t type;		/* S_IFMT of the host object, fixed for the descriptor's life */
	char *path;		/* relative to the root: "" for the root, "a/b" below it */
	uint32_t uid;		/* the attaching user (n_uname): owner of what it creates */
	struct p9_xattr *xattr; /* an xattr fid, else NULL */
};

struct p9_server {
	int root_fd;
	bool ro;
	uint32_t msize; /* 0 until Tversion */
	struct p9_fid *fids[P9_FID_BUCKETS];
	unsigned nfids;
	size_t path_bytes, xattr_bytes; /* against the budgets above */
};

/* A request's handler: parses in, writes the reply's body to out; < 0 is -errno for Rlerror. */
typedef int p9_op_fn(struct p9_server *s, struct p9_in *in, struct p9_out *out);

/* The fid table (p9_fid.c). */
struct p9_fid *p9_fid_get(struct p9_server *s, uint32_t id);
/*
 * A new fid id for the object fd (O_PATH) at path (malloc'd); takes both,
 * even on failure: -EEXIST for an id in use, -EMFILE past P9_MAX_FIDS,
 * -ENFILE past the paths' budget.
 */
int p9_fid_add(struct p9_server *s, uint32_t id, int fd, mode_t type, char *path, uint32_t uid,
	       struct p9_fid **out);
/*
 * Points f at another object (walk onto itself, lcreate); takes fd and
 * path, even on failure (-ENFILE when the paths' budget is spent: f is
 * then unchanged).
 */
int p9_fid_move(struct p9_server *s, struct p9_fid *f, int fd, mode_t type, char *path);
void p9_fid_clunk(struct p9_server *s, struct p9_fid *f);
void p9_fid_clunk_all(struct p9_server *s);
/* After a rename from -> to (paths relative to the root): fids at or below from follow. */
void p9_fids_renamed(struct p9_server *s, const char *from, const char *to);

/* Names and paths (p9_walk.c). */
/* A guest's name as one checked component in out: -EINVAL, -ENAMETOOLONG. */
int p9_name(struct p9_str n, char out[P9_NAME_MAX + 1]);
/* openat2 beneath dirfd, no symlinks, no mount crossing; an fd or -errno. */
int p9_openat(int dirfd, const char *path, int flags, mode_t mode);
/* dir/name in a fresh string: -ENAMETOOLONG past P9_PATH_MAX, -ENOMEM. */
int p9_path_join(const char *dir, const char *name, char **out);
/*
 * f's parent directory (from the root, by f's path) in *dirfd and f's name
 * in name, checked to still be f's object: -ESTALE when something else is
 * there now, -EBUSY for the root.
 */
int p9_parent(struct p9_server *s, const struct p9_fid *f, int *dirfd, char name[P9_NAME_MAX + 1]);
int p9_op_attach(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_walk(struct p9_server *s, struct p9_in *in, struct p9_out *out);

/* Ownership and attributes (p9_meta.c). */
#define P9_PROC_PATH 32
void p9_proc_path(int fd, char buf[P9_PROC_PATH]);
/* The object's stat as the guest sees it (the user.virtfs.* xattrs applied). */
int p9_guest_stat(int fd, struct stat *st);
struct p9_qid p9_qid_of(const struct stat *st);
/* The qid of the object fd (p9_guest_stat's view) put in out; -errno, with nothing put. */
int p9_put_qid_of(int fd, struct p9_out *out);
/* The guest's owner of what fid f creates: its attaching user, or P9_UNSET when it named none. */
uint32_t p9_owner(const struct p9_fid *f);
/* Writes the guest's view (P9_UNSET fields skipped, rdev too when UINT64_MAX); -errno. */
int p9_set_ids(int fd, uint32_t uid, uint32_t gid, uint32_t mode, uint64_t rdev);
/* Host permission bits for what the guest creates or chmods: rwx bits only, owner's forced. */
mode_t p9_host_mode(uint32_t guest_mode, bool dir);
int p9_op_getattr(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_setattr(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_statfs(struct p9_server *s, struct p9_in *in, struct p9_out *out);

/* Extended attributes (p9_xattr.c). */
int p9_op_xattrwalk(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_xattrcreate(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_xattr_read(struct p9_fid *f, uint64_t off, uint32_t count, struct p9_out *out);
int p9_xattr_write(struct p9_fid *f, uint64_t off, const uint8_t *data, uint32_t count);
/* At clunk of an xattrcreate fid: sets (or with size 0 removes) the xattr. */
int p9_xattr_commit(struct p9_fid *f);
void p9_xattr_free(struct p9_server *s, struct p9_fid *f);

/* File I/O (p9_file.c). */
/*
 * The object behind fd (an O_PATH descriptor of type type) reopened for I/O
 * with open(2) flags: regular files and directories only.
 */
int p9_open_io(int fd, mode_t type, int flags);
int p9_op_lopen(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_lcreate(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_read(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_write(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_readdir(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_fsync(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_clunk(struct p9_server *s, struct p9_in *in, struct p9_out *out);

/* Directory changes (p9_dir.c). */
int p9_op_mkdir(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_mknod(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_symlink(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_readlink(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_link(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_unlinkat(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_remove(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_renameat(struct p9_server *s, struct p9_in *in, struct p9_out *out);
int p9_op_rename(struct p9_server *s, struct p9_in *in, struct p9_out *out);

#endif
