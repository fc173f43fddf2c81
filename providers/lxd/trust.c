/* SPDX-License-Identifier: MIT */
/*
 * `den lxd trust URL --token TOKEN` (docs/lxd.md, "A remote LXD"): what
 * `lxc remote add` does with a token. The token (from `lxc config trust
 * add` on the server) names the server's certificate by its SHA-256; den
 * reads the certificate the server shows in a TLS handshake that sends
 * nothing, and goes on only when it is that one. Then, trusting that
 * certificate alone, den shows its own client certificate and the token
 * to LXD, and checks that LXD now says "trusted". The certificate is
 * pinned (servers/HOST_PORT.crt) only then.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "providers/lxd/lxd.h"
#include "providers/lxd/lxd-internal.h"
#include "core/cleanup.h"
#include "core/fsutil.h"
#include "core/lazylib.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The certificate the server at base shows (PEM, malloc'd): a handshake
 * only, with no request sent, so nothing reaches a server not yet
 * checked. The caller compares it with the token's before trusting it.
 */
static int server_cert(const char *base, char **pem, struct den_err *err)
{
	CURL *h = curl_easy_init();
	struct curl_certinfo *ci = NULL;
	CURLcode rc;

	*pem = NULL;
	if (h == NULL)
		return den_err_set(err, ENOMEM, "TLS");
	curl_easy_setopt(h, CURLOPT_URL, base);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	/* Not verified here: the token's fingerprint is what decides, below. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		curl_easy_cleanup(h);
		return den_err_set(err, 0, "cannot reach LXD at %s: %s", base,
				   curl_easy_strerror(rc));
	}
	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci != NULL &&
	    ci->num_of_certs > 0) {
		for (struct curl_slist *l = ci->certinfo[0]; l != NULL && *pem == NULL; l = l->next)
			if (strncmp(l->data, "Cert:", 5) == 0)
				*pem = strdup(l->data + 5);
	}
	curl_easy_cleanup(h);
	if (*pem == NULL)
		return den_err_set(err, 0, "LXD at %s showed no certificate", base);
	return 0;
}

/* "auth" of GET /1.0: "trusted" or "untrusted". */
static int auth_of(struct lxd_client *c, bool *trusted, struct den_err *err)
{
	json_t *md = NULL;

	if (lxd_call(c, "GET", "/1.0", NULL, &md, NULL, err) < 0)
		return -1;
	const char *auth = json_string_value(json_object_get(md, "auth"));
	*trusted = auth != NULL && strcmp(auth, "trusted") == 0;
	json_decref(md);
	return 0;
}

/* With the pinned certificate at tmp: den's certificate made trusted by the token. */
static int present_token(const char *url, const char *tmp, const char *crt, const char *key,
			 const char *token, bool *was, struct den_err *err)
{
	struct lxd_client c;
	bool trusted = false;
	int rc;

	if (lxd_open_https(url, tmp, crt, key, NULL, &c, err) < 0)
		return -1;
	c.pairing = true;
	rc = auth_of(&c, was, err);
	if (rc == 0 && !*was) {
		json_t *body = json_pack("{s:s, s:s}", "type", "client", "password", token);
		rc = lxd_call(&c, "POST", "/1.0/certificates", body, NULL, NULL, err);
		json_decref(body);
		if (rc < 0)
			den_err_wrap(err,
				     "the token was refused: used already, expired or revoked? (a "
				     "token is good once; make another with `lxc config trust add "
				     "--name den`)");
		if (rc == 0)
			rc = auth_of(&c, &trusted, err);
		if (rc == 0 && !trusted)
			rc = den_err_set(err, 0, "%s took the token but does not trust den yet",
					 c.where);
	}
	lxd_close(&c);
	return rc;
}

int lxd_trust(const char *url, const char *token, struct lxd_trusted *out, struct den_err *err)
{
	cleanup_free char *dir = NULL, *path = NULL, *tmp = NULL, *pem = NULL, *crt = NULL,
			  *key = NULL, *base = NULL, *servers = NULL;
	struct lxd_token t;
	struct lxd_url u;
	char fp[65];
	bool was = false;

	if (lxd_url_parse(url, &u, err) < 0 || lxd_tls_token_decode(token, &t, err) < 0 ||
	    den_curl_load(err) < 0 || lxd_tls_home(&dir, err) < 0)
		return -1;
	path = lxd_tls_server_path(dir, &u);
	if (path == NULL || asprintf(&tmp, "%s.new", path) < 0 ||
	    asprintf(&servers, "%s/servers", dir) < 0 || (base = lxd_url_base(&u)) == NULL)
		return den_err_set(err, ENOMEM, "den lxd trust");
	if (server_cert(base, &pem, err) < 0 ||
	    lxd_tls_cert_pin(pem, strlen(pem), fp, NULL, err) < 0)
		return -1;
	if (strcmp(fp, t.fingerprint) != 0)
		return den_err_set(err, 0,
				   "LXD at %s showed certificate %s, and the token names %s: "
				   "refused (another server answers there, or someone in between). "
				   "Check the address and the token",
				   base, fp, t.fingerprint);
	if (den_mkdir_p(servers, 0700, err) < 0 ||
	    lxd_tls_client_cert(dir, true, &crt, &key, err) < 0 ||
	    den_write_file_atomic(tmp, pem, 0644, err) < 0)
		return -1;
	if (present_token(base, tmp, crt, key, token, &was, err) < 0 || rename(tmp, path) < 0) {
		if (!den_err_is_set(err))
			den_err_set(err, errno, "cannot keep %s", path);
		unlink(tmp);
		return -1;
	}
	snprintf(out->base, sizeof(out->base), "%s", base);
	memcpy(out->fingerprint, fp, sizeof(out->fingerprint));
	snprintf(out->pinned, sizeof(out->pinned), "%s", path);
	snprintf(out->client_crt, sizeof(out->client_crt), "%s", crt);
	out->already = was;
	return 0;
}
