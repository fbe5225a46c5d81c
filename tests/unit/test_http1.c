/*
 * test_http1.c - unit tests for lib/http1.c: response heads, body framing
 * (RFC 9112 section 6.3) and the chunked decoder, fed whole and in pieces.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "http1.h"

#define MAX_HEAD 8192

/* Buffers and the response each test uses; fresh for every test. */
static struct evbuffer *in, *out;
static struct http1_response resp;

/* Starts each test with empty buffers and an empty response. */
static void
setup(void)
{
	in = evbuffer_new();
	out = evbuffer_new();
	ck_assert_msg(in != NULL && out != NULL, "evbuffer_new failed");
	http1_response_init(&resp);
}

/* Frees what setup() made. */
static void
teardown(void)
{
	http1_response_clear(&resp);
	evbuffer_free(in);
	evbuffer_free(out);
}

/* Parses s (as a GET response, whole) and returns the result. */
static enum http1_result
parse_str(const char *s, size_t len, bool head, const char **why)
{
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add(in, s, len);
	*why = NULL;
	return http1_parse_response(in, &resp, head, MAX_HEAD, why);
}

/* Asserts that the response head s parses. */
static void
head_ok(const char *s, bool head)
{
	const char *why;

	ck_assert_msg(parse_str(s, strlen(s), head, &why) == HTTP1_OK,
	    "should parse: \"%s\" (%s)", s, why ? why : "no reason");
}

/* Asserts that the response head s (len bytes) is refused with a reason. */
static void
head_bad_len(const char *s, size_t len)
{
	const char *why;

	ck_assert_msg(parse_str(s, len, false, &why) == HTTP1_ERROR,
	    "should be refused: \"%s\"", s);
	ck_assert_msg(why != NULL && *why != '\0', "refused without a reason");
	ck_assert_msg(evbuffer_get_length(in) == len,
	    "nothing consumed on error");
	ck_assert_msg(resp.n_fields == 0, "no headers left on error");
}

/* Literals with a NUL inside need their real length. */
#define HEAD_BAD_LIT(s) head_bad_len((s), sizeof(s) - 1)

/* Asserts that the NUL-terminated response head s is refused. */
static void
head_bad(const char *s)
{
	head_bad_len(s, strlen(s));
}

/* The whole contents of b as a string (caller frees). */
static char *
buf_string(struct evbuffer *b)
{
	size_t len = evbuffer_get_length(b);
	char *s = malloc(len + 1);

	ck_assert_msg(s != NULL, "malloc");
	evbuffer_copyout(b, s, len);
	s[len] = '\0';
	return s;
}

/* Asserts the contents of b. */
static void
assert_buf(struct evbuffer *b, const char *want)
{
	char *s = buf_string(b);

	ck_assert_msg(strcmp(s, want) == 0, "buffer holds \"%s\", want \"%s\"",
	    s, want);
	free(s);
}

START_TEST(test_status_ok)
{
	head_ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
	    false);
	ck_assert_int_eq(resp.major, 1);
	ck_assert_int_eq(resp.minor, 1);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.reason, "OK");
	ck_assert_int_eq(resp.body, HTTP1_BODY_LENGTH);
	ck_assert_uint_eq(resp.content_length, 5);
	ck_assert_msg(resp.keep_alive, "HTTP/1.1 is persistent");
	ck_assert_str_eq(http1_find(&resp, "x-a"), "b");
	assert_buf(in, "hello");
}
END_TEST

START_TEST(test_status_reason)
{
	char line[400];

	head_ok("HTTP/1.1 204\r\n\r\n", false);
	ck_assert_str_eq(resp.reason, "");
	ck_assert_int_eq(resp.status, 204);
	head_ok("HTTP/1.1 204 \r\n\r\n", false);
	ck_assert_str_eq(resp.reason, "");
	head_ok("HTTP/1.1 404 Not\tFound \xe9t\xe9\r\n\r\n", false);
	ck_assert_str_eq(resp.reason, "Not\tFound \xe9t\xe9");

	snprintf(line, sizeof(line), "HTTP/1.1 200 %0300d\r\n\r\n", 0);
	head_ok(line, false);
	ck_assert_uint_eq(strlen(resp.reason), sizeof(resp.reason) - 1);
}
END_TEST

START_TEST(test_status_bad)
{
	head_bad("HTTP/1.1 20 OK\r\n\r\n");
	head_bad("HTTP/1.1 2000 OK\r\n\r\n");
	head_bad("HTTP/1.1  200 OK\r\n\r\n");
	head_bad("HTTP/1.1 2x0 OK\r\n\r\n");
	head_bad("HTTP/1.1 200\tOK\r\n\r\n");
	head_bad("HTTP/1.1 099 Low\r\n\r\n");
	head_bad("HTTP/1.1 600 High\r\n\r\n");
	head_bad("HTTP/1.1\r\n\r\n");
	head_bad("HTTP/1.1 200 O\x01K\r\n\r\n");
	head_bad("HTTP/1.1 200 O\x7fK\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\r\n\r\n");
	HEAD_BAD_LIT("HTTP/1.1 200 O\0K\r\n\r\n");
	head_bad("HTTP/1.1-200 OK\r\n\r\n");
	head_bad("HTTP/11 200 OK\r\n\r\n");
}
END_TEST

START_TEST(test_versions)
{
	head_ok("HTTP/1.0 200 OK\r\n\r\n", false);
	ck_assert_int_eq(resp.minor, 0);
	head_bad("HTTP/1.2 200 OK\r\n\r\n");
	head_bad("HTTP/2.0 200 OK\r\n\r\n");
	head_bad("HTTP/0.9 200 OK\r\n\r\n");
	head_bad("HTTP/2 200 OK\r\n\r\n");
	head_bad("http/1.1 200 OK\r\n\r\n");
}
END_TEST

START_TEST(test_garbage)
{
	const char *why;

	head_bad("this is not HTTP\r\n");
	ck_assert_msg(parse_str("this", 4, false, &why) == HTTP1_ERROR,
	    "four wrong bytes are enough to refuse");
	ck_assert_msg(parse_str("X", 1, false, &why) == HTTP1_ERROR,
	    "one wrong byte is enough to refuse");
	ck_assert_msg(parse_str("HTT", 3, false, &why) == HTTP1_MORE,
	    "a prefix of HTTP/ waits for more");
	ck_assert_msg(parse_str("HTTP/2.", 7, false, &why) == HTTP1_ERROR,
	    "HTTP/2. is refused before the line ends");
	ck_assert_msg(parse_str("\r\nHTTP/1.1 200 OK\r\n\r\n", 21, false,
	    &why) == HTTP1_ERROR, "leading empty line refused");
	ck_assert_msg(parse_str("HTTP/1.1 2000 OK\r\nX: y", 22, false,
	    &why) == HTTP1_ERROR, "bad status line refused before the head ends");
}
END_TEST

START_TEST(test_fields)
{
	const struct http1_field *kv;

	head_ok("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX:   spaced  out \t\r\n"
	    "Empty:\r\nSet-Cookie: b=2\r\nObs: \x80\xff\r\n"
	    "Content-Length: 0\r\n\r\n", false);
	ck_assert_msg(resp.n_fields == 6, "six fields, got %zu", resp.n_fields);
	kv = &resp.fields[0];
	ck_assert_str_eq(kv->name, "Set-Cookie");
	ck_assert_str_eq(kv->value, "a=1");
	kv++;
	ck_assert_str_eq(kv->name, "X");
	ck_assert_str_eq(kv->value, "spaced  out");
	kv++;
	ck_assert_str_eq(kv->name, "Empty");
	ck_assert_str_eq(kv->value, "");
	kv++;
	ck_assert_str_eq(kv->name, "Set-Cookie");
	ck_assert_str_eq(kv->value, "b=2");
	kv++;
	ck_assert_str_eq(kv->value, "\x80\xff");
	ck_assert_int_eq(resp.body, HTTP1_BODY_NONE);
}
END_TEST

START_TEST(test_fields_bad)
{
	head_bad("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\n X: a\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nX : a\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nX\t: a\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\n: a\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nX(y): a\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n");
	HEAD_BAD_LIT("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n");
	HEAD_BAD_LIT("HTTP/1.1 200 OK\r\nX\0: a\r\n\r\n");
}
END_TEST

START_TEST(test_bare_lf)
{
	head_ok("HTTP/1.1 200 OK\nContent-Length: 2\nX: y\r\n\nab", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_LENGTH);
	ck_assert_uint_eq(resp.content_length, 2);
	ck_assert_str_eq(http1_find(&resp, "X"), "y");
	assert_buf(in, "ab");
}
END_TEST

START_TEST(test_no_body_statuses)
{
	head_ok("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true);
	ck_assert_int_eq(resp.body, HTTP1_BODY_NONE);
	ck_assert_msg(resp.keep_alive, "HEAD response is reusable");
	ck_assert_uint_eq(resp.content_length, 100);

	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true);
	ck_assert_int_eq(resp.body, HTTP1_BODY_NONE);

	head_ok("HTTP/1.1 200 OK\r\n\r\n", true);
	ck_assert_int_eq(resp.body, HTTP1_BODY_NONE);
	ck_assert_msg(resp.keep_alive, "HEAD without length is reusable");

	head_ok("HTTP/1.1 204 No Content\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_NONE);
	ck_assert_msg(resp.keep_alive, "204 is reusable");

	head_ok("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
	    false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_NONE);
	ck_assert_msg(resp.keep_alive, "304 is reusable");

	head_ok("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
	    "Content-Length: 1\r\n\r\nx", false);
	ck_assert_int_eq(resp.status, 100);
	ck_assert_int_eq(resp.body, HTTP1_BODY_NONE);
	assert_buf(in, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
}
END_TEST

START_TEST(test_interim_then_final)
{
	const char *why = NULL;

	evbuffer_add_printf(in, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
	ck_assert_int_eq(http1_parse_response(in, &resp, false, MAX_HEAD,
	    &why), HTTP1_OK);
	ck_assert_int_eq(resp.status, 103);
	ck_assert_int_eq(http1_parse_response(in, &resp, false, MAX_HEAD,
	    &why), HTTP1_OK);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_msg(http1_find(&resp, "Link") == NULL,
	    "headers of the interim response are dropped");
	ck_assert_int_eq(resp.body, HTTP1_BODY_LENGTH);
	assert_buf(in, "x");
}
END_TEST

START_TEST(test_chunked_framing)
{
	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CHUNKED);
	ck_assert_msg(resp.keep_alive, "chunked is reusable");

	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
	    false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CHUNKED);

	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CHUNKED);

	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	    false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CLOSE);
	ck_assert_msg(!resp.keep_alive, "chunked not last: close-delimited");

	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CLOSE);
	ck_assert_msg(!resp.keep_alive, "gzip only: close-delimited");

	head_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, gzip, gzip, gzip, "
	    "gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip, "
	    "gzip, gzip, gzip, gzip, gzip, gzip, chunked\r\n\r\n");
}
END_TEST

/* The codings a relayed body still carries (RFC 9112 6.1, 7). */
START_TEST(test_codings)
{
	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false);
	ck_assert_str_eq(resp.codings, "");
	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
	    false);
	ck_assert_str_eq(resp.codings, "gzip");
	ck_assert_msg(!resp.codings_chunked, "chunked last: decoded");
	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate\r\n"
	    "Transfer-Encoding: gzip,chunked\r\n\r\n", false);
	ck_assert_str_eq(resp.codings, "deflate, gzip");
	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, identity, "
	    "chunked\r\n\r\n", false);
	ck_assert_str_eq(resp.codings, "");
	ck_assert_int_eq(resp.body, HTTP1_BODY_CHUNKED);
	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false);
	ck_assert_str_eq(resp.codings, "gzip");
	ck_assert_int_eq(resp.body, HTTP1_BODY_CLOSE);
	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	    false);
	ck_assert_str_eq(resp.codings, "chunked, gzip");
	ck_assert_msg(resp.codings_chunked, "chunked inside: cannot re-chunk");
	head_bad("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
}
END_TEST

START_TEST(test_cl_and_te)
{
	head_ok("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CHUNKED);
	ck_assert_uint_eq(resp.content_length, 0);
	ck_assert_msg(!resp.keep_alive, "CL with TE: not reusable");

	head_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	    "Content-Length: 10\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CLOSE);
	ck_assert_msg(!resp.keep_alive, "CL with non-chunked TE: close");
}
END_TEST

START_TEST(test_content_length)
{
	head_ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_NONE);
	ck_assert_msg(resp.keep_alive, "CL 0 is reusable");

	head_ok("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_LENGTH);
	ck_assert_uint_eq(resp.content_length, 5);

	head_ok("HTTP/1.1 200 OK\r\nContent-Length: 7\r\ncontent-length: 7"
	    "\r\n\r\n", false);
	ck_assert_uint_eq(resp.content_length, 7);

	head_ok("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807"
	    "\r\n\r\n", false);
	ck_assert_uint_eq(resp.content_length, 9223372036854775807ULL);
}
END_TEST

START_TEST(test_content_length_bad)
{
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808"
	    "\r\n\r\n");
	head_bad("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999"
	    "\r\n\r\n");
	head_bad("HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n");
}
END_TEST

START_TEST(test_close_delimited)
{
	head_ok("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nrest",
	    false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CLOSE);
	ck_assert_msg(!resp.keep_alive, "close-delimited is never reusable");
	assert_buf(in, "rest");

	head_ok("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", false);
	ck_assert_int_eq(resp.body, HTTP1_BODY_CLOSE);
	ck_assert_msg(!resp.keep_alive, "keep-alive cannot save BODY_CLOSE");
}
END_TEST

START_TEST(test_keep_alive)
{
	head_ok("HTTP/1.1 200 OK\r\nConnection: close\r\n"
	    "Content-Length: 1\r\n\r\n", false);
	ck_assert_msg(!resp.keep_alive, "1.1 with close");

	head_ok("HTTP/1.1 200 OK\r\nConnection: X-Foo, Close\r\n"
	    "Content-Length: 1\r\n\r\n", false);
	ck_assert_msg(!resp.keep_alive, "close found in a list");

	head_ok("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false);
	ck_assert_msg(!resp.keep_alive, "1.0 without keep-alive");

	head_ok("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n"
	    "Content-Length: 1\r\n\r\n", false);
	ck_assert_msg(resp.keep_alive, "1.0 with keep-alive");

	head_ok("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n"
	    "Content-Length: 1\r\n\r\n", false);
	ck_assert_msg(!resp.keep_alive, "close wins over keep-alive");
}
END_TEST

START_TEST(test_split_input)
{
	static const char msg[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "X-Long: abcdefghij\r\n\r\nxyz";
	size_t len = sizeof(msg) - 1, head = len - 3, i;
	const char *why = NULL;
	enum http1_result res;

	for (i = 0; i < len; i++) {
		evbuffer_add(in, msg + i, 1);
		res = http1_parse_response(in, &resp, false, MAX_HEAD, &why);
		if (i + 1 < head) {
			ck_assert_msg(res == HTTP1_MORE,
			    "byte %zu: want MORE, got %d (%s)", i, res,
			    why ? why : "");
			ck_assert_uint_eq(evbuffer_get_length(in), i + 1);
			ck_assert_msg(resp.n_fields == 0,
			    "no headers before the head is whole");
		} else if (i + 1 == head) {
			ck_assert_msg(res == HTTP1_OK, "byte %zu: want OK", i);
			ck_assert_uint_eq(evbuffer_get_length(in), 0);
			ck_assert_uint_eq(resp.content_length, 3);
			ck_assert_str_eq(http1_find(&resp,
			    "X-Long"), "abcdefghij");
			break;
		}
	}
}
END_TEST

START_TEST(test_max_size)
{
	static const char msg[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab";
	size_t head = sizeof(msg) - 1 - 2;
	const char *why = NULL;

	evbuffer_add(in, msg, sizeof(msg) - 1);
	ck_assert_int_eq(http1_parse_response(in, &resp, false, head - 1,
	    &why), HTTP1_ERROR);
	ck_assert_msg(why != NULL, "too large has a reason");
	ck_assert_uint_eq(evbuffer_get_length(in), sizeof(msg) - 1);
	ck_assert_int_eq(http1_parse_response(in, &resp, false, head, &why),
	    HTTP1_OK);
	assert_buf(in, "ab");

	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add(in, msg, 20);
	ck_assert_int_eq(http1_parse_response(in, &resp, false, 21, &why),
	    HTTP1_MORE);
	ck_assert_int_eq(http1_parse_response(in, &resp, false, 20, &why),
	    HTTP1_ERROR);
	ck_assert_int_eq(http1_parse_response(in, &resp, false, 10, &why),
	    HTTP1_ERROR);
}
END_TEST

/* Runs the decoder once, asserting the result. */
static void
decode_expect(struct http1_chunked *c, enum http1_result want)
{
	const char *why = NULL;
	enum http1_result got = http1_chunked_decode(c, in, out, &why);

	ck_assert_msg(got == want, "decode returned %d, want %d (%s)", got,
	    want, why ? why : "");
	if (got == HTTP1_ERROR)
		ck_assert_msg(why != NULL && *why != '\0', "error with a reason");
}

/* Feeds s whole to a fresh decoder and asserts the result. */
static void
decode_str(const char *s, size_t len, enum http1_result want)
{
	struct http1_chunked c;

	memset(&c, 0, sizeof(c));
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_drain(out, evbuffer_get_length(out));
	evbuffer_add(in, s, len);
	decode_expect(&c, want);
}

/* Feeds a string literal, NULs included, to a fresh decoder. */
#define DECODE_LIT(s, want) decode_str((s), sizeof(s) - 1, (want))

static const char chunked_body[] = "5\r\nhello\r\n"
    "6;name=value;x=\"q\"\r\n world\r\n"
    "A \t;ext\r\n0123456789\r\n"
    "0\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\nNEXT";

START_TEST(test_chunked_whole)
{
	decode_str(chunked_body, sizeof(chunked_body) - 1, HTTP1_OK);
	assert_buf(out, "hello world0123456789");
	assert_buf(in, "NEXT");
}
END_TEST

START_TEST(test_chunked_split_everywhere)
{
	size_t len = sizeof(chunked_body) - 1 - 4, k;
	struct http1_chunked c;

	for (k = 0; k <= len; k++) {
		memset(&c, 0, sizeof(c));
		evbuffer_drain(in, evbuffer_get_length(in));
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add(in, chunked_body, k);
		decode_expect(&c, k == len ? HTTP1_OK : HTTP1_MORE);
		if (k < len)
			ck_assert_uint_eq(evbuffer_get_length(in), 0);
		evbuffer_add(in, chunked_body + k, sizeof(chunked_body) - 1 - k);
		decode_expect(&c, HTTP1_OK);
		assert_buf(out, "hello world0123456789");
		assert_buf(in, "NEXT");
	}
}
END_TEST

START_TEST(test_chunked_byte_by_byte)
{
	size_t len = sizeof(chunked_body) - 1 - 4, i;
	struct http1_chunked c;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < len; i++) {
		evbuffer_add(in, chunked_body + i, 1);
		decode_expect(&c, i + 1 == len ? HTTP1_OK : HTTP1_MORE);
	}
	assert_buf(out, "hello world0123456789");
	decode_expect(&c, HTTP1_OK);
}
END_TEST

/* Trailers are kept when asked for, split anywhere, each line CRLF-ended. */
START_TEST(test_chunked_trailers_kept)
{
	size_t len = sizeof(chunked_body) - 1 - 4, k;
	struct http1_chunked c;
	struct evbuffer *tr = evbuffer_new();

	for (k = 0; k <= len; k++) {
		memset(&c, 0, sizeof(c));
		c.trailers = tr;
		evbuffer_drain(tr, evbuffer_get_length(tr));
		evbuffer_drain(in, evbuffer_get_length(in));
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add(in, chunked_body, k);
		decode_expect(&c, k == len ? HTTP1_OK : HTTP1_MORE);
		evbuffer_add(in, chunked_body + k, sizeof(chunked_body) - 1 - k);
		decode_expect(&c, HTTP1_OK);
		assert_buf(tr, "X-Trailer: 1\r\nX-Other: two\r\n");
	}
	/* A bare LF ends a line as well; too much is an error. */
	memset(&c, 0, sizeof(c));
	c.trailers = tr;
	evbuffer_drain(tr, evbuffer_get_length(tr));
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add_printf(in, "0\nA: b\n\n");
	decode_expect(&c, HTTP1_OK);
	assert_buf(tr, "A: b\r\n");
	memset(&c, 0, sizeof(c));
	c.trailers = tr;
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add_printf(in, "0\r\n");
	for (k = 0; k < HTTP1_TRAILERS_MAX / 100 + 1; k++)
		evbuffer_add_printf(in, "X-%04zu: %090d\r\n", k, 0);
	decode_expect(&c, HTTP1_ERROR);
	evbuffer_free(tr);
}
END_TEST

START_TEST(test_chunked_bare_lf)
{
	static const char s[] = "3\nabc\n0\nT: x\n\n";

	decode_str(s, sizeof(s) - 1, HTTP1_OK);
	assert_buf(out, "abc");
}
END_TEST

START_TEST(test_chunked_hex)
{
	static const char s[] = "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n"
	    "0000\r\n\r\n";

	decode_str(s, sizeof(s) - 1, HTTP1_OK);
	assert_buf(out, "0123456789abcdefghijk");
	DECODE_LIT("fffffffffffffff\r\nab", HTTP1_MORE);
	assert_buf(out, "ab");
	DECODE_LIT("1000000000000000\r\n", HTTP1_ERROR);
}
END_TEST

START_TEST(test_chunked_bad_size)
{
	DECODE_LIT("0x5\r\nhello\r\n0\r\n\r\n", HTTP1_ERROR);
	DECODE_LIT("+5\r\nhello\r\n0\r\n\r\n", HTTP1_ERROR);
	DECODE_LIT("-5\r\n", HTTP1_ERROR);
	DECODE_LIT(" 5\r\n", HTTP1_ERROR);
	DECODE_LIT("\r\n", HTTP1_ERROR);
	DECODE_LIT("g\r\n", HTTP1_ERROR);
	DECODE_LIT("5 x\r\n", HTTP1_ERROR);
	DECODE_LIT("5\rX", HTTP1_ERROR);
	DECODE_LIT("5;a\0b\r\n", HTTP1_ERROR);
}
END_TEST

START_TEST(test_chunked_missing_crlf)
{
	DECODE_LIT("5\r\nhelloX\r\n0\r\n\r\n", HTTP1_ERROR);
	DECODE_LIT("5\r\nhello\rX", HTTP1_ERROR);
	DECODE_LIT("5\r\nhello0\r\n\r\n", HTTP1_ERROR);
	DECODE_LIT("5\r\nhello\r\r\n0\r\n\r\n", HTTP1_ERROR);
}
END_TEST

START_TEST(test_chunked_long_lines)
{
	char *s = malloc(6000);
	struct http1_chunked c;
	size_t n;

	ck_assert_msg(s != NULL, "malloc");
	memcpy(s, "1;", 2);
	memset(s + 2, 'e', 4094);
	memcpy(s + 4096, "\r\nx\r\n0\r\n\r\n", 10);
	decode_str(s, 4106, HTTP1_OK);

	memset(s + 2, 'e', 5000);
	decode_str(s, 5002, HTTP1_ERROR);

	memcpy(s, "0\r\n", 3);
	memset(s + 3, 't', 4097);
	decode_str(s, 4100, HTTP1_ERROR);

	memset(&c, 0, sizeof(c));
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add(in, "0\r\n", 3);
	for (n = 0; n < 4096; n += 512) {
		evbuffer_add(in, s + 3, 512);
		decode_expect(&c, HTTP1_MORE);
	}
	evbuffer_add(in, "t", 1);
	decode_expect(&c, HTTP1_ERROR);
	free(s);
}
END_TEST

START_TEST(test_chunked_error_sticks)
{
	struct http1_chunked c;

	memset(&c, 0, sizeof(c));
	evbuffer_add(in, "z\r\n", 3);
	decode_expect(&c, HTTP1_ERROR);
	evbuffer_add(in, "0\r\n\r\n", 5);
	decode_expect(&c, HTTP1_ERROR);
}
END_TEST

START_TEST(test_chunked_zero_copy)
{
	static const char data[] = "0123456789abcdef";
	struct evbuffer_iovec v;
	struct http1_chunked c;

	memset(&c, 0, sizeof(c));
	evbuffer_add(in, "10\r\n", 4);
	evbuffer_add_reference(in, data, 16, NULL, NULL);
	evbuffer_add(in, "\r\n0\r\n\r\n", 7);
	decode_expect(&c, HTTP1_OK);
	ck_assert_int_eq(evbuffer_peek(out, -1, NULL, &v, 1), 1);
	ck_assert_msg(v.iov_base == (void *)data && v.iov_len == 16,
	    "whole data chain moved without copying");
}
END_TEST

/* One test case per behaviour, each in its own process. */
static Suite *
http1_suite(void)
{
	Suite *s = suite_create("http1");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{ "status_ok", test_status_ok },
		{ "status_reason", test_status_reason },
		{ "status_bad", test_status_bad },
		{ "versions", test_versions },
		{ "garbage", test_garbage },
		{ "fields", test_fields },
		{ "fields_bad", test_fields_bad },
		{ "bare_lf", test_bare_lf },
		{ "no_body_statuses", test_no_body_statuses },
		{ "interim_then_final", test_interim_then_final },
		{ "chunked_framing", test_chunked_framing },
		{ "codings", test_codings },
		{ "cl_and_te", test_cl_and_te },
		{ "content_length", test_content_length },
		{ "content_length_bad", test_content_length_bad },
		{ "close_delimited", test_close_delimited },
		{ "keep_alive", test_keep_alive },
		{ "split_input", test_split_input },
		{ "max_size", test_max_size },
		{ "chunked_whole", test_chunked_whole },
		{ "chunked_split_everywhere", test_chunked_split_everywhere },
		{ "chunked_byte_by_byte", test_chunked_byte_by_byte },
		{ "chunked_bare_lf", test_chunked_bare_lf },
		{ "chunked_hex", test_chunked_hex },
		{ "chunked_bad_size", test_chunked_bad_size },
		{ "chunked_missing_crlf", test_chunked_missing_crlf },
		{ "chunked_long_lines", test_chunked_long_lines },
		{ "chunked_trailers_kept", test_chunked_trailers_kept },
		{ "chunked_error_sticks", test_chunked_error_sticks },
		{ "chunked_zero_copy", test_chunked_zero_copy },
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
	SRunner *sr = srunner_create(http1_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
