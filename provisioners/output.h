/* SPDX-License-Identifier: MIT */
#ifndef DEN_PROVISIONERS_OUTPUT_H
#define DEN_PROVISIONERS_OUTPUT_H

/*
 * What provisioners and `den exec` print: the machine's output line by
 * line as it comes, each line prefixed with the machine's name ("web: "),
 * coloured per machine on a terminal. Escape codes from the machine are
 * dropped unless keep_color; stderr lines are red on a terminal. The last
 * lines are kept for the error when a step fails. Lines from several
 * threads never mix.
 */

#include <stdbool.h>
#include <stddef.h>

#define PROV_TAIL_LINES 8

struct prov_output {
	const char *prefix; /* the machine's name */
	int color_index;    /* which colour the prefix gets, on a terminal */
	bool color;	    /* stdout is a terminal and colour is allowed */
	bool keep_color;    /* pass the machine's escape codes through */
	bool quiet;	    /* keep the tail, print nothing (den exec --summary-only) */
	char line[2][4096]; /* partial lines: stdout, stderr */
	size_t len[2];
	bool cr[2]; /* a \r ended the last chunk: the line is redrawn unless \n follows */
	char tail[PROV_TAIL_LINES][256];
	size_t n_tail; /* lines seen; the last PROV_TAIL_LINES are kept */
};

void prov_output_init(struct prov_output *o, const char *prefix, int color_index, bool color);

/* Output as it comes (a den_ssh_output_fn; arg is the struct prov_output). */
void prov_output_feed(const char *buf, size_t len, int is_stderr, void *arg);

/* Prints what is left of an unfinished line. */
void prov_output_flush(struct prov_output *o);

/* The kept last lines, one per line, into buf. */
void prov_output_tail(const struct prov_output *o, char *buf, size_t n);

/* Forgets the kept lines (before a new step). */
void prov_output_reset_tail(struct prov_output *o);

#endif
