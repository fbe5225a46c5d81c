/*
 * test_address.c - unit tests of lib/address.c: what makes two requests
 * share a connection (every field counts), case folding, hashing,
 * formatting, and the inputs address_init() refuses.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

/* An address that must init cleanly. */
static struct address
mk(const char *scheme, const char *host, uint16_t port)
{
	struct address a;

	ck_assert_int_eq(address_init(&a, scheme, host, port), 0);
	return a;
}

START_TEST(test_equal_fields)
{
	struct address a = mk("http", "example.com", 80), b;

	b = mk("http", "example.com", 80);
	ck_assert_msg(address_equal(&a, &b), "same fields are equal");
	ck_assert_uint_eq(address_hash(&a), address_hash(&b));

	b = mk("https", "example.com", 80);
	ck_assert_msg(!address_equal(&a, &b), "scheme counts");
	b = mk("http", "example.org", 80);
	ck_assert_msg(!address_equal(&a, &b), "host counts");
	b = mk("http", "example.com", 8080);
	ck_assert_msg(!address_equal(&a, &b), "port counts");
	b = mk("http", "example.com", 80);
	b.tls.tls = true;
	ck_assert_msg(!address_equal(&a, &b), "tls counts");
	b = mk("http", "example.com", 80);
	b.tls.verify = true;
	ck_assert_msg(!address_equal(&a, &b), "verify counts");
	b = mk("http", "example.com", 80);
	strcpy(b.tls.ca_file, "/etc/ferryd/ca.pem");
	ck_assert_msg(!address_equal(&a, &b), "CA set counts");
	b = mk("http", "example.com", 80);
	strcpy(b.tls.sni, "example.com");
	ck_assert_msg(!address_equal(&a, &b), "SNI name counts");
	b = mk("http", "example.com", 80);
	strcpy(b.tls.alpn, "http/1.1");
	ck_assert_msg(!address_equal(&a, &b), "ALPN offer counts");

	/* Two CA paths a 32-bit hash could confuse are told apart in full. */
	a = mk("https", "example.com", 443);
	b = a;
	strcpy(a.tls.ca_file, "/a/ca.pem");
	strcpy(b.tls.ca_file, "/a/ca.pem ");
	ck_assert_msg(!address_equal(&a, &b), "CA paths compared in full");
}
END_TEST

START_TEST(test_case_folding)
{
	struct address a = mk("HTTPS", "WWW.Example.COM", 443);
	struct address b = mk("https", "www.example.com", 443);

	ck_assert_str_eq(a.scheme, "https");
	ck_assert_str_eq(a.host, "www.example.com");
	ck_assert_msg(address_equal(&a, &b), "case does not matter");
	ck_assert_uint_eq(address_hash(&a), address_hash(&b));
}
END_TEST

START_TEST(test_hash)
{
	struct address a = mk("http", "example.com", 80);
	struct address b = mk("http", "example.com", 80);

	/* garbage after the NUL must not change equality or the hash */
	memset(b.host + strlen(b.host) + 1, 'x', 10);
	ck_assert_msg(address_equal(&a, &b), "bytes past the NUL ignored");
	ck_assert_uint_eq(address_hash(&a), address_hash(&b));

	b = mk("http", "example.com", 81);
	ck_assert_msg(address_hash(&a) != address_hash(&b), "port hashed");
	b = mk("http", "example.com", 80);
	strcpy(b.tls.ca_file, "/ca.pem");
	ck_assert_msg(address_hash(&a) != address_hash(&b), "CA file hashed");
	b = mk("http", "example.com", 80);
	strcpy(b.tls.sni, "example.com");
	ck_assert_msg(address_hash(&a) != address_hash(&b), "SNI hashed");
	/* the strings are separated: ("x", "") differs from ("", "x") */
	a = mk("http", "example.com", 80);
	b = a;
	strcpy(a.tls.sni, "x");
	strcpy(b.tls.alpn, "x");
	ck_assert_msg(address_hash(&a) != address_hash(&b), "fields separated");
}
END_TEST

START_TEST(test_format)
{
	char buf[300];
	struct address a;

	a = mk("http", "example.com", 80);
	address_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "http://example.com:80");
	a = mk("https", "192.0.2.1", 8443);
	address_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "https://192.0.2.1:8443");
	a = mk("http", "::1", 8080);
	address_format(&a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "http://[::1]:8080");
	address_format(&a, buf, 8);
	ck_assert_str_eq(buf, "http://");
}
END_TEST

START_TEST(test_bad_input)
{
	struct address a;
	char host[ADDRESS_HOST_MAX + 1];

	ck_assert_int_eq(address_init(&a, "http", "", 80), -1);
	ck_assert_int_eq(address_init(&a, "", "example.com", 80), -1);
	ck_assert_int_eq(address_init(&a, "httpsxyz", "example.com", 80), -1);
	ck_assert_int_eq(address_init(&a, "httpsxy", "example.com", 80), 0);

	memset(host, 'a', sizeof(host));
	host[ADDRESS_HOST_MAX] = '\0';
	ck_assert_int_eq(address_init(&a, "http", host, 80), -1);
	/* the longest host that fits with its NUL */
	host[ADDRESS_HOST_MAX - 1] = '\0';
	ck_assert_int_eq(address_init(&a, "http", host, 80), 0);
	ck_assert_uint_eq(strlen(a.host), ADDRESS_HOST_MAX - 1);
}
END_TEST

/* A route for ip:port in either family. */
static struct route
route_of(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct route r;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
		len = sizeof(*sin);
	}
	ck_assert_int_eq(route_from_sockaddr(&r, (struct sockaddr *)&ss, len), 0);
	return r;
}

START_TEST(test_route_format)
{
	char buf[80];
	struct route r;

	r = route_of("192.0.2.1", 80);
	route_format(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.1:80");
	ck_assert_int_eq(r.addrlen, sizeof(struct sockaddr_in));
	r = route_of("2001:db8::1", 443);
	route_format(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[2001:db8::1]:443");
	ck_assert_int_eq(r.addrlen, sizeof(struct sockaddr_in6));
}
END_TEST

START_TEST(test_route_equal)
{
	struct route a = route_of("192.0.2.1", 80), b;

	b = route_of("192.0.2.1", 80);
	ck_assert_msg(route_equal(&a, &b), "same v4 route");
	b = route_of("192.0.2.2", 80);
	ck_assert_msg(!route_equal(&a, &b), "v4 address counts");
	b = route_of("192.0.2.1", 81);
	ck_assert_msg(!route_equal(&a, &b), "v4 port counts");

	a = route_of("2001:db8::1", 80);
	b = route_of("2001:db8::1", 80);
	ck_assert_msg(route_equal(&a, &b), "same v6 route");
	b = route_of("2001:db8::2", 80);
	ck_assert_msg(!route_equal(&a, &b), "v6 address counts");
	b = route_of("::ffff:192.0.2.1", 80);
	a = route_of("192.0.2.1", 80);
	ck_assert_msg(!route_equal(&a, &b), "families differ");
}
END_TEST

START_TEST(test_route_bad_input)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	struct route r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(route_from_sockaddr(&r, (struct sockaddr *)&sin,
	    sizeof(sin) - 1), -1);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(route_from_sockaddr(&r, (struct sockaddr *)&ss,
	    sizeof(ss)), -1);
	ss.ss_family = AF_INET6;
	ck_assert_int_eq(route_from_sockaddr(&r, (struct sockaddr *)&ss,
	    sizeof(struct sockaddr_in)), -1);
}
END_TEST

/* One TCase per behaviour. */
START_TEST(test_route_from_literal)
{
	struct route r;
	char buf[80];

	ck_assert_msg(route_from_literal(&r, "192.0.2.7", 8080) == 0,
	    "a dotted quad is a literal");
	route_format(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.7:8080");
	ck_assert_msg(route_from_literal(&r, "2001:db8::1", 80) == 0,
	    "an IPv6 literal");
	route_format(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[2001:db8::1]:80");
	ck_assert_msg(route_from_literal(&r, "example.com", 80) == -1,
	    "a name is not a literal");
	ck_assert_msg(route_from_literal(&r, "127.1", 80) == -1,
	    "inet_aton shorthand is not a literal");
	ck_assert_msg(route_from_literal(&r, "[::1]", 80) == -1,
	    "brackets are the caller's to strip");
}
END_TEST

static void
add_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

/* The address suite. */
static Suite *
address_suite(void)
{
	Suite *s = suite_create("address");

	add_case(s, "equal_fields", test_equal_fields);
	add_case(s, "case_folding", test_case_folding);
	add_case(s, "hash", test_hash);
	add_case(s, "format", test_format);
	add_case(s, "bad_input", test_bad_input);
	add_case(s, "route_format", test_route_format);
	add_case(s, "route_equal", test_route_equal);
	add_case(s, "route_bad_input", test_route_bad_input);
	add_case(s, "route_from_literal", test_route_from_literal);
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(address_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
