/*
 * test_clock.c - unit tests of lib/clock.c: the monotonic clock never goes
 * back, durations convert to the struct timeval libevent wants (negative
 * ones clamp to zero), and wall times format as ISO 8601 UTC with
 * milliseconds.  No sleeps: only successive reads of the real clocks.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define N_READS 10000

START_TEST(test_now_monotonic)
{
	int64_t prev, cur;

	prev = clock_now();
	ck_assert_msg(prev >= 0, "monotonic time is not negative");
	for (int i = 0; i < N_READS; i++) {
		cur = clock_now();
		ck_assert_msg(cur >= prev,
		    "clock_now went back: %lld after %lld",
		    (long long)cur, (long long)prev);
		prev = cur;
	}
}
END_TEST

START_TEST(test_wall_plausible)
{
	int64_t w = clock_wall();

	/* 2020-01-01 and 2100-01-01: catches seconds or nanoseconds units */
	ck_assert_msg(w > INT64_C(1577836800) * USEC_PER_SEC,
	    "wall clock in usec after 2020: %lld", (long long)w);
	ck_assert_msg(w < INT64_C(4102444800) * USEC_PER_SEC,
	    "wall clock in usec before 2100: %lld", (long long)w);
}
END_TEST

/* Asserts the conversion of one duration. */
static void
check_timeval(int64_t usec, long sec, long us)
{
	struct timeval tv = clock_to_timeval(usec);

	ck_assert_msg(tv.tv_sec == sec && tv.tv_usec == us,
	    "clock_to_timeval(%lld) = {%ld, %ld}, expected {%ld, %ld}",
	    (long long)usec, (long)tv.tv_sec, (long)tv.tv_usec, sec, us);
}

START_TEST(test_to_timeval)
{
	check_timeval(0, 0, 0);
	check_timeval(1, 0, 1);
	check_timeval(999999, 0, 999999);
	check_timeval(USEC_PER_SEC, 1, 0);
	check_timeval(1500000, 1, 500000);
	check_timeval(3600 * USEC_PER_SEC + 7, 3600, 7);
}
END_TEST

START_TEST(test_to_timeval_negative)
{
	check_timeval(-1, 0, 0);
	check_timeval(-1500000, 0, 0);
	check_timeval(INT64_MIN, 0, 0);
}
END_TEST

/* Asserts the formatting of one wall time into a roomy buffer. */
static void
check_iso(int64_t wall, const char *expected)
{
	char buf[64];

	memset(buf, 'X', sizeof(buf));
	clock_format_iso(wall, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, expected) == 0,
	    "clock_format_iso(%lld) = \"%s\", expected \"%s\"",
	    (long long)wall, buf, expected);
}

START_TEST(test_format_iso)
{
	check_iso(0, "1970-01-01T00:00:00.000Z");
	check_iso(1700000000123456, "2023-11-14T22:13:20.123Z");
	check_iso(1709164800000000, "2024-02-29T00:00:00.000Z");
	/* Before 1970 the fraction counts up from the earlier second. */
	check_iso(-1500000, "1969-12-31T23:59:58.500Z");
	check_iso(-1, "1969-12-31T23:59:59.999Z");
}
END_TEST

START_TEST(test_format_iso_millis_truncate)
{
	/* microseconds are cut to milliseconds, never rounded up */
	check_iso(999, "1970-01-01T00:00:00.000Z");
	check_iso(1999, "1970-01-01T00:00:00.001Z");
	check_iso(999999, "1970-01-01T00:00:00.999Z");
	check_iso(1700000000999999, "2023-11-14T22:13:20.999Z");
}
END_TEST

START_TEST(test_format_iso_small_buffer)
{
	char buf[11];

	memset(buf, 'X', sizeof(buf));
	clock_format_iso(1700000000123456, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, "2023-11-14") == 0,
	    "a short buffer gets the cut, terminated text: \"%.11s\"", buf);
}
END_TEST

/* The clock suite: one case per behaviour. */
static Suite *
clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc;

	tc = tcase_create("now_monotonic");
	tcase_add_test(tc, test_now_monotonic);
	suite_add_tcase(s, tc);
	tc = tcase_create("wall_plausible");
	tcase_add_test(tc, test_wall_plausible);
	suite_add_tcase(s, tc);
	tc = tcase_create("to_timeval");
	tcase_add_test(tc, test_to_timeval);
	suite_add_tcase(s, tc);
	tc = tcase_create("to_timeval_negative");
	tcase_add_test(tc, test_to_timeval_negative);
	suite_add_tcase(s, tc);
	tc = tcase_create("format_iso");
	tcase_add_test(tc, test_format_iso);
	suite_add_tcase(s, tc);
	tc = tcase_create("format_iso_millis_truncate");
	tcase_add_test(tc, test_format_iso_millis_truncate);
	suite_add_tcase(s, tc);
	tc = tcase_create("format_iso_small_buffer");
	tcase_add_test(tc, test_format_iso_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(clock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
