/*
 * test_headers.c - unit tests for lib/headers.c: Connection tokens, the
 * hop-by-hop decision and comma-list membership.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "headers.h"

/* The header list each test fills; fresh for every test. */
static struct evkeyvalq hdrs;

/* Starts each test with an empty list. */
static void
setup(void)
{
	TAILQ_INIT(&hdrs);
}

/* Frees what the test added. */
static void
teardown(void)
{
	evhttp_clear_headers(&hdrs);
}

/* Adds a header to the fixture list, failing the test if libevent refuses. */
static void
add(const char *name, const char *value)
{
	ck_assert_msg(evhttp_add_header(&hdrs, name, value) == 0,
	    "evhttp_add_header(%s) failed", name);
}

/* True when tok holds name. */
static bool
has_token(const struct headers_conn_tokens *tok, const char *name)
{
	size_t i;

	for (i = 0; i < tok->n; i++) {
		if (strcmp(tok->names[i], name) == 0)
			return true;
	}
	return false;
}

START_TEST(test_tokens_basic)
{
	struct headers_conn_tokens tok;

	add("Host", "example.com");
	add("Connection", " X-Foo ,\tkeep-alive,,  Upgrade ");
	add("connection", "x-foo, X-Bar");
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_uint_eq(tok.n, 4);
	ck_assert_msg(has_token(&tok, "x-foo"), "x-foo lower-cased and trimmed");
	ck_assert_msg(has_token(&tok, "keep-alive"), "keep-alive listed");
	ck_assert_msg(has_token(&tok, "upgrade"), "upgrade listed");
	ck_assert_msg(has_token(&tok, "x-bar"), "second Connection field read");
	ck_assert_msg(tok.keep_alive, "keep_alive flag set");
	ck_assert_msg(!tok.close, "close flag not set");
	ck_assert_msg(!tok.overflow, "no overflow");
}
END_TEST

START_TEST(test_tokens_close)
{
	struct headers_conn_tokens tok;

	add("CONNECTION", "CLOSE");
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_msg(tok.close, "Close is recognised case-insensitively");
	ck_assert_msg(!tok.keep_alive, "no keep-alive");
	ck_assert_uint_eq(tok.n, 1);
	ck_assert_str_eq(tok.names[0], "close");
}
END_TEST

START_TEST(test_tokens_none)
{
	struct headers_conn_tokens tok;

	memset(&tok, 0xff, sizeof(tok));
	add("Keep-Alive", "timeout=5");
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_uint_eq(tok.n, 0);
	ck_assert_msg(!tok.close && !tok.keep_alive && !tok.overflow,
	    "tok is reset when there is no Connection header");
}
END_TEST

START_TEST(test_tokens_overflow_count)
{
	struct headers_conn_tokens tok;
	char value[2048] = "", item[16];
	int i;

	for (i = 0; i < HEADERS_MAX_TOKENS; i++) {
		snprintf(item, sizeof(item), "%sx-%d", i ? "," : "", i);
		strcat(value, item);
	}
	add("Connection", value);
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_uint_eq(tok.n, HEADERS_MAX_TOKENS);
	ck_assert_msg(!tok.overflow, "exactly the maximum fits");

	add("Connection", "x-0, close, x-extra");
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_msg(tok.overflow, "one more distinct token overflows");
	ck_assert_msg(tok.close, "flags are still set on overflow");
	ck_assert_uint_eq(tok.n, HEADERS_MAX_TOKENS);
	ck_assert_msg(headers_is_hop_by_hop("X-5", &tok),
	    "stored names stay hop-by-hop on overflow");
	ck_assert_msg(!headers_is_hop_by_hop("X-Extra", &tok),
	    "names that did not fit are forwarded");
	ck_assert_msg(!headers_is_hop_by_hop("Content-Type", &tok),
	    "unlisted names are forwarded on overflow");
	ck_assert_msg(headers_is_hop_by_hop("TE", &tok),
	    "fixed names stay hop-by-hop on overflow");
}
END_TEST

START_TEST(test_tokens_overflow_length)
{
	struct headers_conn_tokens tok;
	char longname[80];

	memset(longname, 'a', 63);
	longname[63] = '\0';
	add("Connection", longname);
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_msg(!tok.overflow, "63 characters fit");
	ck_assert_uint_eq(tok.n, 1);

	memset(longname, 'b', 64);
	longname[64] = '\0';
	add("Connection", longname);
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_msg(tok.overflow, "64 characters overflow");
	ck_assert_uint_eq(tok.n, 1);
}
END_TEST

START_TEST(test_tokens_dedup)
{
	struct headers_conn_tokens tok;

	add("Connection", "a, A, a");
	add("Connection", "a");
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_uint_eq(tok.n, 1);
}
END_TEST

START_TEST(test_fixed_names)
{
	static const char *const names[] = {
		"Connection", "Keep-Alive", "Proxy-Connection",
		"Proxy-Authorization", "Proxy-Authenticate", "TE", "Trailer",
		"Transfer-Encoding", "Upgrade", "Content-Length",
		"connection", "KEEP-ALIVE", "proxy-connection",
		"proxy-authorization", "PROXY-AUTHENTICATE", "te", "trailer",
		"transfer-encoding", "UPGRADE", "content-length",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_msg(headers_is_hop_by_hop(names[i], NULL),
		    "%s is hop-by-hop", names[i]);
	}
}
END_TEST

START_TEST(test_end_to_end_names)
{
	static const char *const names[] = {
		"Host", "Content-Type", "Accept", "Cookie", "Authorization",
		"Trailers", "TE2", "X-Connection", "Via",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_msg(!headers_is_hop_by_hop(names[i], NULL),
		    "%s is end-to-end", names[i]);
	}
}
END_TEST

START_TEST(test_listed_names)
{
	struct headers_conn_tokens tok;

	add("Connection", "X-Secret, Cookie");
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_msg(headers_is_hop_by_hop("x-secret", &tok),
	    "a listed name is hop-by-hop");
	ck_assert_msg(headers_is_hop_by_hop("COOKIE", &tok),
	    "matching is case-insensitive");
	ck_assert_msg(!headers_is_hop_by_hop("Accept", &tok),
	    "an unlisted name is forwarded");
}
END_TEST

START_TEST(test_host_protected)
{
	struct headers_conn_tokens tok;

	add("Connection", "Host, Content-Length");
	headers_conn_tokens(&hdrs, &tok);
	ck_assert_msg(!headers_is_hop_by_hop("Host", &tok),
	    "Host stays even when Connection lists it");
	ck_assert_msg(!headers_is_hop_by_hop("host", &tok),
	    "host (lower case) stays too");
	ck_assert_msg(headers_is_hop_by_hop("Content-Length", &tok),
	    "Content-Length is the caller's to frame");
}
END_TEST

/* A 101's Upgrade must name only protocols of the offer. */
START_TEST(test_list_within)
{
	ck_assert(headers_list_within("websocket", "websocket"));
	ck_assert(headers_list_within("WebSocket", "h2c, websocket"));
	ck_assert_msg(!headers_list_within("h2c", "websocket"), "not offered");
	ck_assert_msg(!headers_list_within("websocket, h2c", "websocket"),
	    "one of them not offered");
	ck_assert_msg(!headers_list_within("", "websocket"), "none named");
	ck_assert_msg(!headers_list_within(" , ", "websocket"), "only empties");
	ck_assert_msg(!headers_list_within(NULL, "websocket"), "absent");
}
END_TEST

/* An Upgrade offer, less what upgrade_protocols does not allow. */
START_TEST(test_upgrade_filter)
{
	char ws[] = "websocket", tls[] = "tls/1.2";
	char *allow[] = { ws, tls, NULL };
	char *none[] = { NULL };
	char out[32];

	ck_assert_uint_eq(headers_upgrade_filter("h2c, WebSocket/13, TLS/1.2, "
	    "tls/1.3, websockets", allow, out, sizeof(out)), 21);
	ck_assert_str_eq(out, "WebSocket/13, TLS/1.2");
	ck_assert_uint_eq(headers_upgrade_filter("websocket", none, out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	/* What would not fit is left out, never cut. */
	ck_assert_uint_eq(headers_upgrade_filter("websocket, websocket/13",
	    allow, out, 14), 9);
	ck_assert_str_eq(out, "websocket");
}
END_TEST

START_TEST(test_list_has)
{
	ck_assert_msg(headers_list_has("close", "close"), "single element");
	ck_assert_msg(headers_list_has("Keep-Alive, Close", "close"),
	    "case-insensitive, later element");
	ck_assert_msg(headers_list_has(" \tgzip ,\tchunked\t ", "chunked"),
	    "OWS around elements");
	ck_assert_msg(headers_list_has("a,,b", "b"), "empty elements skipped");
	ck_assert_msg(!headers_list_has("closed", "close"), "no prefix match");
	ck_assert_msg(!headers_list_has("xclose", "close"), "no suffix match");
	ck_assert_msg(!headers_list_has("clo se", "close"),
	    "inner whitespace kept");
	ck_assert_msg(!headers_list_has("", "close"), "empty value");
	ck_assert_msg(!headers_list_has(NULL, "close"), "NULL value");
	ck_assert_msg(!headers_list_has("a, b", ""), "empty token");
}
END_TEST

START_TEST(test_via_count)
{
	ck_assert_uint_eq(headers_via_count("1.1 ferryd", "ferryd"), 1);
	ck_assert_uint_eq(headers_via_count("1.0 fred, 1.1 Ferryd (x)",
	    "ferryd"), 1);
	ck_assert_uint_eq(headers_via_count("HTTP/1.1 ferryd\t", "ferryd"), 1);
	ck_assert_uint_eq(headers_via_count(
	    "1.1 ferryd, 1.1 gw, 1.1 ferryd,1.1 ferryd(c)", "ferryd"), 3);
	ck_assert_msg(headers_via_count("1.1 ferryd2, 1.1 ferryd:3128",
	    "ferryd") == 0, "no prefix match");
	ck_assert_msg(headers_via_count("1.1 p.example (ferryd)", "ferryd") == 0,
	    "a comment is not a hop");
	ck_assert_msg(headers_via_count(
	    "1.1 squid (see, 1.1 ferryd (here, 1.1 ferryd)), 1.0 x", "ferryd") == 0,
	    "commas inside (nested) comments split nothing");
	ck_assert_msg(headers_via_count("1.1 a (\\), 1.1 ferryd), 1.1 ferryd",
	    "ferryd") == 1, "a quoted-pair inside a comment");
	ck_assert_msg(headers_via_count("1.1 a (never closed, 1.1 ferryd",
	    "ferryd") == 1, "a comment never closed ends at its comma");
	ck_assert_msg(headers_via_count("1.0 x ((\\, 1.1 ferryd, 1.1 ferryd",
	    "ferryd") == 2, "... an escaped comma too: later hops count");
	ck_assert_msg(headers_via_count("1.0 x (a (b) c", "ferryd") == 0,
	    "never closed, no comma");
	ck_assert_msg(headers_via_count("ferryd, ,, 1.1", "ferryd") == 0,
	    "a protocol alone names no hop");
	ck_assert_uint_eq(headers_via_count("", "ferryd"), 0);
	ck_assert_uint_eq(headers_via_count(NULL, "ferryd"), 0);
}
END_TEST

/* The head writer: fields, numbers, and heads larger than its buffer. */
START_TEST(test_writer)
{
	struct evbuffer *out = evbuffer_new();
	struct headers_writer w;
	static char big[HEADERS_WRITER_BUF + 100];
	size_t n;
	char *flat;

	headers_writer_init(&w, out);
	headers_write_field(&w, "Content-Length", "5");
	headers_write_u64(&w, 0);
	headers_write(&w, " ", 1);
	headers_write_u64(&w, UINT64_MAX);
	ck_assert_msg(evbuffer_get_length(out) == 0, "gathered, not written");
	headers_writer_flush(&w);
	n = evbuffer_get_length(out);
	flat = (char *)evbuffer_pullup(out, -1);
	ck_assert_msg(n == 41 && memcmp(flat, "Content-Length: 5\r\n0 "
	    "18446744073709551615", n) == 0, "got %.*s", (int)n, flat);
	evbuffer_drain(out, n);

	/* Past the buffer: what was gathered goes first, in order. */
	memset(big, 'x', sizeof(big));
	headers_write(&w, "ab", 2);
	headers_write(&w, big, sizeof(big));
	headers_write(&w, "cd", 2);
	for (int i = 0; i < 3000; i++)
		headers_write(&w, "e", 1);
	headers_writer_flush(&w);
	n = evbuffer_get_length(out);
	flat = (char *)evbuffer_pullup(out, -1);
	ck_assert_uint_eq(n, 2 + sizeof(big) + 2 + 3000);
	ck_assert_msg(memcmp(flat, "abxx", 4) == 0, "start in order");
	ck_assert_msg(memcmp(flat + 2 + sizeof(big), "cde", 3) == 0,
	    "then the rest");
	evbuffer_free(out);
}
END_TEST

/*
 * Names given by length (a parsed head's spans) are matched by exactly
 * that many bytes: a listed name is not matched by a longer or shorter
 * one, and a name longer than any token matches none.
 */
START_TEST(test_names_by_length)
{
	struct headers_conn_tokens tok;
	static char longname[200];

	headers_conn_tokens_reset(&tok);
	headers_conn_tokens_add(&tok, "X-Secret, keep-alive");
	ck_assert(headers_is_hop_by_hop_len("X-SECRET: v", 8, &tok));
	ck_assert(!headers_is_hop_by_hop_len("X-Secret-2", 10, &tok));
	ck_assert(!headers_is_hop_by_hop_len("X-Secre", 7, &tok));
	ck_assert(headers_is_hop_by_hop_len("Upgrade-Insecure", 7, &tok));
	ck_assert(!headers_is_hop_by_hop_len("Upgrade-Insecure", 16, &tok));
	ck_assert(!headers_is_hop_by_hop_len("Host", 4, &tok));
	memset(longname, 'x', sizeof(longname) - 1);
	ck_assert(!headers_is_hop_by_hop_len(longname, sizeof(longname) - 1,
	    &tok));
}
END_TEST

/* A field by lengths: one piece when it fits, in order when it does not. */
START_TEST(test_write_field_len)
{
	struct evbuffer *out = evbuffer_new();
	struct headers_writer w;
	static char big[HEADERS_WRITER_BUF];
	size_t n;
	char *flat;

	headers_writer_init(&w, out);
	headers_write_field_len(&w, "Server: x", 6, "nginx\r\n", 5);
	memset(big, 'v', sizeof(big));
	headers_write_field_len(&w, "Big", 3, big, sizeof(big));
	headers_write_field_len(&w, "A", 1, "b", 1);
	headers_writer_flush(&w);
	n = evbuffer_get_length(out);
	flat = (char *)evbuffer_pullup(out, -1);
	ck_assert_uint_eq(n, 15 + 5 + sizeof(big) + 2 + 6);
	ck_assert_msg(memcmp(flat, "Server: nginx\r\nBig: vv", 22) == 0,
	    "start: %.22s", flat);
	ck_assert_msg(memcmp(flat + n - 9, "v\r\nA: b\r\n", 9) == 0,
	    "end in order");
	evbuffer_free(out);
}
END_TEST

/* Trailer fields pass filtered: bad lines and forbidden names go. */
START_TEST(test_write_trailers)
{
	struct evbuffer *raw = evbuffer_new(), *out = evbuffer_new();
	struct headers_writer w;
	size_t n;

	evbuffer_add_printf(raw, "X-Sum: 42\r\n"
	    "Content-Length: 9\r\n"
	    "no colon here\r\n"
	    "Bad Name: 1\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "host: evil\r\n"
	    "Authorization: Basic eA==\r\n"
	    "X-Empty:\r\n"
	    "Server-Timing:\tdb;dur=53\r\n");
	headers_writer_init(&w, out);
	n = headers_write_trailers(&w, raw);
	headers_writer_flush(&w);
	ck_assert_uint_eq(n, 3);
	evbuffer_add(out, "", 1);
	ck_assert_str_eq((char *)evbuffer_pullup(out, -1),
	    "X-Sum: 42\r\nX-Empty: \r\nServer-Timing: db;dur=53\r\n");
	evbuffer_drain(out, evbuffer_get_length(out));
	evbuffer_drain(raw, evbuffer_get_length(raw));
	ck_assert_uint_eq(headers_write_trailers(&w, raw), 0);
	evbuffer_free(raw);
	evbuffer_free(out);
}
END_TEST

/* One test case per behaviour, each in its own process. */
static Suite *
headers_suite(void)
{
	Suite *s = suite_create("headers");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "tokens_basic", test_tokens_basic },
		{ "tokens_close", test_tokens_close },
		{ "tokens_none", test_tokens_none },
		{ "tokens_overflow_count", test_tokens_overflow_count },
		{ "tokens_overflow_length", test_tokens_overflow_length },
		{ "tokens_dedup", test_tokens_dedup },
		{ "fixed_names", test_fixed_names },
		{ "end_to_end_names", test_end_to_end_names },
		{ "listed_names", test_listed_names },
		{ "host_protected", test_host_protected },
		{ "list_within", test_list_within },
		{ "upgrade_filter", test_upgrade_filter },
		{ "list_has", test_list_has },
		{ "via_count", test_via_count },
		{ "writer", test_writer },
		{ "names_by_length", test_names_by_length },
		{ "write_field_len", test_write_field_len },
		{ "write_trailers", test_write_trailers },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, cases[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

/* Exits non-zero when any check fails. */
int
main(void)
{
	SRunner *sr = srunner_create(headers_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
