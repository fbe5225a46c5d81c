/*
 * reqbody.c - a request's body on its way to the origin.  See reqbody.h.
 */
#include <event2/buffer.h>
#include <event2/event.h>

#include "client.h"
#include "clock.h"
#include "codec.h"
#include "log.h"
#include "reqbody.h"

/* How long a body waits for the origin's 100 Continue (RFC 9110 10.1.1). */
#define REQBODY_EXPECT_WAIT (1000 * 1000)
/* A body sent whole up to this size is kept for a retry. */
#define REQBODY_REPLAY_MAX (64 * 1024)

static void
reqbody_on_expect_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct reqbody *b = arg;

	(void)fd;
	(void)what;
	log_debug("%s: no 100 Continue from the origin within 1 s: sending "
	    "the body", b->what);
	reqbody_release(b);
}

enum reqbody_start_result
reqbody_start(struct reqbody *b, struct client *c, struct event_base *base,
    const struct reqbody_ops *ops, void *arg, const char *what, bool expect,
    bool origin_10)
{
	b->client = c;
	b->ops = ops;
	b->arg = arg;
	b->what = what;
	b->kind = c != NULL ? (int)c->body.kind : CLIENT_BODY_NONE;
	if (b->kind == CLIENT_BODY_NONE)
		return REQBODY_STARTED;
	b->length = c->body.length;
	if ((b->buf = evbuffer_new()) == NULL)
		return REQBODY_NO_MEMORY;
	if (client_body_read(c, b->buf) == CLIENT_BODY_DONE) {
		b->length = evbuffer_get_length(b->buf);
		b->kind = CLIENT_BODY_LENGTH;
		b->flowing = true;
		return REQBODY_STARTED;
	}
	b->chunked = b->kind == CLIENT_BODY_CHUNKED;
	if (b->chunked && origin_10)
		return REQBODY_NEEDS_LENGTH;
	b->expect = expect && evbuffer_get_length(b->buf) == 0;
	/*
	 * An origin known to speak HTTP/1.0 would never answer the Expect:
	 * it does not see it, and the client is told to go on at once
	 * (RFC 9110 10.1.1 leaves that to a proxy that knows).
	 */
	if (b->expect && origin_10) {
		struct evbuffer *go = evbuffer_new();

		b->expect = false;
		if (go == NULL)
			return REQBODY_NO_MEMORY;
		evbuffer_add(go, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		b->ops->on_interim(b->arg, go);
		evbuffer_free(go);
	}
	b->flowing = !b->expect;
	if (b->flowing)
		client_body_wake(c);
	if (b->expect && (b->expect_timer = evtimer_new(base,
	    reqbody_on_expect_timeout, b)) == NULL)
		return REQBODY_NO_MEMORY;
	return REQBODY_STARTED;
}

void
reqbody_clear(struct reqbody *b)
{
	if (b->buf != NULL)
		evbuffer_free(b->buf);
	if (b->replay != NULL)
		evbuffer_free(b->replay);
	if (b->expect_timer != NULL)
		event_free(b->expect_timer);
	b->buf = b->replay = NULL;
	b->expect_timer = NULL;
}

void
reqbody_request(const struct reqbody *b, struct stream_request *rq)
{
	rq->chunked = b->chunked;
	rq->body_pending = b->kind != CLIENT_BODY_NONE;
	/* A retry sends a body that went whole again from its copy. */
	if (b->ended) {
		rq->body = b->replay;
		rq->body_pending = false;
	}
}

void
reqbody_sent_head(struct reqbody *b)
{
	struct timeval wait = clock_to_timeval(REQBODY_EXPECT_WAIT);

	if (b->kind != CLIENT_BODY_NONE && !b->ended && !b->flowing)
		evtimer_add(b->expect_timer, &wait);
}

/*
 * Copies data into the replay while a retry could still re-send all of
 * the body (REQBODY_REPLAY_MAX), so that a reused connection found closed
 * under the request does not lose a small body.
 */
static void
keep_replay(struct reqbody *b, struct evbuffer *data, bool keep_copy)
{
	size_t n = evbuffer_get_length(data);

	if (!keep_copy) {
		if (b->replay != NULL) {
			evbuffer_free(b->replay);
			b->replay = NULL;
		}
		return;
	}
	if (b->sent == 0 && b->replay == NULL)
		b->replay = evbuffer_new();
	if (b->replay == NULL)
		return;
	if (evbuffer_get_length(b->replay) + n > REQBODY_REPLAY_MAX) {
		evbuffer_free(b->replay);
		b->replay = NULL;
		return;
	}
	evbuffer_add(b->replay, evbuffer_pullup(data, -1), n);
}

/*
 * The client's input buffer and the upstream output hold what is not
 * sent yet (a few hundred KiB each), and the sockets push back beyond.
 */
void
reqbody_pump(struct reqbody *b, struct stream *s, bool keep_copy)
{
	enum client_body_result r;
	const struct reqscan *scan;
	size_t n;

	if (b->kind == CLIENT_BODY_NONE || !b->flowing || b->ended)
		return;
	for (;;) {
		if (evbuffer_get_length(b->buf) == 0 &&
		    stream_body_room(s) == 0)
			return;
		r = client_body_read(b->client, b->buf);
		if ((n = evbuffer_get_length(b->buf)) > 0) {
			keep_replay(b, b->buf, keep_copy);
			b->sent += n;
			stream_send_body(s, b->buf);
		}
		if (r == CLIENT_BODY_DONE) {
			b->ended = true;
			stream_end_body(s, b->chunked ?
			    client_body_trailers(b->client) : NULL);
			return;
		}
		if (r == CLIENT_BODY_ERROR) {
			scan = &b->client->scan;
			b->ops->on_failed(b->arg, scan->status != 0 ?
			    scan->status : 400, scan->why != NULL ? scan->why :
			    "request body cut short");
			return;
		}
		if (n == 0)
			return;
	}
}

void
reqbody_release(struct reqbody *b)
{
	reqbody_stop_waiting(b);
	if (b->kind == CLIENT_BODY_NONE || b->flowing)
		return;
	b->flowing = true;
	client_body_wake(b->client);
}

void
reqbody_stop_waiting(struct reqbody *b)
{
	if (b->expect_timer != NULL)
		evtimer_del(b->expect_timer);
}

void
reqbody_drop_expect(struct reqbody *b)
{
	reqbody_stop_waiting(b);
	b->expect = false;
}

bool
reqbody_resendable(const struct reqbody *b)
{
	return b->sent == 0 || (b->ended && b->replay != NULL);
}

bool
reqbody_midway(const struct reqbody *b)
{
	return b->kind != CLIENT_BODY_NONE && !b->ended && b->flowing;
}
