/* SPDX-License-Identifier: MIT */
/* libssh, loaded on first use (core/lazylib.h). */
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <stddef.h>

#include "core/lazylib.h"

static struct lazylib ssh = { "libssh.so.4", "libssh-4", NULL };

#define K ssh_key
#define S ssh_session
#define C ssh_channel

LAZYLIB_STUB(ssh, int, ssh_pki_generate, (enum ssh_keytypes_e t, int p, K *k), (t, p, k))
LAZYLIB_STUB(ssh, int, ssh_pki_export_privkey_file,
	     (const K k, const char *p, ssh_auth_callback cb, void *d, const char *f),
	     (k, p, cb, d, f))
LAZYLIB_STUB(ssh, int, ssh_pki_export_pubkey_base64, (const K k, char **b), (k, b))
LAZYLIB_STUB(ssh, int, ssh_pki_import_pubkey_base64, (const char *b, enum ssh_keytypes_e t, K *k),
	     (b, t, k))
LAZYLIB_STUB(ssh, int, ssh_pki_import_privkey_file,
	     (const char *f, const char *p, ssh_auth_callback cb, void *d, K *k), (f, p, cb, d, k))
LAZYLIB_STUB_VOID(ssh, ssh_key_free, (K k), (k))
LAZYLIB_STUB(ssh, int, ssh_key_cmp, (const K a, const K b, enum ssh_keycmp_e w), (a, b, w))
LAZYLIB_STUB_VOID(ssh, ssh_string_free_char, (char *s), (s))
LAZYLIB_STUB(ssh, S, ssh_new, (void), ())
LAZYLIB_STUB(ssh, int, ssh_options_set, (S s, enum ssh_options_e t, const void *v), (s, t, v))
LAZYLIB_STUB(ssh, int, ssh_connect, (S s), (s))
LAZYLIB_STUB_VOID(ssh, ssh_disconnect, (S s), (s))
LAZYLIB_STUB_VOID(ssh, ssh_free, (S s), (s))
LAZYLIB_STUB(ssh, const char *, ssh_get_error, (void *e), (e))
LAZYLIB_STUB(ssh, int, ssh_get_server_publickey, (S s, K *k), (s, k))
LAZYLIB_STUB(ssh, int, ssh_userauth_publickey, (S s, const char *u, const K k), (s, u, k))
LAZYLIB_STUB(ssh, C, ssh_channel_new, (S s), (s))
LAZYLIB_STUB(ssh, int, ssh_channel_open_session, (C c), (c))
LAZYLIB_STUB(ssh, int, ssh_channel_request_exec, (C c, const char *cmd), (c, cmd))
LAZYLIB_STUB(ssh, int, ssh_channel_read_timeout, (C c, void *d, uint32_t n, int e, int t),
	     (c, d, n, e, t))
LAZYLIB_STUB(ssh, int, ssh_channel_read_nonblocking, (C c, void *d, uint32_t n, int e),
	     (c, d, n, e))
LAZYLIB_STUB(ssh, int, ssh_channel_is_eof, (C c), (c))
LAZYLIB_STUB(ssh, int, ssh_channel_send_eof, (C c), (c))
LAZYLIB_STUB(ssh, int, ssh_channel_get_exit_status, (C c), (c))
LAZYLIB_STUB(ssh, int, ssh_channel_close, (C c), (c))
LAZYLIB_STUB_VOID(ssh, ssh_channel_free, (C c), (c))

#define F sftp_session
LAZYLIB_STUB(ssh, F, sftp_new, (S s), (s))
LAZYLIB_STUB(ssh, int, sftp_init, (F f), (f))
LAZYLIB_STUB_VOID(ssh, sftp_free, (F f), (f))
LAZYLIB_STUB(ssh, int, sftp_get_error, (F f), (f))
LAZYLIB_STUB(ssh, char *, sftp_canonicalize_path, (F f, const char *p), (f, p))
LAZYLIB_STUB(ssh, sftp_attributes, sftp_stat, (F f, const char *p), (f, p))
LAZYLIB_STUB_VOID(ssh, sftp_attributes_free, (sftp_attributes a), (a))
LAZYLIB_STUB(ssh, int, sftp_mkdir, (F f, const char *p, mode_t m), (f, p, m))
LAZYLIB_STUB(ssh, sftp_file, sftp_open, (F f, const char *p, int a, mode_t m), (f, p, a, m))
LAZYLIB_STUB(ssh, ssize_t, sftp_write, (sftp_file f, const void *b, size_t n), (f, b, n))
LAZYLIB_STUB(ssh, int, sftp_close, (sftp_file f), (f))
LAZYLIB_STUB(ssh, int, sftp_chmod, (F f, const char *p, mode_t m), (f, p, m))
LAZYLIB_STUB(ssh, sftp_attributes, sftp_lstat, (F f, const char *p), (f, p))
LAZYLIB_STUB(ssh, int, sftp_unlink, (F f, const char *p), (f, p))
LAZYLIB_STUB(ssh, int, sftp_symlink, (F f, const char *t, const char *d), (f, t, d))
