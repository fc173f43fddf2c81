/* SPDX-License-Identifier: MIT */
/* Values for ssh_config lines and ssh's command line: refused, never quoted. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/sshcfg.h"

static void expect_ok(const char *value, enum sshcfg_kind kind)
{
	struct den_err err = { 0 };

	cr_expect(sshcfg_value_check("web", "SSH user", value, kind, &err) == 0, "'%s' refused: %s",
		  value, err.msg);
}

/* Refused with a message naming the machine and the field, and holding want. */
static void expect_refused(const char *value, enum sshcfg_kind kind, const char *want)
{
	struct den_err err = { 0 };

	cr_expect(sshcfg_value_check("web", "SSH user", value, kind, &err) < 0, "'%s' accepted",
		  value);
	cr_expect(strstr(err.msg, "machine web") != NULL && strstr(err.msg, "SSH user") != NULL,
		  "names the machine and the field: %s", err.msg);
	cr_expect(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
}

Test(sshcfg, user_and_host_names_pass)
{
	expect_ok("den", SSHCFG_WORD);
	expect_ok("vagrant", SSHCFG_WORD);
	expect_ok("build_user.2-x", SSHCFG_WORD);
	expect_ok("127.0.0.1", SSHCFG_WORD);
	expect_ok("::1", SSHCFG_WORD);
}

Test(sshcfg, a_newline_is_refused_and_the_value_never_shown)
{
	struct den_err err = { 0 };

	cr_expect(sshcfg_value_check("web", "SSH user", "den\nProxyCommand touch /tmp/pwned",
				     SSHCFG_WORD, &err) < 0);
	cr_expect(strstr(err.msg, "control character") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "ProxyCommand") == NULL, "the value is not shown: %s", err.msg);
	cr_expect(sshcfg_value_check("web", "known_hosts path", "/p/known_hosts\nProxyCommand x",
				     SSHCFG_PATH, &err) < 0);
	cr_expect(strstr(err.msg, "ProxyCommand") == NULL, "%s", err.msg);
}

Test(sshcfg, whitespace_quotes_and_controls_are_refused_in_names)
{
	expect_refused("den ansible_connection=local", SSHCFG_WORD, "a space");
	expect_refused("den\tx", SSHCFG_WORD, "control character");
	expect_refused("den\rx", SSHCFG_WORD, "control character");
	expect_refused("den\x1b[31m", SSHCFG_WORD, "control character");
	expect_refused("den\x7f", SSHCFG_WORD, "control character");
	expect_refused("den\xc2\x9b", SSHCFG_WORD, "control character"); /* C1 CSI in UTF-8 */
	expect_refused("den\xff", SSHCFG_WORD, "not valid UTF-8");
	expect_refused("den\"x", SSHCFG_WORD, "'\"'");
	expect_refused("it's", SSHCFG_WORD, "'''");
	expect_refused("a\\b", SSHCFG_WORD, "'\\'");
	expect_refused("%d", SSHCFG_WORD, "'%'");
	expect_refused("-oProxyCommand=x", SSHCFG_WORD, "starts with '-'");
	expect_refused("", SSHCFG_WORD, "empty");
	expect_refused(NULL, SSHCFG_WORD, "empty");
	expect_refused("zoë", SSHCFG_WORD, "U+00EB");
}

Test(sshcfg, paths_pass_unless_they_hold_what_openssh_parses)
{
	expect_ok("/home/u/proj/.den/machines/web/id_ed25519", SSHCFG_PATH);
	expect_ok("/home/zoë/den/known_hosts", SSHCFG_PATH);
	expect_ok("/srv/a+b,c=d@e#f/known_hosts", SSHCFG_PATH);
	expect_refused("/home/u/my project/known_hosts", SSHCFG_PATH, "move the project");
	expect_refused("/home/u/my project/known_hosts", SSHCFG_PATH, "DEN_HOME");
	expect_refused("/home/u/it's/known_hosts", SSHCFG_PATH, "without spaces, quotes");
	expect_refused("/home/u/a\"b/known_hosts", SSHCFG_PATH, "'\"'");
	expect_refused("/home/%u/known_hosts", SSHCFG_PATH, "'%'");
	expect_refused("/home/${HOME}/known_hosts", SSHCFG_PATH, "'$'");
	expect_refused("/home/a\\ b/known_hosts", SSHCFG_PATH, "'\\'");
	expect_refused("/home/a\tb/known_hosts", SSHCFG_PATH, "control character");
	expect_refused("relative/known_hosts", SSHCFG_PATH, "not an absolute path");
	expect_refused("-oProxyCommand=x", SSHCFG_PATH, "not an absolute path");
}
