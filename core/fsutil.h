/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_FSUTIL_H
#define DEN_CORE_FSUTIL_H

/*
 * Files that survive a den killed at any instant: every state file is
 * written to a temporary name in the same folder, fsync'd, renamed over
 * the old one, and the folder fsync'd. A reader sees the old file or the
 * new one, never half of either.
 */

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/err.h"

/*
 * Exactly len bytes at offset off, through EINTR and short transfers:
 * 0, or -1 with errno (EIO for an end of file before len).
 */
int den_pread_all(int fd, void *buf, size_t len, uint64_t off);
int den_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
/* Exactly len bytes at fd's position (a pipe, an O_APPEND file), the same way. */
int den_write_all(int fd, const void *buf, size_t len);

/* Writes len bytes atomically to path with mode. */
int den_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		     struct den_err *err);

/* Same for a string. */
int den_write_file_atomic(const char *path, const char *text, mode_t mode, struct den_err *err);

/* Reads a whole file (at most max bytes) into a malloc'd, NUL-terminated buffer. */
int den_read_file(const char *path, size_t max, char **out, size_t *len, struct den_err *err);

/* Same, from what is left of an open descriptor; shown names it in errors. */
int den_read_fd(int fd, const char *shown, size_t max, char **out, size_t *len,
		struct den_err *err);

/*
 * den's own state files (state.json, pid files, provisioned.json) as
 * untrusted input: a link at path is refused (O_NOFOLLOW), and so is
 * anything but a plain file owned by den's user.
 */
int den_read_own_file(const char *path, size_t max, char **out, size_t *len, struct den_err *err);

/* A supervisor's socket den is about to talk to: a socket (not a link) owned by den's user. */
int den_check_own_socket(const char *path, struct den_err *err);

/*
 * The last `lines` lines of a file (a log a machine wrote), for an error
 * message: control characters but newline and tab, and bytes that are
 * not UTF-8, shown as \xHH; what fits in buf (n bytes, NUL included),
 * keeping the end. "" when unreadable or a link.
 */
void den_read_tail(const char *path, int lines, char *buf, size_t n);

/*
 * The command line of process pid into buf: its arguments NUL-separated,
 * the whole NUL-terminated (cut at size - 1). Its length, or 0 when the
 * process is gone or has none (a kernel thread, a zombie).
 */
size_t den_proc_cmdline(pid_t pid, char *buf, size_t size);

/* mkdir -p. */
int den_mkdir_p(const char *path, mode_t mode, struct den_err *err);

/* rm -rf: removes path and everything below it, never following links. */
int den_rm_rf(const char *path, struct den_err *err);
/* The same for name in the folder at (a name with no '/' to be sure no link is followed). */
int den_rm_rf_at(int at, const char *name, struct den_err *err);

/* The folder's entries on disk (its renames, unlinks): fsync of the folder itself. */
int den_sync_dir(const char *path, struct den_err *err);

/* True when path exists (any type). */
int den_exists(const char *path);

/* Is prog an executable in one of $PATH's folders? */
bool den_on_path(const char *prog);

#endif
