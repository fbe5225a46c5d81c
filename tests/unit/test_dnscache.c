/*
 * test_dnscache.c - unit tests of lib/dnscache.c: hits, expiry, ports kept
 * apart, replacement, and what goes when the cache is full.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "dnscache.h"

/* A route to 192.0.2.last:port. */
static struct route
mkroute(int last, uint16_t port)
{
	struct sockaddr_in sin;
	struct route r;
	char ip[32];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	snprintf(ip, sizeof(ip), "192.0.2.%d", last);
	ck_assert_msg(inet_pton(AF_INET, ip, &sin.sin_addr) == 1, "inet_pton");
	ck_assert_msg(route_from_sockaddr(&r, (struct sockaddr *)&sin,
	    sizeof(sin)) == 0, "route_from_sockaddr");
	return r;
}

START_TEST(hit_and_expiry)
{
	struct dnscache *dc = dnscache_new(8);
	struct route in[2] = { mkroute(1, 80), mkroute(2, 80) }, out[4];

	ck_assert_msg(dnscache_get(dc, "a.example", 80, out, 4, 0) == 0,
	    "empty cache: a miss");
	dnscache_put(dc, "a.example", 80, in, 2, 100, 0);
	ck_assert_msg(dnscache_get(dc, "a.example", 80, out, 4, 99) == 2,
	    "both routes before expiry");
	ck_assert_msg(route_equal(&out[0], &in[0]) && route_equal(&out[1], &in[1]),
	    "the routes in their order");
	ck_assert_msg(dnscache_get(dc, "a.example", 80, out, 1, 99) == 1,
	    "no more than max routes");
	ck_assert_msg(dnscache_get(dc, "a.example", 80, out, 4, 100) == 0,
	    "a miss at the expiry time");
	ck_assert_msg(dnscache_size(dc) == 0, "the expired entry was dropped");
	dnscache_free(dc);
}
END_TEST

START_TEST(ports_and_names_apart)
{
	struct dnscache *dc = dnscache_new(8);
	struct route r80 = mkroute(1, 80), r8080 = mkroute(1, 8080), out[2];

	dnscache_put(dc, "a.example", 80, &r80, 1, 100, 0);
	ck_assert_msg(dnscache_get(dc, "a.example", 8080, out, 2, 0) == 0,
	    "another port is another entry");
	ck_assert_msg(dnscache_get(dc, "b.example", 80, out, 2, 0) == 0,
	    "another name is another entry");
	dnscache_put(dc, "a.example", 8080, &r8080, 1, 100, 0);
	ck_assert_msg(dnscache_get(dc, "a.example", 8080, out, 2, 0) == 1 &&
	    route_equal(&out[0], &r8080), "port 8080's route");
	ck_assert_msg(dnscache_get(dc, "a.example", 80, out, 2, 0) == 1 &&
	    route_equal(&out[0], &r80), "port 80's route unchanged");
	ck_assert_int_eq(dnscache_size(dc), 2);
	dnscache_free(dc);
}
END_TEST

START_TEST(replace)
{
	struct dnscache *dc = dnscache_new(8);
	struct route old = mkroute(1, 80), new = mkroute(9, 80), out[2];

	dnscache_put(dc, "a.example", 80, &old, 1, 50, 0);
	dnscache_put(dc, "a.example", 80, &new, 1, 200, 10);
	ck_assert_int_eq(dnscache_size(dc), 1);
	ck_assert_msg(dnscache_get(dc, "a.example", 80, out, 2, 100) == 1 &&
	    route_equal(&out[0], &new), "the newer answer and its expiry");
	dnscache_put(dc, "a.example", 80, &new, 0, 500, 10);
	ck_assert_msg(dnscache_get(dc, "a.example", 80, out, 2, 100) == 1,
	    "an empty answer changes nothing");
	dnscache_free(dc);
}
END_TEST

START_TEST(full)
{
	struct dnscache *dc = dnscache_new(3);
	struct route r = mkroute(1, 80), out[1];

	dnscache_put(dc, "a", 80, &r, 1, 100, 0);
	dnscache_put(dc, "b", 80, &r, 1, 300, 0);
	dnscache_put(dc, "c", 80, &r, 1, 200, 0);
	dnscache_put(dc, "d", 80, &r, 1, 400, 10);
	ck_assert_int_eq(dnscache_size(dc), 3);
	ck_assert_msg(dnscache_get(dc, "a", 80, out, 1, 10) == 0,
	    "full: the entry that expires soonest went");
	ck_assert_msg(dnscache_get(dc, "b", 80, out, 1, 10) == 1 &&
	    dnscache_get(dc, "c", 80, out, 1, 10) == 1 &&
	    dnscache_get(dc, "d", 80, out, 1, 10) == 1, "the others stay");

	/* At 250, c has expired: it makes the room, b stays. */
	dnscache_put(dc, "e", 80, &r, 1, 500, 250);
	ck_assert_msg(dnscache_get(dc, "b", 80, out, 1, 250) == 1,
	    "a live entry stays while an expired one can go");
	ck_assert_msg(dnscache_get(dc, "e", 80, out, 1, 250) == 1, "e is in");
	ck_assert_int_eq(dnscache_size(dc), 3);
	dnscache_free(dc);
}
END_TEST

START_TEST(many_names)
{
	struct dnscache *dc = dnscache_new(2000);
	struct route r = mkroute(1, 80), out[1];
	char name[32];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "h%d.example", i);
		dnscache_put(dc, name, 80, &r, 1, 100, 0);
	}
	ck_assert_int_eq(dnscache_size(dc), 1000);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "h%d.example", i);
		ck_assert_msg(dnscache_get(dc, name, 80, out, 1, 0) == 1,
		    "entry %d found", i);
	}
	dnscache_free(dc);
}
END_TEST

static Suite *
dnscache_suite(void)
{
	Suite *s = suite_create("dnscache");
	TCase *tc = tcase_create("dnscache");

	tcase_add_test(tc, hit_and_expiry);
	tcase_add_test(tc, ports_and_names_apart);
	tcase_add_test(tc, replace);
	tcase_add_test(tc, full);
	tcase_add_test(tc, many_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dnscache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
