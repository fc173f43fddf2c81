/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_SHQUOTE_H
#define DEN_CORE_SHQUOTE_H

/*
 * Quoting for a POSIX shell: what den puts on a command line that a shell
 * in the machine reads (provisioner args, env values, paths) arrives
 * verbatim, whatever quotes, spaces, $(...) or newlines it holds.
 */

/* s in single quotes ("it's" -> 'it'\''s'); malloc'd, NULL when out of memory. */
char *shell_quote(const char *s);

#endif
