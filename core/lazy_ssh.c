/* SPDX-License-Identifier: MIT */
/* libssh's table (core/lazylib.h): keys, sessions, commands and SFTP. */
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <stddef.h>

#include "core/lazylib-internal.h"

#define K ssh_key
#define S ssh_session
#define C ssh_channel
#define F sftp_session
#define CB ssh_auth_callback

#define DEN_SSH_FUNCS(X, V)                                                                        \
	X(int, ssh_pki_generate, (enum ssh_keytypes_e t, int p, K *k), (t, p, k))                  \
	X(int, ssh_pki_export_privkey_file,                                                        \
	  (const K k, const char *p, CB cb, void *d, const char *f), (k, p, cb, d, f))             \
	X(int, ssh_pki_export_pubkey_base64, (const K k, char **b), (k, b))                        \
	X(int, ssh_pki_import_pubkey_base64, (const char *b, enum ssh_keytypes_e t, K *k),         \
	  (b, t, k))                                                                               \
	X(int, ssh_pki_import_privkey_file, (const char *f, const char *p, CB cb, void *d, K *k),  \
	  (f, p, cb, d, k))                                                                        \
	X(void, ssh_key_free, (K k), (k))                                                          \
	X(int, ssh_key_cmp, (const K a, const K b, enum ssh_keycmp_e w), (a, b, w))                \
	X(void, ssh_string_free_char, (char *s), (s))                                              \
	X(S, ssh_new, (void), ())                                                                  \
	X(int, ssh_options_set, (S s, enum ssh_options_e t, const void *v), (s, t, v))             \
	X(int, ssh_connect, (S s), (s))                                                            \
	X(void, ssh_disconnect, (S s), (s))                                                        \
	X(void, ssh_free, (S s), (s))                                                              \
	X(const char *, ssh_get_error, (void *e), (e))                                             \
	X(int, ssh_get_server_publickey, (S s, K * k), (s, k))                                     \
	X(int, ssh_userauth_publickey, (S s, const char *u, const K k), (s, u, k))                 \
	X(C, ssh_channel_new, (S s), (s))                                                          \
	X(int, ssh_channel_open_session, (C c), (c))                                               \
	X(int, ssh_channel_request_exec, (C c, const char *cmd), (c, cmd))                         \
	X(int, ssh_channel_read_timeout, (C c, void *d, uint32_t n, int e, int t),                 \
	  (c, d, n, e, t))                                                                         \
	X(int, ssh_channel_read_nonblocking, (C c, void *d, uint32_t n, int e), (c, d, n, e))      \
	X(int, ssh_channel_is_eof, (C c), (c))                                                     \
	X(int, ssh_channel_send_eof, (C c), (c))                                                   \
	X(int, ssh_channel_get_exit_status, (C c), (c))                                            \
	X(int, ssh_channel_close, (C c), (c))                                                      \
	X(void, ssh_channel_free, (C c), (c))                                                      \
	X(F, sftp_new, (S s), (s))                                                                 \
	X(int, sftp_init, (F f), (f))                                                              \
	X(void, sftp_free, (F f), (f))                                                             \
	X(int, sftp_get_error, (F f), (f))                                                         \
	X(char *, sftp_canonicalize_path, (F f, const char *p), (f, p))                            \
	X(sftp_attributes, sftp_stat, (F f, const char *p), (f, p))                                \
	X(void, sftp_attributes_free, (sftp_attributes a), (a))                                    \
	X(int, sftp_mkdir, (F f, const char *p, mode_t m), (f, p, m))                              \
	X(sftp_file, sftp_open, (F f, const char *p, int a, mode_t m), (f, p, a, m))               \
	X(ssize_t, sftp_write, (sftp_file f, const void *b, size_t n), (f, b, n))                  \
	X(int, sftp_close, (sftp_file f), (f))                                                     \
	X(int, sftp_chmod, (F f, const char *p, mode_t m), (f, p, m))                              \
	X(sftp_attributes, sftp_lstat, (F f, const char *p), (f, p))                               \
	X(int, sftp_unlink, (F f, const char *p), (f, p))                                          \
	X(int, sftp_symlink, (F f, const char *t, const char *d), (f, t, d))

LAZYLIB_DEFINE(lazylib_ssh, DEN_SSH_FUNCS, DEN_SONAME_SSH, DEN_PACKAGE_SSH)
