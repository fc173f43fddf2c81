/* SPDX-License-Identifier: MIT */
#include "boxes/download_resume.h"

enum resume_action download_resume_action(const struct resume_answer *a)
{
	if (a->offset > 0 && a->http == 416)
		return RESUME_RESTART;
	/* Before a refused range: libcurl refuses the range of an error page too (no Content-Range). */
	if (a->http >= 400)
		return RESUME_FAIL;
	if (a->offset > 0 && a->range_refused)
		return RESUME_RESTART;
	/*
	 * Appended, a whole file would follow its own first bytes. A 200 with
	 * no body is libcurl's "the entire document is already downloaded"
	 * (its length is the offset): nothing to add, the file is whole.
	 */
	if (a->offset > 0 && a->http == 200 && a->body)
		return RESUME_RESTART;
	return RESUME_APPEND;
}
