/* SPDX-License-Identifier: MIT */
/* Forwarded-port syntaxes of den's user-mode network: the Envfile's and QEMU's hostfwd. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "core/usernet.h"

static const char *ip(struct in_addr a)
{
	static char buf[INET_ADDRSTRLEN];
	return inet_ntop(AF_INET, &a, buf, sizeof(buf));
}

Test(usernet, envfile_forwards)
{
	struct usernet_fwd f;
	struct den_err err = { 0 };

	cr_assert(usernet_parse_fwd("8080:80", &f, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.1");
	cr_expect_eq(f.host_port, 8080);
	cr_expect_eq(f.guest_port, 80);
	cr_assert(usernet_parse_fwd("udp:127.0.0.2:5353:53", &f, &err) == 0, "%s", err.msg);
	cr_expect(f.udp);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.2");
	cr_expect(usernet_parse_fwd("80", &f, &err) < 0);
	cr_expect(usernet_parse_fwd("70000:80", &f, &err) < 0);
}

Test(usernet, qemu_hostfwd)
{
	struct usernet_fwd f;
	struct den_err err = { 0 };

	cr_assert(usernet_parse_hostfwd("tcp:127.0.0.1:8080-:80", &f, &err) == 0, "%s", err.msg);
	cr_expect(!f.udp);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.1");
	cr_expect_eq(f.host_port, 8080);
	cr_expect_eq(f.guest_port, 80);
	cr_assert(usernet_parse_hostfwd("udp::5353-:53", &f, &err) == 0, "%s", err.msg);
	cr_expect(f.udp);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.1", "no host address: loopback, never every one");
	cr_assert(usernet_parse_hostfwd(":2222-10.0.2.15:22", &f, &err) == 0, "%s", err.msg);
	cr_expect_eq(f.host_port, 2222);
	cr_expect_eq(f.guest_port, 22);
	cr_assert(usernet_parse_hostfwd("127.0.0.5:2222-10.0.2.15:22", &f, &err) == 0, "%s",
		  err.msg);
	cr_expect_str_eq(ip(f.host_ip), "127.0.0.5");

	cr_expect(usernet_parse_hostfwd("sctp::1-:2", &f, &err) < 0);
	cr_expect(strstr(err.msg, "expected [tcp|udp]") != NULL, "%s", err.msg);
	cr_expect(usernet_parse_hostfwd("tcp::8080-10.0.2.9:80", &f, &err) < 0);
	cr_expect(strstr(err.msg, "the guest is 10.0.2.15") != NULL, "%s", err.msg);
	cr_expect(usernet_parse_hostfwd("tcp::0-:80", &f, &err) < 0);
	cr_expect(usernet_parse_hostfwd("tcp::8080-:80x", &f, &err) < 0, "trailing junk");
	cr_expect(usernet_parse_hostfwd("tcp:8080:80", &f, &err) < 0);
}
