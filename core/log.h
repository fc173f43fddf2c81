/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_LOG_H
#define DEN_CORE_LOG_H

/*
 * Progress and diagnostics on stderr. Errors are not printed here: they
 * travel up in struct den_err to cmd/main.c. Verbosity: -q (0), default
 * (1), -v (2), -vv (3).
 */

#include <stdbool.h>
#include "core/err.h"

enum den_log_level { DEN_LOG_QUIET = 0, DEN_LOG_INFO = 1, DEN_LOG_VERBOSE = 2, DEN_LOG_DEBUG = 3 };

/* Sets the verbosity and whether stderr output may use colour. */
void den_log_setup(enum den_log_level level, bool color);

/* Current verbosity. */
enum den_log_level den_log_level(void);

/* True when colour is on for stderr (terminal, NO_COLOR unset, not --no-color). */
bool den_log_color(void);

/* "==> " lines for what den is doing; hidden by -q. */
void den_info(const char *fmt, ...) DEN_PRINTF(1, 2);

/* Shown with -v. */
void den_verbose(const char *fmt, ...) DEN_PRINTF(1, 2);

/* Shown with -vv. */
void den_debug(const char *fmt, ...) DEN_PRINTF(1, 2);

/* Something the user should know that is not a failure; shown unless -q. */
void den_warn(const char *fmt, ...) DEN_PRINTF(1, 2);

/*
 * For robustness tests: when $DEN_CRASH_AT names this point, den kills
 * itself with SIGKILL here, as a power cut or `kill -9` would.
 */
void den_crash_point(const char *name);

#endif
