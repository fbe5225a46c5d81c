/*
 * test_owner.c - unit tests of lib/owner.c: the owner token starts with one
 * reference, is freed with the last (ASan's leak check proves both ways),
 * survives being killed, and keeps a "METHOD TARGET" text cut to fit.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "owner.h"

#define WHAT_MAX ((int)sizeof(((struct owner *)0)->what) - 1)

START_TEST(test_new)
{
	struct owner *o = owner_new("GET", "http://a/x", 1700000000123456);

	ck_assert_msg(o != NULL, "owner_new failed");
	ck_assert_int_eq(o->refs, 1);
	ck_assert_msg(!o->dead, "a new token is alive");
	ck_assert_msg(o->started_wall == 1700000000123456,
	    "started_wall kept: %lld", (long long)o->started_wall);
	ck_assert_str_eq(o->what, "GET http://a/x");
	owner_unref(o);
}
END_TEST

START_TEST(test_new_null_parts)
{
	struct owner *o = owner_new(NULL, NULL, 0);

	ck_assert_msg(o != NULL, "owner_new failed");
	ck_assert_str_eq(o->what, "- -");
	ck_assert_msg(o->started_wall == 0, "started_wall kept at 0");
	owner_unref(o);
}
END_TEST

START_TEST(test_refcount)
{
	struct owner *o = owner_new("POST", "http://a/", 5);

	ck_assert_msg(o != NULL, "owner_new failed");
	owner_ref(o);
	owner_ref(o);
	ck_assert_int_eq(o->refs, 3);
	owner_unref(o);
	ck_assert_int_eq(o->refs, 2);
	owner_unref(o);
	ck_assert_int_eq(o->refs, 1);
	ck_assert_str_eq(o->what, "POST http://a/");
	/* the last one frees: ASan reports a leak if it does not */
	owner_unref(o);
}
END_TEST

START_TEST(test_unref_null)
{
	owner_unref(NULL);
	ck_assert_msg(1, "owner_unref(NULL) returns");
}
END_TEST

START_TEST(test_kill)
{
	struct owner *o = owner_new("GET", "http://a/", 42);

	ck_assert_msg(o != NULL, "owner_new failed");
	owner_ref(o);
	owner_kill(o);
	ck_assert_msg(o->dead, "killed token is dead");
	ck_assert_int_eq(o->refs, 2);
	/* the request's own reference goes; the allocation's still reads it */
	owner_unref(o);
	ck_assert_msg(o->dead, "still dead with one reference left");
	ck_assert_int_eq(o->refs, 1);
	ck_assert_str_eq(o->what, "GET http://a/");
	ck_assert_msg(o->started_wall == 42, "started_wall survives the kill");
	owner_unref(o);
}
END_TEST

START_TEST(test_long_target_cut)
{
	char target[4096];
	struct owner *o;

	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	memcpy(target, "http://", 7);
	o = owner_new("GET", target, 0);
	ck_assert_msg(o != NULL, "owner_new failed");
	ck_assert_int_eq((int)strlen(o->what), WHAT_MAX);
	ck_assert_msg(strncmp(o->what, "GET http://xxx", 14) == 0,
	    "the cut keeps the start: \"%.20s\"", o->what);
	ck_assert_msg(strspn(o->what + 11, "x") == (size_t)WHAT_MAX - 11,
	    "the rest is the target's own bytes");
	owner_unref(o);
}
END_TEST

START_TEST(test_exact_fit)
{
	char target[WHAT_MAX + 1];
	struct owner *o;

	/* "GET " + target fills what[] exactly: nothing is cut */
	memset(target, 'y', (size_t)WHAT_MAX - 4);
	target[WHAT_MAX - 4] = '\0';
	o = owner_new("GET", target, 0);
	ck_assert_msg(o != NULL, "owner_new failed");
	ck_assert_int_eq((int)strlen(o->what), WHAT_MAX);
	ck_assert_msg(strcmp(o->what + 4, target) == 0, "whole target kept");
	owner_unref(o);

	/* one byte more is cut by exactly one byte */
	target[WHAT_MAX - 4] = 'z';
	target[WHAT_MAX - 3] = '\0';
	o = owner_new("GET", target, 0);
	ck_assert_msg(o != NULL, "owner_new failed");
	ck_assert_int_eq((int)strlen(o->what), WHAT_MAX);
	ck_assert_msg(o->what[WHAT_MAX - 1] == 'y', "the extra 'z' is cut");
	owner_unref(o);
}
END_TEST

/* The owner suite: one case per behaviour. */
static Suite *
owner_suite(void)
{
	Suite *s = suite_create("owner");
	TCase *tc;

	tc = tcase_create("new");
	tcase_add_test(tc, test_new);
	suite_add_tcase(s, tc);
	tc = tcase_create("new_null_parts");
	tcase_add_test(tc, test_new_null_parts);
	suite_add_tcase(s, tc);
	tc = tcase_create("refcount");
	tcase_add_test(tc, test_refcount);
	suite_add_tcase(s, tc);
	tc = tcase_create("unref_null");
	tcase_add_test(tc, test_unref_null);
	suite_add_tcase(s, tc);
	tc = tcase_create("kill");
	tcase_add_test(tc, test_kill);
	suite_add_tcase(s, tc);
	tc = tcase_create("long_target_cut");
	tcase_add_test(tc, test_long_target_cut);
	suite_add_tcase(s, tc);
	tc = tcase_create("exact_fit");
	tcase_add_test(tc, test_exact_fit);
	suite_add_tcase(s, tc);
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(owner_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
