/*
 * test_method.c - unit tests of lib/method.c: the nine methods evhttp
 * knows by name, their names, and which are idempotent (RFC 9110 9.2.2).
 */
#include <check.h>
#include <stdlib.h>

#include <event2/http.h>

#include "method.h"

START_TEST(known_and_named)
{
	static const struct {
		int type;
		const char *name;
		bool idempotent;
	} m[] = {
		{ EVHTTP_REQ_GET, "GET", true },
		{ EVHTTP_REQ_POST, "POST", false },
		{ EVHTTP_REQ_HEAD, "HEAD", true },
		{ EVHTTP_REQ_PUT, "PUT", true },
		{ EVHTTP_REQ_DELETE, "DELETE", true },
		{ EVHTTP_REQ_OPTIONS, "OPTIONS", true },
		{ EVHTTP_REQ_TRACE, "TRACE", true },
		{ EVHTTP_REQ_CONNECT, "CONNECT", false },
		{ EVHTTP_REQ_PATCH, "PATCH", false },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		ck_assert(method_known(m[i].type));
		ck_assert_str_eq(method_name(m[i].type), m[i].name);
		ck_assert_int_eq(method_idempotent(m[i].type), m[i].idempotent);
	}
}
END_TEST

/* evhttp's "unknown" (an extension method): not known, never idempotent. */
START_TEST(unknown)
{
	ck_assert(!method_known(0));
	ck_assert_str_eq(method_name(0), "-");
	ck_assert(!method_idempotent(0));
	ck_assert(!method_known(1 << 20));
	ck_assert_str_eq(method_name(1 << 20), "-");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("method");
	TCase *tc = tcase_create("method");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, known_and_named);
	tcase_add_test(tc, unknown);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
