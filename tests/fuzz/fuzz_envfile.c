/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Envfile reader: any bytes must give either a
 * model or an Envfile error, never a crash, leak, hang or sanitizer report.
 * `make fuzz` runs it for 60 s from a corpus of real Envfiles.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/envfile.h"

static char root[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Host paths resolve against an empty folder: nothing outside is looked at. */
	strcpy(root, "/tmp/den-fuzz-XXXXXX");
	if (mkdtemp(root) == NULL)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envfile *ef = NULL;
	struct den_err err = { 0 };

	if (envfile_load_buffer((const char *)data, size, "Envfile", root, &ef, &err) == 0) {
		if (ef->n_machines == 0)
			abort(); /* a valid Envfile has at least one machine */
		envfile_free(ef);
	} else if (err.kind != DEN_ERR_ENVFILE || strncmp(err.msg, "Envfile:", 8) != 0) {
		abort(); /* every refusal is an Envfile error with a position */
	}
	return 0;
}
