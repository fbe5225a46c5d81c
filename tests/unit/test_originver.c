/*
 * test_originver.c - unit tests of lib/originver.c: an origin heard in
 * HTTP/1.0 is remembered until it answers in HTTP/1.1, origins differing
 * in host, port or scheme are kept apart, and a full table forgets.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "address.h"
#include "originver.h"

static struct address
addr(const char *scheme, const char *host, uint16_t port)
{
	struct address a;

	ck_assert_int_eq(address_init(&a, scheme, host, port), 0);
	a.tls.tls = scheme[4] == 's';
	return a;
}

START_TEST(remembered_then_forgotten)
{
	struct originver *ov = originver_new(16);
	struct address a = addr("http", "old.example", 80);

	ck_assert(!originver_is_http10(ov, &a));
	originver_note(ov, &a, 0);
	ck_assert(originver_is_http10(ov, &a));
	originver_note(ov, &a, 0);
	ck_assert(originver_is_http10(ov, &a));
	originver_note(ov, &a, 1);
	ck_assert_msg(!originver_is_http10(ov, &a), "an HTTP/1.1 answer clears it");
	originver_free(ov);
}
END_TEST

START_TEST(origins_apart)
{
	struct originver *ov = originver_new(1024);
	struct address a = addr("http", "old.example", 80);
	struct address port = addr("http", "old.example", 8080);
	struct address host = addr("http", "new.example", 80);
	struct address https = addr("https", "old.example", 80);

	originver_note(ov, &a, 0);
	ck_assert(!originver_is_http10(ov, &port));
	ck_assert(!originver_is_http10(ov, &host));
	ck_assert(!originver_is_http10(ov, &https));
	/* An HTTP/1.1 answer elsewhere does not clear it. */
	originver_note(ov, &host, 1);
	ck_assert(originver_is_http10(ov, &a));
	originver_free(ov);
}
END_TEST

START_TEST(full_table_forgets)
{
	struct originver *ov = originver_new(1);
	struct address a = addr("http", "a.example", 80);
	struct address b = addr("http", "b.example", 80);

	originver_note(ov, &a, 0);
	originver_note(ov, &b, 0);
	ck_assert(originver_is_http10(ov, &b));
	ck_assert_msg(!originver_is_http10(ov, &a), "a newcomer takes the slot");
	/* Forgetting b leaves an empty slot, not a. */
	originver_note(ov, &a, 1);
	ck_assert(originver_is_http10(ov, &b));
	originver_free(ov);
	ck_assert_msg((ov = originver_new(0)) != NULL, "0 slots: one");
	originver_note(ov, &a, 0);
	ck_assert(originver_is_http10(ov, &a));
	originver_free(ov);
}
END_TEST

static Suite *
originver_suite(void)
{
	Suite *s = suite_create("originver");
	TCase *tc = tcase_create("originver");

	tcase_add_test(tc, remembered_then_forgotten);
	tcase_add_test(tc, origins_apart);
	tcase_add_test(tc, full_table_forgets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(originver_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
