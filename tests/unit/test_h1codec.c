/*
 * test_h1codec.c - unit tests of lib/h1codec.c with a fake transport: the
 * upstream's bufferevent is one end of a bufferevent pair (no socket), the
 * test plays the origin on the other end.  Each case checks what the codec
 * reports, in order: interim responses, the head, the body bytes, the end
 * (reusable or not), or the error and its kind.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "h1codec.h"
#include "http1.h"
#include "upstream.h"

static struct event_base *base;
static struct bufferevent *pair[2];	/* [0] ferryd's side, [1] the origin */
static struct upstream *up;
static struct stream *stream;	/* open on up's codec */
static struct evbuffer *head;

/* What the codec said, in order. */
static struct {
	char log[512];			/* "interim 103,head 200,body 5,end reusable" */
	char body[4096];
	size_t body_len;
	char trailers[256];		/* of a chunked body, as the codec kept them */
	int sendable;			/* on_sendable calls */
	bool done;			/* end or error came */
	bool stop_at_head;		/* on_head returns false */
	enum stream_error error;
} seen;

/* Appends one event to the log. */
static void
note(const char *what, int v)
{
	size_t n = strlen(seen.log);

	snprintf(seen.log + n, sizeof(seen.log) - n, "%s%s%s%d", n ? "," : "",
	    what, v >= 0 ? " " : "", v);
	if (v < 0)
		seen.log[strlen(seen.log) - 2] = '\0';
}

static void
on_interim(const struct http1_response *r, void *arg)
{
	note("interim", r->status);
}

static bool
on_head(struct http1_response *r, void *arg)
{
	note("head", r->status);
	if (seen.stop_at_head) {
		seen.done = true;
		return false;
	}
	return true;
}

static void
on_body(struct evbuffer *data, void *arg)
{
	size_t n = evbuffer_get_length(data);

	ck_assert_msg(seen.body_len + n < sizeof(seen.body), "body fits");
	evbuffer_remove(data, seen.body + seen.body_len, n);
	seen.body_len += n;
}

static void
on_end(bool reusable, struct evbuffer *trailers, void *arg)
{
	note(reusable ? "end reusable" : "end closed", -1);
	if (trailers != NULL)
		seen.trailers[evbuffer_remove(trailers, seen.trailers,
		    sizeof(seen.trailers) - 1)] = '\0';
	seen.done = true;
}

static void
on_error(enum stream_error e, const char *why, void *arg)
{
	static const char *const kinds[] = { "timeout", "closed", "broken" };
	size_t n = strlen(seen.log);

	snprintf(seen.log + n, sizeof(seen.log) - n, "%serror %s: %s",
	    n ? "," : "", kinds[e], why);
	seen.error = e;
	seen.done = true;
}

static void
on_upgrade(struct http1_response *r, void *arg)
{
	note("upgrade", r->status);
	seen.done = true;
}

static void
on_sendable(void *arg)
{
	seen.sendable++;
}

static const struct stream_ops ops = {
	on_interim, on_head, on_body, on_end, on_error, on_upgrade, on_sendable,
};

static void
setup(void)
{
	struct address addr;
	struct route route;

	memset(&seen, 0, sizeof(seen));
	base = event_base_new();
	ck_assert_int_eq(bufferevent_pair_new(base, 0, pair), 0);
	memset(&addr, 0, sizeof(addr));
	memset(&route, 0, sizeof(route));
	up = upstream_new(pair[0], NULL, &addr, &route);
	ck_assert_msg(up != NULL, "upstream_new");
	up->pooled = true;
	up->connected = true;
	up->codec = h1codec_new(up);
	ck_assert_msg(up->codec != NULL, "h1codec_new");
	stream = codec_open(up->codec, &ops, NULL);
	ck_assert_msg(stream != NULL, "codec_open");
	head = evbuffer_new();
	evbuffer_add_printf(head, "GET / HTTP/1.1\r\nHost: o\r\n\r\n");
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);
}

static void
teardown(void)
{
	if (stream != NULL)
		stream_close(stream);
	evbuffer_free(head);
	upstream_close(up, "test over");
	if (pair[1] != NULL)
		bufferevent_free(pair[1]);
	event_base_free(base);
}

/* Runs the loop until the codec is done or nothing is left to do. */
static void
run(void)
{
	for (int i = 0; i < 100 && !seen.done; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Starts the exchange and checks that the request went out whole. */
static void
start_rq(bool head_request, bool upgrade)
{
	char req[128];
	size_t n;

	struct stream_request rq = {
		.head = head,
		.head_request = head_request,
		.upgrade = upgrade,
		.max_header_size = 8192,
		.read_timeout = 10 * 1000000,
	};

	stream_send(stream, &rq);
	run();
	n = evbuffer_remove(bufferevent_get_input(pair[1]), req,
	    sizeof(req) - 1);
	req[n] = '\0';
	ck_assert_str_eq(req, "GET / HTTP/1.1\r\nHost: o\r\n\r\n");
	ck_assert_msg(!stream_request_unsent(stream), "request sent");
}

static void
start(bool head_request)
{
	start_rq(head_request, false);
}

/* The origin closes its side: a pair says so with BEV_FINISHED. */
static void
origin_close(void)
{
	bufferevent_flush(pair[1], EV_WRITE, BEV_FINISHED);
	run();
}

/* The origin writes s. */
static void
origin(const char *s)
{
	bufferevent_write(pair[1], s, strlen(s));
	run();
}

START_TEST(test_content_length)
{
	start(false);
	origin("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
	ck_assert_str_eq(seen.log, "head 200");
	ck_assert_uint_eq(seen.body_len, 5);
	origin("world");
	ck_assert_str_eq(seen.log, "head 200,end reusable");
	ck_assert_uint_eq(seen.body_len, 10);
	ck_assert(memcmp(seen.body, "helloworld", 10) == 0);
}
END_TEST

/* A byte past the body's end arrives with it: not reusable. */
START_TEST(test_extra_bytes)
{
	start(false);
	origin("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi\r\n");
	ck_assert_str_eq(seen.log, "head 200,end closed");
	ck_assert_uint_eq(seen.body_len, 2);
}
END_TEST

START_TEST(test_chunked_after_interim)
{
	start(false);
	origin("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n");
	ck_assert_str_eq(seen.log, "interim 103,head 200");
	origin("2\r\nde\r\n0\r\n\r\n");
	ck_assert_str_eq(seen.log, "interim 103,head 200,end reusable");
	ck_assert_uint_eq(seen.body_len, 5);
	ck_assert(memcmp(seen.body, "abcde", 5) == 0);
}
END_TEST

/* Response trailers are kept for the exchange, in order. */
START_TEST(test_response_trailers)
{
	start(false);
	origin("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-B: two words\r\n\r\n");
	ck_assert_str_eq(seen.log, "head 200,end reusable");
	ck_assert_str_eq(seen.trailers, "X-Sum: 1\r\nX-B: two words\r\n");
}
END_TEST

/* Reads what the origin received so far into buf (NUL-terminated). */
static size_t
origin_got(char *buf, size_t size)
{
	size_t n;

	run();
	n = evbuffer_remove(bufferevent_get_input(pair[1]), buf, size - 1);
	buf[n] = '\0';
	return n;
}

/*
 * A streamed chunked body: each piece one chunk, the end with the
 * trailers that may pass; the request is unsent until the end.
 */
START_TEST(test_streamed_body)
{
	struct stream_request rq = {
		.head = head,
		.max_header_size = 8192,
		.read_timeout = 10 * 1000000,
		.chunked = true,
		.body_pending = true,
	};
	struct evbuffer *piece = evbuffer_new(), *tr = evbuffer_new();
	char got[512];

	stream_send(stream, &rq);
	ck_assert_uint_gt(stream_body_room(stream), 0);
	evbuffer_add(piece, "hello", 5);
	stream_send_body(stream, piece);
	ck_assert_uint_eq(evbuffer_get_length(piece), 0);
	origin_got(got, sizeof(got));
	ck_assert_str_eq(got, "GET / HTTP/1.1\r\nHost: o\r\n\r\n5\r\nhello\r\n");
	ck_assert_msg(stream_request_unsent(stream), "the body has not ended");
	evbuffer_add_printf(tr, "X-Sum: 5\r\nContent-Length: 9\r\nbad line\r\n");
	stream_end_body(stream, tr);
	origin_got(got, sizeof(got));
	ck_assert_str_eq(got, "0\r\nX-Sum: 5\r\n\r\n");
	ck_assert_msg(!stream_request_unsent(stream), "all sent");
	ck_assert_uint_eq(stream_body_room(stream), 0);
	origin("HTTP/1.1 204 No Content\r\n\r\n");
	ck_assert_str_eq(seen.log, "head 204,end reusable");
	evbuffer_free(piece);
	evbuffer_free(tr);
}
END_TEST

/* A Content-Length body goes as it is, whatever the pieces. */
START_TEST(test_streamed_length_body)
{
	struct stream_request rq = {
		.head = head,
		.max_header_size = 8192,
		.read_timeout = 10 * 1000000,
		.body_pending = true,
	};
	struct evbuffer *piece = evbuffer_new();
	char got[512];

	stream_send(stream, &rq);
	evbuffer_add(piece, "ab", 2);
	stream_send_body(stream, piece);
	evbuffer_add(piece, "c", 1);
	stream_send_body(stream, piece);
	stream_end_body(stream, NULL);
	origin_got(got, sizeof(got));
	ck_assert_str_eq(got, "GET / HTTP/1.1\r\nHost: o\r\n\r\nabc");
	/* An answer before the body's end: the connection is not reused. */
	evbuffer_free(piece);
}
END_TEST

START_TEST(test_early_answer_unsent)
{
	struct stream_request rq = {
		.head = head,
		.max_header_size = 8192,
		.read_timeout = 10 * 1000000,
		.body_pending = true,
	};
	char got[512];

	stream_send(stream, &rq);
	origin_got(got, sizeof(got));
	origin("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
	ck_assert_str_eq(seen.log, "head 417,end reusable");
	ck_assert_msg(stream_request_unsent(stream),
	    "a body not sent keeps the connection from reuse");
}
END_TEST

START_TEST(test_head_request)
{
	start(true);
	origin("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	ck_assert_str_eq(seen.log, "head 200,end reusable");
	ck_assert_uint_eq(seen.body_len, 0);
}
END_TEST

START_TEST(test_close_delimited)
{
	start(false);
	origin("HTTP/1.1 200 OK\r\n\r\nuntil the end");
	ck_assert_str_eq(seen.log, "head 200");
	origin_close();
	ck_assert_str_eq(seen.log, "head 200,end closed");
	ck_assert_uint_eq(seen.body_len, 13);
}
END_TEST

/* Nothing came before the close: the request may not have been read. */
START_TEST(test_closed_before_any_byte)
{
	start(false);
	origin_close();
	ck_assert_msg(seen.done && seen.error == STREAM_CLOSED, "%s", seen.log);
}
END_TEST

/* Part of a head, then the close: the origin did read the request. */
START_TEST(test_closed_mid_head)
{
	start(false);
	origin("HTTP/1.1 200 OK\r\nContent-");
	origin_close();
	ck_assert_msg(seen.done && seen.error == STREAM_BROKEN, "%s", seen.log);
}
END_TEST

START_TEST(test_closed_mid_body)
{
	start(false);
	origin("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
	origin_close();
	ck_assert_str_eq(seen.log,
	    "head 200,error broken: origin closed the connection");
	ck_assert_uint_eq(seen.body_len, 5);
}
END_TEST

START_TEST(test_bad_response)
{
	start(false);
	origin("HTTP/1.1 2x0 OK\r\n\r\n");
	ck_assert_msg(seen.done && seen.error == STREAM_BROKEN &&
	    strstr(seen.log, "bad response from origin") != NULL, "%s",
	    seen.log);
}
END_TEST

START_TEST(test_bad_chunk)
{
	start(false);
	origin("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
	ck_assert_msg(seen.done && seen.error == STREAM_BROKEN, "%s", seen.log);
}
END_TEST

START_TEST(test_unasked_101)
{
	start(false);
	origin("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
	ck_assert_str_eq(seen.log,
	    "error broken: origin switched protocols without being asked");
}
END_TEST

/* An endless stream of 1xx is cut off: it would hold the exchange for ever. */
/*
 * A 101 to a request that offered an upgrade ends the codec's part; the
 * new protocol's first bytes stay in the transport's input.
 */
START_TEST(test_asked_101)
{
	char rest[16];
	size_t n;

	start_rq(false, true);
	origin("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: upgrade\r\n\r\n\x81\x02hi");
	ck_assert_str_eq(seen.log, "upgrade 101");
	n = evbuffer_copyout(bufferevent_get_input(up->bev), rest, sizeof(rest));
	ck_assert_uint_eq(n, 4);
	ck_assert(memcmp(rest, "\x81\x02hi", 4) == 0);
}
END_TEST

START_TEST(test_too_many_interim)
{
	start(false);
	for (int i = 0; i < H1CODEC_MAX_INTERIM; i++)
		origin("HTTP/1.1 102 Processing\r\n\r\n");
	ck_assert_msg(!seen.done, "32 interim responses are fine: %s", seen.log);
	origin("HTTP/1.1 102 Processing\r\n\r\n");
	ck_assert_msg(seen.done && seen.error == STREAM_BROKEN &&
	    strstr(seen.log, "too many interim responses") != NULL, "%s",
	    seen.log + strlen(seen.log) - 60);
}
END_TEST

/* The user ends the exchange at the head: nothing more is reported. */
START_TEST(test_stop_at_head)
{
	seen.stop_at_head = true;
	start(false);
	origin("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	ck_assert_str_eq(seen.log, "head 200");
	ck_assert_uint_eq(seen.body_len, 0);
}
END_TEST

/* Paused, the codec reads nothing more until resumed. */
START_TEST(test_pause)
{
	start(false);
	origin("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc");
	stream_pause(stream, true);
	origin("def");
	ck_assert_str_eq(seen.log, "head 200");
	ck_assert_uint_eq(seen.body_len, 3);
	stream_pause(stream, false);
	run();
	ck_assert_str_eq(seen.log, "head 200,end reusable");
	ck_assert_uint_eq(seen.body_len, 6);
}
END_TEST

/* HTTP/1.1 carries one exchange at a time: no second stream while one is open. */
START_TEST(test_one_stream_at_a_time)
{
	ck_assert_msg(codec_open(up->codec, &ops, NULL) == NULL,
	    "no second stream while one is open");
	stream_close(stream);
	stream = codec_open(up->codec, &ops, NULL);
	ck_assert_msg(stream != NULL, "a stream again once it is closed");
}
END_TEST

/*
 * The codec is the connection's: the next stream on it starts from a
 * clean state (framing, interim count), whatever the last one left.
 */
START_TEST(test_next_stream)
{
	start(false);
	origin("HTTP/1.1 103 Early Hints\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n0\r\n\r\n");
	ck_assert_str_eq(seen.log, "interim 103,head 200,end reusable");
	stream_close(stream);
	memset(&seen, 0, sizeof(seen));
	stream = codec_open(up->codec, &ops, NULL);
	ck_assert_msg(stream != NULL, "codec_open");
	start(false);
	origin("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
	ck_assert_str_eq(seen.log, "head 200,end reusable");
	ck_assert_uint_eq(seen.body_len, 2);
}
END_TEST

static Suite *
h1codec_suite(void)
{
	Suite *s = suite_create("h1codec");
	TCase *tc = tcase_create("h1codec");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_content_length);
	tcase_add_test(tc, test_extra_bytes);
	tcase_add_test(tc, test_chunked_after_interim);
	tcase_add_test(tc, test_head_request);
	tcase_add_test(tc, test_response_trailers);
	tcase_add_test(tc, test_streamed_body);
	tcase_add_test(tc, test_streamed_length_body);
	tcase_add_test(tc, test_early_answer_unsent);
	tcase_add_test(tc, test_close_delimited);
	tcase_add_test(tc, test_closed_before_any_byte);
	tcase_add_test(tc, test_closed_mid_head);
	tcase_add_test(tc, test_closed_mid_body);
	tcase_add_test(tc, test_bad_response);
	tcase_add_test(tc, test_bad_chunk);
	tcase_add_test(tc, test_unasked_101);
	tcase_add_test(tc, test_asked_101);
	tcase_add_test(tc, test_too_many_interim);
	tcase_add_test(tc, test_stop_at_head);
	tcase_add_test(tc, test_pause);
	tcase_add_test(tc, test_one_stream_at_a_time);
	tcase_add_test(tc, test_next_stream);
	suite_add_tcase(s, tc);
	return s;
}

/* Fails the build's test run when any case fails. */
int
main(void)
{
	SRunner *sr = srunner_create(h1codec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
