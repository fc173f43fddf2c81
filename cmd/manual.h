/* SPDX-License-Identifier: MIT */
#ifndef DEN_CMD_MANUAL_H
#define DEN_CMD_MANUAL_H

/* den's manual pages, made from its help (cmd/manual.c). */

#include "cmd/cmd.h"

/* Writes den.1 and den-CMD.1 for every command into dir (made if missing). */
int manual_write_all(const char *dir, struct den_err *err);

#endif
