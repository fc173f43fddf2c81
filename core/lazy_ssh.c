/* SPDX-License-Identifier: MIT */
/*
 * libssh's table (core/lazylib.h): keys, sessions, commands and SFTP; and
 * the server side, for den's SSH server in containers with no sshd
 * (providers/container/sshd.c).
 */
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#define WITH_SERVER 1
#include <libssh/sftp.h>
#include <stddef.h>

#include "core/lazylib-internal.h"

#define K ssh_key
#define S ssh_session
#define C ssh_channel
#define F sftp_session
#define CB ssh_auth_callback
#define B ssh_bind
#define M ssh_message

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
	X(int, sftp_symlink, (F f, const char *t, const char *d), (f, t, d))                       \
	/* The server side. */                                                                     \
	X(int, ssh_init, (void), ())                                                               \
	X(int, ssh_pki_import_pubkey_file, (const char *f, K *k), (f, k))                          \
	X(B, ssh_bind_new, (void), ())                                                             \
	X(int, ssh_bind_options_set, (B b, enum ssh_bind_options_e t, const void *v), (b, t, v))   \
	X(int, ssh_bind_listen, (B b), (b))                                                        \
	X(int, ssh_bind_accept, (B b, S s), (b, s))                                                \
	X(void, ssh_bind_free, (B b), (b))                                                         \
	X(int, ssh_handle_key_exchange, (S s), (s))                                                \
	X(int, ssh_get_fd, (S s), (s))                                                             \
	X(int, ssh_is_connected, (S s), (s))                                                       \
	X(M, ssh_message_get, (S s), (s))                                                          \
	X(int, ssh_message_type, (M m), (m))                                                       \
	X(int, ssh_message_subtype, (M m), (m))                                                    \
	X(void, ssh_message_free, (M m), (m))                                                      \
	X(int, ssh_message_reply_default, (M m), (m))                                              \
	X(K, ssh_message_auth_pubkey, (M m), (m))                                                  \
	X(enum ssh_publickey_state_e, ssh_message_auth_publickey_state, (M m), (m))                \
	X(int, ssh_message_auth_reply_pk_ok_simple, (M m), (m))                                    \
	X(int, ssh_message_auth_reply_success, (M m, int p), (m, p))                               \
	X(int, ssh_message_auth_set_methods, (M m, int w), (m, w))                                 \
	X(C, ssh_message_channel_request_open_reply_accept, (M m), (m))                            \
	X(C, ssh_message_channel_request_channel, (M m), (m))                                      \
	X(int, ssh_message_channel_request_reply_success, (M m), (m))                              \
	X(const char *, ssh_message_channel_request_pty_term, (M m), (m))                          \
	X(int, ssh_message_channel_request_pty_width, (M m), (m))                                  \
	X(int, ssh_message_channel_request_pty_height, (M m), (m))                                 \
	X(const char *, ssh_message_channel_request_env_name, (M m), (m))                          \
	X(const char *, ssh_message_channel_request_env_value, (M m), (m))                         \
	X(const char *, ssh_message_channel_request_command, (M m), (m))                           \
	X(const char *, ssh_message_channel_request_subsystem, (M m), (m))                         \
	X(int, ssh_channel_write, (C c, const void *d, uint32_t n), (c, d, n))                     \
	X(int, ssh_channel_write_stderr, (C c, const void *d, uint32_t n), (c, d, n))              \
	X(int, ssh_channel_request_send_exit_status, (C c, int s), (c, s))                         \
	X(int, ssh_channel_request_send_exit_signal,                                               \
	  (C c, const char *s, int core, const char *m, const char *l), (c, s, core, m, l))        \
	X(int, ssh_channel_is_closed, (C c), (c))                                                  \
	X(int, ssh_set_channel_callbacks, (C c, ssh_channel_callbacks cb), (c, cb))                \
	X(int, ssh_remove_channel_callbacks, (C c, ssh_channel_callbacks cb), (c, cb))             \
	X(void, ssh_string_free, (ssh_string s), (s))                                              \
	X(void *, ssh_string_data, (ssh_string s), (s))                                            \
	X(size_t, ssh_string_len, (ssh_string s), (s))                                             \
	X(F, sftp_server_new, (S s, C c), (s, c))                                                  \
	X(int, sftp_server_init, (F f), (f))                                                       \
	X(void, sftp_server_free, (F f), (f))                                                      \
	X(sftp_client_message, sftp_get_client_message, (F f), (f))                                \
	X(void, sftp_client_message_free, (sftp_client_message m), (m))                            \
	X(uint8_t, sftp_client_message_get_type, (sftp_client_message m), (m))                     \
	X(const char *, sftp_client_message_get_filename, (sftp_client_message m), (m))            \
	X(const char *, sftp_client_message_get_data, (sftp_client_message m), (m))                \
	X(uint32_t, sftp_client_message_get_flags, (sftp_client_message m), (m))                   \
	X(const char *, sftp_client_message_get_submessage, (sftp_client_message m), (m))          \
	X(int, sftp_reply_status, (sftp_client_message m, uint32_t s, const char *t), (m, s, t))   \
	X(int, sftp_reply_attr, (sftp_client_message m, sftp_attributes a), (m, a))                \
	X(int, sftp_reply_handle, (sftp_client_message m, ssh_string h), (m, h))                   \
	X(int, sftp_reply_name, (sftp_client_message m, const char *n, sftp_attributes a),         \
	  (m, n, a))                                                                               \
	X(int, sftp_reply_names_add,                                                               \
	  (sftp_client_message m, const char *f, const char *l, sftp_attributes a), (m, f, l, a))  \
	X(int, sftp_reply_names, (sftp_client_message m), (m))                                     \
	X(int, sftp_reply_data, (sftp_client_message m, const void *d, int n), (m, d, n))          \
	X(ssh_string, sftp_handle_alloc, (F f, void *i), (f, i))                                   \
	X(void *, sftp_handle, (F f, ssh_string h), (f, h))                                        \
	X(void, sftp_handle_remove, (F f, void *h), (f, h))                                        \
	X(void, ssh_set_message_callback, (S s, int (*cb)(S s, ssh_message m, void *d), void *d),  \
	  (s, cb, d))                                                                              \
	X(int, ssh_execute_message_callbacks, (S s), (s))                                          \
	X(ssh_event, ssh_event_new, (void), ())                                                    \
	X(int, ssh_event_add_session, (ssh_event e, S s), (e, s))                                  \
	X(int, ssh_event_add_fd,                                                                   \
	  (ssh_event e, socket_t fd, short ev, ssh_event_callback cb, void *d),                    \
	  (e, fd, ev, cb, d))                                                                      \
	X(int, ssh_event_remove_fd, (ssh_event e, socket_t fd), (e, fd))                           \
	X(int, ssh_event_dopoll, (ssh_event e, int t), (e, t))                                     \
	X(int, ssh_channel_poll, (C c, int e), (c, e))

LAZYLIB_DEFINE(lazylib_ssh, DEN_SSH_FUNCS, DEN_SONAME_SSH, DEN_PACKAGE_SSH)
