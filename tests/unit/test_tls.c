/*
 * test_tls.c - unit tests of lib/tls.c: tls_origination patterns, the
 * profile an address gets, what each new SSL is set up with (SNI, the
 * name or address to verify, the cached session of its own address
 * only), CA files that do not load, and the one-line failure reasons.
 * The handshakes themselves run in tests/integration/24-tls.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "config.h"
#include "tls.h"
#include "tlscache.h"

static struct tls *
mktls(const char *ini)
{
	char *errors = NULL, err[256];
	struct ferryd_config *cfg = config_parse_string(ini, "t.ini", &errors);
	struct tls *t;

	ck_assert_msg(cfg != NULL, "config: %s", errors != NULL ? errors : "?");
	free(errors);
	t = tls_new(cfg, err, sizeof(err));
	ck_assert_msg(t != NULL, "tls_new: %s", err);
	config_free(cfg);
	return t;
}

static struct address
https(struct tls *t, const char *host, uint16_t port)
{
	struct address a;

	ck_assert_int_eq(address_init(&a, "https", host, port), 0);
	tls_profile(t, host, &a.tls);
	return a;
}

START_TEST(origination_patterns)
{
	struct tls *t = mktls("[tls]\ntls_origination = api.example.com "
	    "*.corp.example 127.0.0.1\n");

	ck_assert(tls_originates(t, "api.example.com"));
	ck_assert(tls_originates(t, "API.Example.COM"));
	ck_assert(!tls_originates(t, "www.example.com"));
	ck_assert(!tls_originates(t, "xapi.example.com"));
	ck_assert(tls_originates(t, "a.corp.example"));
	ck_assert(tls_originates(t, "a.b.corp.example"));
	ck_assert_msg(!tls_originates(t, "corp.example"),
	    "*.corp.example names subdomains, not the domain");
	ck_assert(!tls_originates(t, "xcorp.example"));
	ck_assert(tls_originates(t, "127.0.0.1"));
	ck_assert(!tls_originates(t, "127.0.0.2"));
	tls_unref(t);

	t = mktls("");
	ck_assert_msg(!tls_originates(t, "api.example.com"), "none by default");
	tls_unref(t);
}
END_TEST

START_TEST(profile)
{
	struct tls *t = mktls("");
	struct tls_profile p;

	tls_profile(t, "a.example", &p);
	ck_assert(p.tls && p.verify);
	ck_assert_str_eq(p.sni, "a.example");
	ck_assert_str_eq(p.ca_file, "");
	ck_assert_str_eq(p.alpn, "http/1.1");
	tls_profile(t, "192.0.2.1", &p);
	ck_assert_msg(p.sni[0] == '\0', "no SNI for an IPv4 address");
	tls_profile(t, "2001:db8::1", &p);
	ck_assert_msg(p.sni[0] == '\0', "no SNI for an IPv6 address");
	tls_unref(t);

	t = mktls("[tls]\nverify = no\n");
	tls_profile(t, "a.example", &p);
	ck_assert_msg(!p.verify, "verify = no is in the profile");
	tls_unref(t);
}
END_TEST

START_TEST(ssl_setup)
{
	struct tls *t = mktls("");
	struct address a = https(t, "a.example", 443);
	struct address ip = https(t, "192.0.2.1", 443);
	SSL *ssl = tls_ssl_new(t, &a);
	char *s;

	ck_assert_ptr_nonnull(ssl);
	ck_assert_str_eq(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
	    "a.example");
	ck_assert_str_eq(X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0),
	    "a.example");
	ck_assert_int_eq(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER);
	ck_assert_msg(SSL_get_options(ssl) & SSL_OP_NO_RENEGOTIATION,
	    "no TLS 1.2 renegotiation");
	ck_assert_msg(!(SSL_get_options(ssl) & SSL_OP_IGNORE_UNEXPECTED_EOF),
	    "an EOF without close_notify is not taken for one with it");
	ck_assert_int_eq(SSL_get_min_proto_version(ssl), TLS1_2_VERSION);
	ck_assert_msg(SSL_get_session(ssl) == NULL, "no session cached yet");
	SSL_free(ssl);

	ssl = tls_ssl_new(t, &ip);
	ck_assert_ptr_nonnull(ssl);
	ck_assert_msg(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) ==
	    NULL, "no SNI to an IP address");
	ck_assert_msg(X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0) ==
	    NULL, "no host name to check");
	s = X509_VERIFY_PARAM_get1_ip_asc(SSL_get0_param(ssl));
	ck_assert_msg(s != NULL && strcmp(s, "192.0.2.1") == 0,
	    "the certificate must name the IP address");
	OPENSSL_free(s);
	SSL_free(ssl);
	tls_unref(t);
}
END_TEST

/* A resumable session, as a ticket would make one. */
static SSL_SESSION *
mksession(void)
{
	SSL_SESSION *s = SSL_SESSION_new();
	unsigned char id[32] = { 1 };

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(SSL_SESSION_set1_id(s, id, sizeof(id)), 1);
	return s;
}

START_TEST(session_offered_to_its_address_only)
{
	struct tls *t = mktls("");
	struct address a = https(t, "a.example", 443);
	struct address b = https(t, "b.example", 443);
	SSL_SESSION *sess = mksession();
	SSL *ssl;

	tlscache_put(tls_cache(t), &a, sess);
	ssl = tls_ssl_new(t, &a);
	ck_assert_ptr_eq(SSL_get_session(ssl), sess);
	SSL_free(ssl);
	ssl = tls_ssl_new(t, &b);
	ck_assert_msg(SSL_get_session(ssl) == NULL,
	    "a.example's session is not offered to b.example");
	SSL_free(ssl);
	tls_unref(t);

	t = mktls("[tls]\nsession_cache = no\n");
	ck_assert_ptr_null(tls_cache(t));
	ssl = tls_ssl_new(t, &a);
	ck_assert_ptr_null(SSL_get_session(ssl));
	SSL_free(ssl);
	tls_unref(t);
}
END_TEST

START_TEST(bad_ca_file)
{
	char *errors = NULL, err[256];
	struct ferryd_config *cfg = config_parse_string(
	    "[tls]\nca_file = /nonexistent/ca.pem\n", "t.ini", &errors);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_null(tls_new(cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "ca_file: cannot load /nonexistent/ca.pem")
	    != NULL, "the reason names the file: %s", err);
	config_free(cfg);
	free(errors);
}
END_TEST

/* The reason for a handshake that ended with verification result v. */
static void
reason_for(struct tls *t, long v, char *buf, size_t len)
{
	struct address a = https(t, "a.example", 443);
	SSL *ssl = tls_ssl_new(t, &a);

	SSL_set_verify_result(ssl, v);
	tls_failure(t, ssl, &a, 0, buf, len);
	SSL_free(ssl);
}

START_TEST(failure_reasons)
{
	struct tls *t = mktls("");
	struct address a = https(t, "a.example", 443);
	char why[256];

	reason_for(t, X509_V_ERR_CERT_HAS_EXPIRED, why, sizeof(why));
	ck_assert_str_eq(why, "certificate has expired");
	reason_for(t, X509_V_ERR_HOSTNAME_MISMATCH, why, sizeof(why));
	ck_assert_str_eq(why, "wrong host: the certificate is not for a.example");
	reason_for(t, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, why, sizeof(why));
	ck_assert_msg(strncmp(why, "unknown CA: ", 12) == 0, "%s", why);
	reason_for(t, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, why,
	    sizeof(why));
	ck_assert_msg(strncmp(why, "unknown CA: ", 12) == 0, "%s", why);
	reason_for(t, X509_V_ERR_CERT_REVOKED, why, sizeof(why));
	ck_assert_msg(strncmp(why, "certificate does not verify: ", 29) == 0,
	    "%s", why);
	reason_for(t, X509_V_OK, why, sizeof(why));
	ck_assert_str_eq(why,
	    "the origin closed the connection during the handshake");

	/* A failed handshake forgets the address's session. */
	tlscache_put(tls_cache(t), &a, mksession());
	reason_for(t, X509_V_ERR_CERT_HAS_EXPIRED, why, sizeof(why));
	ck_assert_ptr_null(tlscache_get(tls_cache(t), &a));
	tls_unref(t);

	/* With verify = no a verification result is not the cause. */
	t = mktls("[tls]\nverify = no\n");
	reason_for(t, X509_V_ERR_CERT_HAS_EXPIRED, why, sizeof(why));
	ck_assert_str_eq(why,
	    "the origin closed the connection during the handshake");
	tls_unref(t);
}
END_TEST

START_TEST(references)
{
	struct tls *t = mktls("");

	ck_assert_ptr_eq(tls_ref(t), t);
	tls_unref(t);
	tls_unref(t);
	tls_unref(NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, origination_patterns);
	tcase_add_test(tc, profile);
	tcase_add_test(tc, ssl_setup);
	tcase_add_test(tc, session_offered_to_its_address_only);
	tcase_add_test(tc, bad_ca_file);
	tcase_add_test(tc, failure_reasons);
	tcase_add_test(tc, references);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
