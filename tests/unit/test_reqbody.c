/*
 * test_reqbody.c - unit tests of lib/reqbody.c: a body that came whole,
 * one held for the origin's 100 and released by it or by its 1 s timer,
 * ferryd's own 100 to a client of an HTTP/1.0 origin, 411 for chunked
 * there, the copy kept for a retry and dropped past its limit or when
 * no retry can use it, trailers, backpressure, a broken body.
 *
 * The client side is faked at link time: this file defines
 * client_body_read(), client_body_wake() and client_body_trailers(), so
 * client.o never comes in from libferryd.a.  The stream is a fake codec
 * that collects what it is sent.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "codec.h"
#include "reqbody.h"

/* The fake client: what its next read gives, and what was asked of it. */
static struct evbuffer *from_client;	/* bytes the next read hands over */
static enum client_body_result next_result;
static int wakes;

enum client_body_result
client_body_read(struct client *c, struct evbuffer *out)
{
	(void)c;
	evbuffer_add_buffer(out, from_client);
	return next_result;
}

void
client_body_wake(struct client *c)
{
	(void)c;
	wakes++;
}

static struct evbuffer *client_trailers;	/* what client_body_trailers gives */

struct evbuffer *
client_body_trailers(struct client *c)
{
	(void)c;
	return client_trailers;
}

/* The fake stream: room it offers, what it got. */
static size_t room;
static struct evbuffer *to_origin;
static bool ended;
static struct evbuffer *ended_with;	/* the trailers end_body got */

static size_t
fake_room(const struct stream *s)
{
	(void)s;
	return room;
}

static void
fake_send_body(struct stream *s, struct evbuffer *data)
{
	(void)s;
	evbuffer_add_buffer(to_origin, data);
}

static void
fake_end_body(struct stream *s, struct evbuffer *trailers)
{
	(void)s;
	ended = true;
	ended_with = trailers;
}

static const struct codec_class fake_class = {
	.name = "fake",
	.body_room = fake_room,
	.send_body = fake_send_body,
	.end_body = fake_end_body,
};
static struct codec fake_codec = { &fake_class };
static struct stream fake_stream = { &fake_codec };

/* What the body told its exchange. */
static int failed_status;
static char failed_why[64];
static char interim[64];

static void
on_failed(void *arg, int status, const char *why)
{
	(void)arg;
	failed_status = status;
	snprintf(failed_why, sizeof(failed_why), "%s", why);
}

static void
on_interim(void *arg, struct evbuffer *buf)
{
	size_t n = evbuffer_get_length(buf);

	(void)arg;
	ck_assert_uint_lt(n, sizeof(interim));
	evbuffer_remove(buf, interim, n);
	interim[n] = '\0';
}

static const struct reqbody_ops ops = { on_failed, on_interim };
static struct event_base *base;
static struct client client;
static struct reqbody b;

static void
setup(void)
{
	base = event_base_new();
	from_client = evbuffer_new();
	to_origin = evbuffer_new();
	client_trailers = evbuffer_new();
	ended_with = NULL;
	next_result = CLIENT_BODY_MORE;
	wakes = 0;
	room = 1 << 20;
	ended = false;
	failed_status = 0;
	interim[0] = '\0';
	memset(&client, 0, sizeof(client));
	memset(&b, 0, sizeof(b));
}

static void
teardown(void)
{
	reqbody_clear(&b);
	evbuffer_free(from_client);
	evbuffer_free(to_origin);
	evbuffer_free(client_trailers);
	event_base_free(base);
}

static enum reqbody_start_result
start(enum client_body_kind kind, uint64_t length, bool expect, bool old)
{
	client.body.kind = kind;
	client.body.length = length;
	return reqbody_start(&b, &client, base, &ops, NULL, "PUT http://x/",
	    expect, old);
}

START_TEST(no_body)
{
	struct stream_request rq = { 0 };

	ck_assert_int_eq(start(CLIENT_BODY_NONE, 0, false, false),
	    REQBODY_STARTED);
	reqbody_request(&b, &rq);
	ck_assert(!rq.body_pending && !rq.chunked && rq.body == NULL);
	reqbody_pump(&b, &fake_stream, true);
	ck_assert_uint_eq(evbuffer_get_length(to_origin), 0);
	ck_assert(reqbody_resendable(&b) && !reqbody_midway(&b));
}
END_TEST

/* All of it with the head: a length, no Expect, a copy for the retry. */
START_TEST(whole_with_head)
{
	struct stream_request rq = { 0 };

	evbuffer_add(from_client, "hello", 5);
	next_result = CLIENT_BODY_DONE;
	ck_assert_int_eq(start(CLIENT_BODY_CHUNKED, 0, true, false),
	    REQBODY_STARTED);
	ck_assert(b.kind == CLIENT_BODY_LENGTH && b.length == 5);
	ck_assert_msg(!b.chunked && !b.expect && b.flowing,
	    "goes with a length, at once");
	reqbody_request(&b, &rq);
	ck_assert(rq.body_pending);
	reqbody_sent_head(&b);
	ck_assert_msg(b.expect_timer == NULL, "nothing to wait for");
	reqbody_pump(&b, &fake_stream, true);
	ck_assert_uint_eq(evbuffer_get_length(to_origin), 5);
	ck_assert(ended && b.ended && b.sent == 5);
	ck_assert_msg(ended_with == NULL, "no trailers after a length");
	/* The retry sends the copy, whole. */
	ck_assert(reqbody_resendable(&b));
	memset(&rq, 0, sizeof(rq));
	reqbody_request(&b, &rq);
	ck_assert(!rq.body_pending && rq.body != NULL);
	ck_assert_uint_eq(evbuffer_get_length(rq.body), 5);
}
END_TEST

/* Expect: held until released, waiting at most its timer. */
START_TEST(held_for_100)
{
	struct stream_request rq = { 0 };
	struct timeval at, now;
	double wait;

	ck_assert_int_eq(start(CLIENT_BODY_CHUNKED, 0, true, false),
	    REQBODY_STARTED);
	ck_assert(b.expect && !b.flowing && b.chunked);
	ck_assert_int_eq(wakes, 0);
	reqbody_request(&b, &rq);
	ck_assert_msg(rq.chunked && rq.body_pending && rq.body == NULL,
	    "goes chunked, streamed");
	reqbody_sent_head(&b);
	ck_assert(event_pending(b.expect_timer, EV_TIMEOUT, &at));
	gettimeofday(&now, NULL);
	wait = (double)(at.tv_sec - now.tv_sec) +
	    (double)(at.tv_usec - now.tv_usec) / 1e6;
	ck_assert_msg(wait > 0.8 && wait <= 1.0, "waits 1 s (%.3f)", wait);
	ck_assert_msg(!reqbody_midway(&b), "held is not under way");
	evbuffer_add(from_client, "abc", 3);
	reqbody_pump(&b, &fake_stream, false);
	ck_assert_msg(evbuffer_get_length(to_origin) == 0, "held back");
	reqbody_release(&b);
	ck_assert(!event_pending(b.expect_timer, EV_TIMEOUT, NULL));
	ck_assert(b.flowing && wakes == 1);
	reqbody_release(&b);
	ck_assert_msg(wakes == 1, "released once");
	reqbody_pump(&b, &fake_stream, false);
	ck_assert_uint_eq(evbuffer_get_length(to_origin), 3);
	ck_assert(reqbody_midway(&b) && !reqbody_resendable(&b));
	next_result = CLIENT_BODY_DONE;
	reqbody_pump(&b, &fake_stream, false);
	ck_assert(ended && !reqbody_midway(&b));
	ck_assert_msg(ended_with == client_trailers, "a chunked body's trailers go");
	ck_assert_msg(!reqbody_resendable(&b), "no copy was kept");
}
END_TEST

/* Nothing from the origin within the wait: the body goes anyway. */
START_TEST(expect_timeout)
{
	start(CLIENT_BODY_LENGTH, 10, true, false);
	reqbody_sent_head(&b);
	ck_assert(!b.flowing && wakes == 0);
	ck_assert_msg(reqbody_resendable(&b), "nothing sent yet: may go again");
	event_active(b.expect_timer, EV_TIMEOUT, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_msg(b.flowing && wakes == 1, "released by its timer");
}
END_TEST

/* A final answer before the body: the timer stops, the body stays. */
START_TEST(stop_waiting)
{
	start(CLIENT_BODY_LENGTH, 10, true, false);
	reqbody_sent_head(&b);
	reqbody_stop_waiting(&b);
	ck_assert(!event_pending(b.expect_timer, EV_TIMEOUT, NULL));
	ck_assert(!b.flowing && wakes == 0);
	reqbody_drop_expect(&b);
	ck_assert(!b.expect);
}
END_TEST

/* An origin last heard in HTTP/1.0: ferryd's own 100; chunked cannot go. */
START_TEST(origin_http10)
{
	ck_assert_int_eq(start(CLIENT_BODY_LENGTH, 10, true, true),
	    REQBODY_STARTED);
	ck_assert_str_eq(interim, "HTTP/1.1 100 Continue\r\n\r\n");
	ck_assert(!b.expect && b.flowing && wakes == 1);
	reqbody_clear(&b);
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(start(CLIENT_BODY_CHUNKED, 0, false, true),
	    REQBODY_NEEDS_LENGTH);
}
END_TEST

/* No Expect once body bytes are here (the client did not wait). */
START_TEST(no_expect_when_body_came)
{
	evbuffer_add(from_client, "ab", 2);
	start(CLIENT_BODY_LENGTH, 10, true, false);
	ck_assert(!b.expect && b.flowing && wakes == 1);
}
END_TEST

/* The copy is kept up to 64 KiB, then dropped: no retry after that. */
START_TEST(copy_limit)
{
	static char piece[16384];
	int i;

	start(CLIENT_BODY_LENGTH, 5 * sizeof(piece), false, false);
	for (i = 0; i < 4; i++) {
		evbuffer_add(from_client, piece, sizeof(piece));
		reqbody_pump(&b, &fake_stream, true);
	}
	ck_assert(b.replay != NULL);
	ck_assert_uint_eq(evbuffer_get_length(b.replay), 4 * sizeof(piece));
	evbuffer_add(from_client, piece, sizeof(piece));
	reqbody_pump(&b, &fake_stream, true);
	ck_assert_msg(b.replay == NULL, "over 64 KiB: dropped");
	evbuffer_add(from_client, piece, 100);
	next_result = CLIENT_BODY_DONE;
	reqbody_pump(&b, &fake_stream, true);
	ck_assert_msg(b.replay == NULL, "and never started again on a tail");
	ck_assert(b.ended && !reqbody_resendable(&b));
}
END_TEST

/* A copy is dropped once a retry could no longer use it. */
START_TEST(copy_dropped)
{
	start(CLIENT_BODY_LENGTH, 10, false, false);
	evbuffer_add(from_client, "abc", 3);
	reqbody_pump(&b, &fake_stream, true);
	ck_assert(b.replay != NULL);
	evbuffer_add(from_client, "def", 3);
	reqbody_pump(&b, &fake_stream, false);
	ck_assert(b.replay == NULL && !reqbody_resendable(&b));
}
END_TEST

/* No room upstream and nothing read: the client is not read either. */
START_TEST(backpressure)
{
	start(CLIENT_BODY_LENGTH, 100, false, false);
	room = 0;
	evbuffer_add(from_client, "abc", 3);
	reqbody_pump(&b, &fake_stream, false);
	ck_assert_uint_eq(evbuffer_get_length(to_origin), 0);
	ck_assert_uint_eq(evbuffer_get_length(from_client), 3);
	room = 10;
	reqbody_pump(&b, &fake_stream, false);
	ck_assert_uint_eq(evbuffer_get_length(to_origin), 3);
}
END_TEST

/* The scanner's verdict on a broken body reaches the exchange. */
START_TEST(broken_body)
{
	start(CLIENT_BODY_CHUNKED, 0, false, false);
	client.scan.status = 413;
	client.scan.why = "request body too large";
	next_result = CLIENT_BODY_ERROR;
	reqbody_pump(&b, &fake_stream, false);
	ck_assert_int_eq(failed_status, 413);
	ck_assert_str_eq(failed_why, "request body too large");
	client.scan.status = 0;
	client.scan.why = NULL;
	reqbody_pump(&b, &fake_stream, false);
	ck_assert_int_eq(failed_status, 400);
	ck_assert_str_eq(failed_why, "request body cut short");
}
END_TEST

static Suite *
reqbody_suite(void)
{
	Suite *s = suite_create("reqbody");
	TCase *tc = tcase_create("reqbody");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_body);
	tcase_add_test(tc, whole_with_head);
	tcase_add_test(tc, held_for_100);
	tcase_add_test(tc, expect_timeout);
	tcase_add_test(tc, copy_dropped);
	tcase_add_test(tc, stop_waiting);
	tcase_add_test(tc, origin_http10);
	tcase_add_test(tc, no_expect_when_body_came);
	tcase_add_test(tc, copy_limit);
	tcase_add_test(tc, backpressure);
	tcase_add_test(tc, broken_body);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(reqbody_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
