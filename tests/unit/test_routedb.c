/*
 * test_routedb.c - unit tests of lib/routedb.c: failed routes go last,
 * least recently failed first, until they connect again or expire.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "routedb.h"

#define TTL 60

static struct routedb *db;

/* A fresh database with a TTL of 60 ticks. */
static void
setup(void)
{
	db = routedb_new(TTL);
	ck_assert_msg(db != NULL, "routedb_new failed");
}

/* Frees the fixture database. */
static void
teardown(void)
{
	routedb_free(db);
	db = NULL;
}

/* 192.0.2.<last>:80 */
static struct route
r4(int last)
{
	struct sockaddr_in sin;
	struct route r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(80);
	sin.sin_addr.s_addr = htonl(0xc0000200u | (uint32_t)last);
	ck_assert_int_eq(route_from_sockaddr(&r, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	return r;
}

/* Which route of r4() sits at routes[i]. */
static int
last_of(const struct route *r)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&r->addr;

	return (int)(ntohl(sin->sin_addr.s_addr) & 0xff);
}

START_TEST(test_postpone)
{
	struct route a = r4(1), b = r4(2);

	ck_assert_msg(!routedb_should_postpone(db, &a, 0), "empty db");
	routedb_failed(db, &a, 10);
	ck_assert_msg(routedb_should_postpone(db, &a, 10), "a failed");
	ck_assert_msg(!routedb_should_postpone(db, &b, 10), "b did not fail");
	ck_assert_uint_eq(routedb_size(db, 10), 1);
}
END_TEST

START_TEST(test_order)
{
	struct route routes[5];

	for (int i = 0; i < 5; i++)
		routes[i] = r4(i + 1);
	routedb_failed(db, &routes[3], 20);	/* .4 failed later */
	routedb_failed(db, &routes[0], 10);	/* .1 failed first */
	routedb_order(db, routes, 5, 30);
	ck_assert_int_eq(last_of(&routes[0]), 2);
	ck_assert_int_eq(last_of(&routes[1]), 3);
	ck_assert_int_eq(last_of(&routes[2]), 5);
	ck_assert_int_eq(last_of(&routes[3]), 1);
	ck_assert_int_eq(last_of(&routes[4]), 4);
}
END_TEST

START_TEST(test_order_untouched)
{
	struct route routes[3], other = r4(9);

	for (int i = 0; i < 3; i++)
		routes[i] = r4(i + 1);
	/* the db holds an entry, just none for these routes */
	routedb_failed(db, &other, 0);
	routedb_failed(db, &routes[0], 0);
	routedb_connected(db, &routes[0]);
	routedb_order(db, routes, 3, 5);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(last_of(&routes[i]) == i + 1,
		    "no live entry: order kept at %d", i);
}
END_TEST

START_TEST(test_refresh)
{
	struct route a = r4(1), b = r4(2);
	struct route routes[2];

	routedb_failed(db, &a, 0);
	routedb_failed(db, &b, 10);
	routedb_failed(db, &a, 20);	/* a fails again: now the most recent */
	ck_assert_uint_eq(routedb_size(db, 20), 2);
	routes[0] = a;
	routes[1] = b;
	routedb_order(db, routes, 2, 20);
	ck_assert_int_eq(last_of(&routes[0]), 2);
	ck_assert_int_eq(last_of(&routes[1]), 1);

	/* the refresh also restarts a's TTL */
	ck_assert_msg(routedb_should_postpone(db, &a, 20 + TTL - 1),
	    "refreshed entry still live");
	ck_assert_msg(!routedb_should_postpone(db, &b, 10 + TTL),
	    "b expired");
}
END_TEST

START_TEST(test_success_clears)
{
	struct route a = r4(1);

	routedb_failed(db, &a, 0);
	routedb_connected(db, &a);
	ck_assert_msg(!routedb_should_postpone(db, &a, 1), "connected clears");
	ck_assert_uint_eq(routedb_size(db, 1), 0);
	routedb_connected(db, &a);
	ck_assert_uint_eq(routedb_size(db, 1), 0);
}
END_TEST

START_TEST(test_ttl)
{
	struct route a = r4(1), b = r4(2);

	routedb_failed(db, &a, 0);
	routedb_failed(db, &b, 30);
	ck_assert_msg(routedb_should_postpone(db, &a, TTL - 1), "a live");
	ck_assert_msg(!routedb_should_postpone(db, &a, TTL), "a expired");
	ck_assert_uint_eq(routedb_size(db, TTL), 1);
	ck_assert_uint_eq(routedb_size(db, 30 + TTL), 0);

	routedb_failed(db, &a, 100);
	routedb_set_ttl(db, 10);
	ck_assert_msg(!routedb_should_postpone(db, &a, 110),
	    "a shorter TTL applies to existing entries");
}
END_TEST

START_TEST(test_many)
{
	struct route r;

	/* more than the initial capacity: the array grows */
	for (int i = 0; i < 40; i++) {
		r = r4(i);
		routedb_failed(db, &r, i);
	}
	ck_assert_uint_eq(routedb_size(db, 40), 40);
	r = r4(39);
	ck_assert_msg(routedb_should_postpone(db, &r, 40), "last one kept");
}
END_TEST

/* One TCase per behaviour. */
static void
add_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

/* The routedb suite. */
static Suite *
routedb_suite(void)
{
	Suite *s = suite_create("routedb");

	add_case(s, "postpone", test_postpone);
	add_case(s, "order", test_order);
	add_case(s, "order_untouched", test_order_untouched);
	add_case(s, "refresh", test_refresh);
	add_case(s, "success_clears", test_success_clears);
	add_case(s, "ttl", test_ttl);
	add_case(s, "many", test_many);
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(routedb_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
