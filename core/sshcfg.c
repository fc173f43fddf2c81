/* SPDX-License-Identifier: MIT */
#include "core/sshcfg.h"
#include "core/utf8.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* What OpenSSH's config parser (or its % and ~ expansion) would read as syntax. */
static bool is_special(long cp)
{
	return cp == ' ' || cp == '"' || cp == '\'' || cp == '\\' || cp == '`' || cp == '%' ||
	       cp == '$';
}

static bool word_char(long cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
	       cp == '.' || cp == '_' || cp == '-' || cp == ':';
}

int sshcfg_value_check(const char *machine, const char *field, const char *value,
		       enum sshcfg_kind kind, struct den_err *err)
{
	static const char changed[] =
		"den does not put it into an ssh_config or an ssh command line (den's "
		"state for the machine may have been changed from inside it: `den destroy` "
		"and `den up` make it anew)";
	const unsigned char *s = (const unsigned char *)value;
	size_t left = value ? strlen(value) : 0, adv = 0;
	long bad = 0;

	if (value == NULL || value[0] == '\0')
		return den_err_set(err, 0, "machine %s: its %s is empty; %s", machine, field,
				   changed);
	/* Control characters first: such a value is never shown. */
	for (size_t i = 0; i < left; i += adv) {
		long cp = den_utf8_next(s + i, left - i, &adv);
		if (cp < 0)
			return den_err_set(err, 0, "machine %s: its %s is not valid UTF-8; %s",
					   machine, field, changed);
		if (den_is_control(cp))
			return den_err_set(err, 0,
					   "machine %s: its %s holds a control character "
					   "(U+%04lX); %s",
					   machine, field, (unsigned long)cp, changed);
		if (bad == 0 && (kind == SSHCFG_WORD ? !word_char(cp) : is_special(cp)))
			bad = cp;
	}
	if (kind == SSHCFG_WORD && value[0] == '-')
		return den_err_set(err, 0, "machine %s: its %s starts with '-'; %s", machine, field,
				   changed);
	if (kind == SSHCFG_PATH && value[0] != '/')
		return den_err_set(err, 0, "machine %s: its %s %s is not an absolute path; %s",
				   machine, field, value, changed);
	if (bad == 0)
		return 0;
	char shown[32];
	if (bad == ' ')
		snprintf(shown, sizeof(shown), "a space");
	else if (bad < 0x80)
		snprintf(shown, sizeof(shown), "'%c'", (char)bad);
	else
		snprintf(shown, sizeof(shown), "U+%04lX", (unsigned long)bad);
	if (kind == SSHCFG_WORD)
		return den_err_set(err, 0, "machine %s: its %s holds %s; %s", machine, field, shown,
				   changed);
	return den_err_set(err, 0,
			   "machine %s: its %s %s holds %s, which OpenSSH's config quoting does "
			   "not carry reliably: move the project (or DEN_HOME) to a path without "
			   "spaces, quotes, '\\', '$' or '%%'",
			   machine, field, value, shown);
}
