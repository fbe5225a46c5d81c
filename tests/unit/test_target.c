/*
 * test_target.c - unit tests for lib/target.c: every accepted form of a
 * request-target and each reason one is refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

/* Parses uri as an ordinary (GET) target and asserts that it succeeds. */
static void
parse_ok(struct target *t, const char *uri)
{
	const char *why = NULL;

	ck_assert_msg(target_parse(t, uri, false, false, &why) == 0,
	    "\"%s\" should parse, got: %s", uri, why ? why : "(null)");
}

/* Asserts that uri is refused with a reason and leaves nothing allocated. */
static void
parse_bad(const char *uri, bool is_connect, bool is_options)
{
	struct target t;
	const char *why = NULL;

	ck_assert_msg(target_parse(&t, uri, is_connect, is_options, &why) == -1,
	    "\"%s\" should be refused", uri);
	ck_assert_msg(why != NULL && *why != '\0',
	    "\"%s\" refused without a reason", uri);
	ck_assert_msg(t.path == NULL && t.authority == NULL,
	    "\"%s\" refused but memory left in the target", uri);
}

START_TEST(test_absolute_http)
{
	struct target t;

	parse_ok(&t, "http://example.com/index.html?a=1&b=2");
	ck_assert_int_eq(t.form, TARGET_ABSOLUTE);
	ck_assert_str_eq(t.scheme, "http");
	ck_assert_str_eq(t.host, "example.com");
	ck_assert_uint_eq(t.port, 80);
	ck_assert_msg(!t.port_given, "no port was given");
	ck_assert_str_eq(t.path, "/index.html?a=1&b=2");
	ck_assert_str_eq(t.authority, "example.com");
	target_clear(&t);
}
END_TEST

START_TEST(test_absolute_https_port)
{
	struct target t;

	parse_ok(&t, "https://example.com:8443/x");
	ck_assert_str_eq(t.scheme, "https");
	ck_assert_uint_eq(t.port, 8443);
	ck_assert_msg(t.port_given, "port was given");
	ck_assert_str_eq(t.path, "/x");
	ck_assert_str_eq(t.authority, "example.com:8443");
	target_clear(&t);

	parse_ok(&t, "https://example.com/");
	ck_assert_uint_eq(t.port, 443);
	ck_assert_str_eq(t.authority, "example.com");
	target_clear(&t);
}
END_TEST

START_TEST(test_default_port_given)
{
	struct target t;

	parse_ok(&t, "http://example.com:80/");
	ck_assert_uint_eq(t.port, 80);
	ck_assert_msg(t.port_given, "an explicit :80 counts as given");
	ck_assert_str_eq(t.authority, "example.com:80");
	target_clear(&t);
}
END_TEST

START_TEST(test_empty_path)
{
	struct target t;

	parse_ok(&t, "http://example.com");
	ck_assert_str_eq(t.path, "/");
	target_clear(&t);

	parse_ok(&t, "http://example.com:8080");
	ck_assert_str_eq(t.path, "/");
	ck_assert_str_eq(t.authority, "example.com:8080");
	target_clear(&t);

	parse_ok(&t, "http://example.com?q=1");
	ck_assert_str_eq(t.path, "/?q=1");
	target_clear(&t);
}
END_TEST

START_TEST(test_path_byte_exact)
{
	struct target t;

	parse_ok(&t, "http://h/A/%2F/./../b;p?Q=%20&x=/?");
	ck_assert_str_eq(t.path, "/A/%2F/./../b;p?Q=%20&x=/?");
	target_clear(&t);
}
END_TEST

START_TEST(test_case_folding)
{
	struct target t;

	parse_ok(&t, "HTTP://Example.COM:8080/Path?Q=A");
	ck_assert_str_eq(t.scheme, "http");
	ck_assert_str_eq(t.host, "example.com");
	ck_assert_str_eq(t.authority, "example.com:8080");
	ck_assert_str_eq(t.path, "/Path?Q=A");
	target_clear(&t);

	parse_ok(&t, "hTTpS://WWW.x.ORG");
	ck_assert_str_eq(t.scheme, "https");
	ck_assert_str_eq(t.host, "www.x.org");
	target_clear(&t);
}
END_TEST

START_TEST(test_ipv4)
{
	struct target t;

	parse_ok(&t, "http://192.0.2.1:8080/");
	ck_assert_str_eq(t.host, "192.0.2.1");
	ck_assert_str_eq(t.authority, "192.0.2.1:8080");
	target_clear(&t);
}
END_TEST

START_TEST(test_ipv6)
{
	struct target t;

	parse_ok(&t, "http://[::1]:8080/a");
	ck_assert_str_eq(t.host, "::1");
	ck_assert_uint_eq(t.port, 8080);
	ck_assert_str_eq(t.authority, "[::1]:8080");
	ck_assert_str_eq(t.path, "/a");
	target_clear(&t);

	parse_ok(&t, "https://[2001:DB8::A]");
	ck_assert_str_eq(t.host, "2001:db8::a");
	ck_assert_uint_eq(t.port, 443);
	ck_assert_str_eq(t.authority, "[2001:db8::a]");
	ck_assert_str_eq(t.path, "/");
	target_clear(&t);
}
END_TEST

START_TEST(test_host_chars)
{
	struct target t;

	parse_ok(&t, "http://a-b_c~d.example/");
	ck_assert_str_eq(t.host, "a-b_c~d.example");
	target_clear(&t);
}
END_TEST

START_TEST(test_host_length)
{
	struct target t;
	char name[300], uri[320];

	memset(name, 'a', 253);
	name[253] = '\0';
	snprintf(uri, sizeof(uri), "http://%s/", name);
	parse_ok(&t, uri);
	ck_assert_uint_eq(strlen(t.host), 253);
	target_clear(&t);

	memset(name, 'a', 254);
	name[254] = '\0';
	snprintf(uri, sizeof(uri), "http://%s/", name);
	parse_bad(uri, false, false);
}
END_TEST

START_TEST(test_ports)
{
	struct target t;

	parse_ok(&t, "http://h:1/");
	ck_assert_uint_eq(t.port, 1);
	target_clear(&t);
	parse_ok(&t, "http://h:65535/");
	ck_assert_uint_eq(t.port, 65535);
	target_clear(&t);

	parse_bad("http://h:0/", false, false);
	parse_bad("http://h:65536/", false, false);
	parse_bad("http://h:/", false, false);
	parse_bad("http://h:+80/", false, false);
	parse_bad("http://h:-1/", false, false);
	parse_bad("http://h:0x50/", false, false);
	parse_bad("http://h:123456/", false, false);
	parse_bad("http://h:80:80/", false, false);
	parse_bad("http://[::1]:99999/", false, false);
}
END_TEST

START_TEST(test_connect)
{
	struct target t;
	const char *why = NULL;

	ck_assert_msg(target_parse(&t, "Example.com:443", true, false,
	    &why) == 0, "CONNECT host:port: %s", why);
	ck_assert_int_eq(t.form, TARGET_AUTHORITY);
	ck_assert_str_eq(t.scheme, "");
	ck_assert_str_eq(t.host, "example.com");
	ck_assert_uint_eq(t.port, 443);
	ck_assert_str_eq(t.authority, "example.com:443");
	target_clear(&t);

	ck_assert_msg(target_parse(&t, "[::1]:443", true, false, &why) == 0,
	    "CONNECT [v6]:port: %s", why);
	ck_assert_str_eq(t.host, "::1");
	ck_assert_str_eq(t.authority, "[::1]:443");
	target_clear(&t);

	parse_bad("example.com", true, false);
	parse_bad("[::1]", true, false);
	parse_bad("example.com:", true, false);
	parse_bad("http://example.com:443", true, false);
	parse_bad("/", true, false);
	parse_bad("*", true, false);
	parse_bad("example.com:443/", true, false);
	parse_bad("user@example.com:443", true, false);
}
END_TEST

START_TEST(test_authority_form_outside_connect)
{
	parse_bad("example.com:443", false, false);
}
END_TEST

START_TEST(test_origin_form)
{
	struct target t;

	parse_ok(&t, "/stats?x=1");
	ck_assert_int_eq(t.form, TARGET_ORIGIN);
	ck_assert_str_eq(t.path, "/stats?x=1");
	ck_assert_str_eq(t.host, "");
	ck_assert_str_eq(t.scheme, "");
	ck_assert_str_eq(t.authority, "");
	target_clear(&t);
}
END_TEST

START_TEST(test_asterisk)
{
	struct target t;
	const char *why = NULL;

	ck_assert_msg(target_parse(&t, "*", false, true, &why) == 0,
	    "OPTIONS *: %s", why);
	ck_assert_int_eq(t.form, TARGET_ASTERISK);
	ck_assert_str_eq(t.path, "*");
	target_clear(&t);

	parse_bad("*", false, false);

	ck_assert_msg(target_parse(&t, "http://h/", false, true, &why) == 0,
	    "OPTIONS with absolute-form: %s", why);
	ck_assert_int_eq(t.form, TARGET_ABSOLUTE);
	ck_assert_str_eq(t.path, "/");
	target_clear(&t);

	/* No path, no query: the server itself (RFC 9112 3.2.4). */
	ck_assert_int_eq(target_parse(&t, "http://h:81", false, true, &why), 0);
	ck_assert_str_eq(t.path, "*");
	ck_assert_str_eq(t.authority, "h:81");
	target_clear(&t);
	ck_assert_int_eq(target_parse(&t, "http://h?q", false, true, &why), 0);
	ck_assert_str_eq(t.path, "/?q");
	target_clear(&t);
	ck_assert_int_eq(target_parse(&t, "http://h", false, false, &why), 0);
	ck_assert_msg(strcmp(t.path, "/") == 0, "GET http://h is GET /");
	target_clear(&t);
}
END_TEST

START_TEST(test_rejects)
{
	parse_bad("", false, false);
	parse_bad("ftp://example.com/", false, false);
	parse_bad("httpx://example.com/", false, false);
	parse_bad("http:/example.com/", false, false);
	parse_bad("example.com/", false, false);
	parse_bad("http://", false, false);
	parse_bad("http:///path", false, false);
	parse_bad("http://:80/", false, false);
	parse_bad("http://user@example.com/", false, false);
	parse_bad("http://user:pw@example.com/", false, false);
	parse_bad("http://example.com/#frag", false, false);
	parse_bad("/a#b", false, false);
	parse_bad("http://exa mple.com/", false, false);
	parse_bad("http://example.com/a b", false, false);
	parse_bad("http://example.com/\x7f", false, false);
	parse_bad("http://example.com/\xc3\xa9", false, false);
	parse_bad("http://ex%41mple.com/", false, false);
	parse_bad("http://ex!ample.com/", false, false);
	parse_bad("http://.example.com/", false, false);
	parse_bad("http://a..b/", false, false);
}
END_TEST

START_TEST(test_rejects_ipv6)
{
	parse_bad("http://[::1/", false, false);
	parse_bad("http://[]/", false, false);
	parse_bad("http://[::g]/", false, false);
	parse_bad("http://[::1]x/", false, false);
	parse_bad("http://[fe80::1%25eth0]/", false, false);
	parse_bad("http://[v1.x]/", false, false);
	parse_bad("http://::1/", false, false);
}
END_TEST

START_TEST(test_rejects_ambiguous_ipv4)
{
	parse_bad("http://127.1/", false, false);
	parse_bad("http://2130706433/", false, false);
	parse_bad("http://0x7f.0.0.1/", false, false);
	parse_bad("http://127.0.0.0x1/", false, false);
	parse_bad("http://1.2.3.4.5/", false, false);
	parse_bad("http://256.1.1.1/", false, false);
}
END_TEST

START_TEST(test_clear_twice)
{
	struct target t;

	memset(&t, 0, sizeof(t));
	target_clear(&t);
	parse_ok(&t, "http://example.com/");
	target_clear(&t);
	target_clear(&t);
	ck_assert_msg(t.path == NULL && t.authority == NULL,
	    "target_clear leaves no pointers behind");
}
END_TEST

/* One test case per behaviour, each in its own process. */
static Suite *
target_suite(void)
{
	Suite *s = suite_create("target");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "absolute_http", test_absolute_http },
		{ "absolute_https_port", test_absolute_https_port },
		{ "default_port_given", test_default_port_given },
		{ "empty_path", test_empty_path },
		{ "path_byte_exact", test_path_byte_exact },
		{ "case_folding", test_case_folding },
		{ "ipv4", test_ipv4 },
		{ "ipv6", test_ipv6 },
		{ "host_chars", test_host_chars },
		{ "host_length", test_host_length },
		{ "ports", test_ports },
		{ "connect", test_connect },
		{ "authority_form_outside_connect",
		    test_authority_form_outside_connect },
		{ "origin_form", test_origin_form },
		{ "asterisk", test_asterisk },
		{ "rejects", test_rejects },
		{ "rejects_ipv6", test_rejects_ipv6 },
		{ "rejects_ambiguous_ipv4", test_rejects_ambiguous_ipv4 },
		{ "clear_twice", test_clear_twice },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

/* Exits non-zero when any check fails. */
int
main(void)
{
	SRunner *sr = srunner_create(target_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
