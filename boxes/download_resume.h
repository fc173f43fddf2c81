/* SPDX-License-Identifier: MIT */
#ifndef DEN_BOXES_DOWNLOAD_RESUME_H
#define DEN_BOXES_DOWNLOAD_RESUME_H

/*
 * Whether a resumed download keeps the bytes already in its file
 * (boxes/download.c asks for the rest with a Range from the file's size).
 * Apart from libcurl, so that each case is tested on its own
 * (tests/unit/test_download.c).
 */

#include <stdbool.h>
#include <stdint.h>

/* What came back for a request for the bytes from offset on. */
struct resume_answer {
	uint64_t offset;    /* bytes already in the file (0: a fresh download, no Range) */
	long http;	    /* HTTP status; 0 for file:// */
	bool body;	    /* bytes of the answer arrived */
	bool range_refused; /* libcurl gave up on the range: the source cannot start there */
};

enum resume_action {
	RESUME_APPEND,	/* the bytes continue the file (or begin a fresh one) */
	RESUME_RESTART, /* they cannot continue it: empty the file, fetch from byte 0 */
	RESUME_FAIL,	/* an error answer: report it; the partial file stays for next time */
};

/*
 * 206 (or file://) continues the file. A 200 with a body is the whole file
 * from byte 0 (a server that ignores Range), and 416 or a refused range
 * means the partial file is longer than the source (it changed, or the
 * bytes are not its): both start over. Other 4xx and 5xx fail, even when
 * libcurl refused the range too (as it does for an error page).
 */
enum resume_action download_resume_action(const struct resume_answer *a);

#endif
