/* SPDX-License-Identifier: MIT */
#ifndef DEN_CMD_COMPLETION_H
#define DEN_CMD_COMPLETION_H

/*
 * What completes a den command line (cmd/completion_words.c), from the
 * usages (cmd/usage.h), the Envfile, the box store and the machines'
 * snapshots. The shell scripts `den completion SHELL` prints ask it.
 */

#include <stdio.h>

#include "cmd/cmd.h"

/*
 * words: the line after "den", the last being the word under the cursor
 * (maybe ""). Prints on out one line saying what the shell should add
 * itself ("words": nothing, "files": paths, "dirs": folders), then the
 * candidates that begin with the last word, one per line. Never fails:
 * an unknown command or a broken Envfile just completes nothing.
 */
void completion_words(struct den_ctx *ctx, char **words, int n, FILE *out);

#endif
