/* SPDX-License-Identifier: MIT */
/*
 * A remote LXD's TLS parts that need no LXD (providers/lxd/tls.c): the
 * remote's URL, where a server's certificate is pinned, den's client
 * certificate (made once, its key private), a certificate's fingerprint
 * and key pin (checked against openssl's for a fixed certificate), and
 * trust tokens, good and bad.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fsutil.h"
#include "providers/lxd/lxd-internal.h"
#include "tests/helpers/testutil.h"

/* openssl req -x509 -newkey ec (P-256), CN=fixture, good until 2126. */
static const char fixture[] = "-----BEGIN CERTIFICATE-----\n"
			      "MIIBezCCASGgAwIBAgIUOqEa7s8vhFn6feiPPvtkdMDnE1MwCgYIKoZIzj0EAwIw\n"
			      "EjEQMA4GA1UEAwwHZml4dHVyZTAgFw0yNjEyMDMyMjEwNDZaGA8yMTI2MTEwOTIy\n"
			      "MTA0NlowEjEQMA4GA1UEAwwHZml4dHVyZTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
			      "A0IABDe+UeOVx16kYC6pdpqYQ387F2I/zOggVtExXaVObzwOwedz4/ithZ1MXOAc\n"
			      "NjV3MoQdOZO9Q6ZAx3oTl+jPfOmjUzBRMB0GA1UdDgQWBBSgrok9njSbeZ+wJiQc\n"
			      "dYxAK857UDAfBgNVHSMEGDAWgBSgrok9njSbeZ+wJiQcdYxAK857UDAPBgNVHRMB\n"
			      "Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDN2XsL1otn4CgODJzYCRzERc1R\n"
			      "V6s7mfoFtU5tAOSwIgIgA3mXaQW6EZfeqFjnwIFfCNcF8gVzDXFJcOcmhg9mVSw=\n"
			      "-----END CERTIFICATE-----\n";

Test(lxd_tls, remote_urls_in_the_form_lxd_listens_on)
{
	struct lxd_url u;
	struct den_err err = { 0 };

	cr_assert_eq(lxd_url_parse("https://lxd1.example", &u, &err), 0, "%s", err.msg);
	cr_assert_str_eq(u.host, "lxd1.example");
	cr_assert_eq(u.port, 8443);
	cr_assert_eq(lxd_url_parse("https://10.1.2.3:9443/", &u, &err), 0, "%s", err.msg);
	cr_assert_str_eq(u.host, "10.1.2.3");
	cr_assert_eq(u.port, 9443);
	cr_assert_eq(lxd_url_parse("https://[fd00::1]:8443", &u, &err), 0, "%s", err.msg);
	cr_assert_str_eq(u.host, "fd00::1");
	cr_assert(u.v6);
	static const char *const bad[] = {
		"http://lxd1:8443", "https://",		"https://lxd1:0", "https://lxd1:65536",
		"https://lxd1/x",   "https://u@lxd1",	"https://-lxd1",  "https://[]:8443",
		"https://lxd1:84x", "https://lxd1?a=b", "lxd1:8443",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		den_err_clear(&err);
		cr_assert_eq(lxd_url_parse(bad[i], &u, &err), -1, "%s accepted", bad[i]);
		cr_assert(strstr(err.msg, "https://HOST:PORT") != NULL, "%s", err.msg);
	}
}

Test(lxd_tls, a_servers_pin_is_one_file_name_under_servers)
{
	struct lxd_url u;
	struct den_err err = { 0 };

	cr_assert_eq(lxd_url_parse("https://[::1]:8443", &u, &err), 0);
	char *p = lxd_tls_server_path("/h/lxd", &u);
	cr_assert_str_eq(p, "/h/lxd/servers/--1_8443.crt");
	free(p);
}

Test(lxd_tls, fingerprint_and_key_pin_are_openssls)
{
	struct den_err err = { 0 };
	char fp[65];
	char *pin = NULL;

	cr_assert_eq(lxd_tls_cert_pin(fixture, strlen(fixture), fp, &pin, &err), 0, "%s", err.msg);
	/* openssl x509 -outform DER | sha256sum */
	cr_assert_str_eq(fp, "d3060c9c8dffb9a93c46e13ae042fce22de35dbf8d178b1e2ce1abbf9fe796e2");
	/* openssl x509 -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64 */
	cr_assert_str_eq(pin, "sha256//zBiWMPKnQ1RvpbL+REbv1z6z+a6q2royztV835TA29s=");
	free(pin);
	den_err_clear(&err);
	cr_assert_eq(lxd_tls_cert_pin("-----BEGIN CERTIFICATE-----\nAAAA\n", 33, fp, NULL, &err),
		     -1);
}

Test(lxd_tls, the_client_certificate_is_made_once_with_a_private_key)
{
	char *dir = make_temp_dir(), *crt = NULL, *key = NULL, *crt2 = NULL, *key2 = NULL;
	char *text = NULL, *text2 = NULL, *pin = NULL;
	struct den_err err = { 0 };
	struct stat st;
	size_t len = 0;
	char fp[65];

	cr_assert_eq(lxd_tls_client_cert(dir, false, &crt, &key, &err), -1,
		     "made one when asked not to");
	den_err_clear(&err);
	cr_assert_eq(lxd_tls_client_cert(dir, true, &crt, &key, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(key, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "the key is %o", st.st_mode & 0777);
	cr_assert_eq(den_read_file(crt, 1 << 16, &text, &len, &err), 0, "%s", err.msg);
	cr_assert_eq(lxd_tls_cert_pin(text, len, fp, &pin, &err), 0, "%s", err.msg);
	cr_assert_eq(lxd_tls_client_cert(dir, true, &crt2, &key2, &err), 0, "%s", err.msg);
	cr_assert_eq(den_read_file(crt2, 1 << 16, &text2, &len, &err), 0, "%s", err.msg);
	cr_assert_str_eq(text, text2, "a second call made another certificate");
	free(crt), free(key), free(crt2), free(key2), free(text), free(text2), free(pin);
	rm_rf(dir);
	free(dir);
}

Test(lxd_tls, trust_tokens_good_and_bad)
{
	struct lxd_token t;
	struct den_err err = { 0 };
	/* {"client_name": "t", "fingerprint": "abab...", "addresses": [...], "secret": "s3cret", ...} */
	static const char good[] =
		"eyJjbGllbnRfbmFtZSI6ICJ0IiwgImZpbmdlcnByaW50IjogImFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYm"
		"FiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWIiLCAiYWRkcmVzc2VzIjogWyIxMjcu"
		"MC4wLjE6ODQ0MyJdLCAic2VjcmV0IjogInMzY3JldCIsICJleHBpcmVzX2F0IjogIjAwMDEtMDEtMDFUMD"
		"A6MDA6MDBaIn0=";
	static const char *const bad[] = {
		/* a fingerprint one byte short */
		"eyJmaW5nZXJwcmludCI6ICJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYm"
		"FiYWJhYmFiYWJhYmFiYWJhYiIsICJzZWNyZXQiOiAieCJ9",
		/* no secret */
		"eyJmaW5nZXJwcmludCI6ICJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYm"
		"FiYWJhYmFiYWJhYmFiYWJhYmFiIn0=",
		"", "not a token", "eyJh", "e30=", /* {} */
	};

	cr_assert_eq(lxd_tls_token_decode(good, &t, &err), 0, "%s", err.msg);
	cr_assert_str_eq(t.fingerprint,
			 "abababababababababababababababababababababababababababababababab");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		den_err_clear(&err);
		cr_assert_eq(lxd_tls_token_decode(bad[i], &t, &err), -1, "token %zu accepted", i);
		cr_assert(strstr(err.msg, "not an LXD trust token") != NULL, "%s", err.msg);
	}
}
