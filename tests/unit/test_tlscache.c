/*
 * test_tlscache.c - unit tests of lib/tlscache.c: a session per whole
 * address (never offered to another host, port, SNI name or profile),
 * replacement, sessions that cannot resume, and eviction when full.
 * Reference counts are checked by the ASan build's leak check.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlscache.h"

/* A resumable session: one with an id. */
static SSL_SESSION *
mksession(unsigned char id)
{
	SSL_SESSION *s = SSL_SESSION_new();
	unsigned char buf[32];

	ck_assert_ptr_nonnull(s);
	memset(buf, id, sizeof(buf));
	ck_assert_int_eq(SSL_SESSION_set1_id(s, buf, sizeof(buf)), 1);
	return s;
}

static struct address
https(const char *host, uint16_t port, const char *sni)
{
	struct address a;

	ck_assert_int_eq(address_init(&a, "https", host, port), 0);
	a.tls.tls = true;
	a.tls.verify = true;
	strcpy(a.tls.sni, sni);
	strcpy(a.tls.alpn, "http/1.1");
	return a;
}

START_TEST(per_whole_address)
{
	struct tlscache *tc = tlscache_new(8);
	struct address a = https("a.example", 443, "a.example"), b;
	SSL_SESSION *s = mksession(1);

	ck_assert_ptr_null(tlscache_get(tc, &a));
	tlscache_put(tc, &a, s);
	ck_assert_ptr_eq(tlscache_get(tc, &a), s);

	b = https("b.example", 443, "b.example");
	ck_assert_msg(tlscache_get(tc, &b) == NULL, "another host");
	b = https("a.example", 8443, "a.example");
	ck_assert_msg(tlscache_get(tc, &b) == NULL, "another port");
	/* Envoy #46243: the same origin reached under another name */
	b = https("a.example", 443, "b.example");
	ck_assert_msg(tlscache_get(tc, &b) == NULL, "another SNI name");
	b = a;
	b.tls.verify = false;
	ck_assert_msg(tlscache_get(tc, &b) == NULL,
	    "an unverified session is never offered to a verified profile");
	b = a;
	strcpy(b.tls.ca_file, "/etc/other.pem");
	ck_assert_msg(tlscache_get(tc, &b) == NULL, "another CA set");
	ck_assert_uint_eq(tlscache_size(tc), 1);
	tlscache_free(tc);
}
END_TEST

START_TEST(latest_replaces)
{
	struct tlscache *tc = tlscache_new(8);
	struct address a = https("a.example", 443, "a.example");
	SSL_SESSION *s1 = mksession(1), *s2 = mksession(2);

	tlscache_put(tc, &a, s1);
	tlscache_put(tc, &a, s2);
	ck_assert_ptr_eq(tlscache_get(tc, &a), s2);
	ck_assert_uint_eq(tlscache_size(tc), 1);
	tlscache_drop(tc, &a);
	ck_assert_ptr_null(tlscache_get(tc, &a));
	ck_assert_uint_eq(tlscache_size(tc), 0);
	tlscache_drop(tc, &a);
	tlscache_free(tc);
}
END_TEST

START_TEST(not_resumable_dropped)
{
	struct tlscache *tc = tlscache_new(8);
	struct address a = https("a.example", 443, "a.example");

	/* No id and no ticket: nothing to resume with. */
	tlscache_put(tc, &a, SSL_SESSION_new());
	ck_assert_uint_eq(tlscache_size(tc), 1);
	ck_assert_ptr_null(tlscache_get(tc, &a));
	ck_assert_uint_eq(tlscache_size(tc), 0);
	tlscache_free(tc);
}
END_TEST

START_TEST(full_evicts_oldest)
{
	struct tlscache *tc = tlscache_new(3);
	struct address a[4];
	SSL_SESSION *s[4];
	char host[16];

	for (int i = 0; i < 4; i++) {
		snprintf(host, sizeof(host), "h%d.example", i);
		a[i] = https(host, 443, host);
		s[i] = mksession((unsigned char)i);
	}
	tlscache_put(tc, &a[0], s[0]);
	tlscache_put(tc, &a[1], s[1]);
	tlscache_put(tc, &a[2], s[2]);
	/* a[0] gets a newer session: a[1]'s is the oldest now */
	tlscache_put(tc, &a[0], mksession(9));
	tlscache_put(tc, &a[3], s[3]);
	ck_assert_uint_eq(tlscache_size(tc), 3);
	ck_assert_ptr_null(tlscache_get(tc, &a[1]));
	ck_assert_ptr_nonnull(tlscache_get(tc, &a[0]));
	ck_assert_ptr_eq(tlscache_get(tc, &a[2]), s[2]);
	ck_assert_ptr_eq(tlscache_get(tc, &a[3]), s[3]);
	tlscache_free(tc);
}
END_TEST

START_TEST(many_addresses)
{
	struct tlscache *tc = tlscache_new(64);
	char host[32];

	for (int i = 0; i < 1000; i++) {
		struct address a;

		snprintf(host, sizeof(host), "h%d.example", i);
		a = https(host, (uint16_t)(443 + i % 3), host);
		tlscache_put(tc, &a, mksession((unsigned char)i));
		ck_assert_ptr_nonnull(tlscache_get(tc, &a));
	}
	ck_assert_uint_eq(tlscache_size(tc), 64);
	tlscache_free(tc);
	ck_assert_ptr_null(tlscache_new(0));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tlscache");
	TCase *tc = tcase_create("tlscache");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, per_whole_address);
	tcase_add_test(tc, latest_replaces);
	tcase_add_test(tc, not_resumable_dropped);
	tcase_add_test(tc, full_evicts_oldest);
	tcase_add_test(tc, many_addresses);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
