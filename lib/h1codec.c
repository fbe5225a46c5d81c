/*
 * h1codec.c - HTTP/1.1 framing on an upstream connection, one exchange
 * at a time.  See h1codec.h and codec.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "h1codec.h"
#include "headers.h"
#include "http1.h"
#include "upstream.h"

/* Body bytes taken from the origin per read. */
#define BODY_READ_MAX (256 * 1024)
/*
 * A streamed request body: queued for the origin at most, and the level
 * below which the exchange is asked for more (a few socket buffers).
 */
#define BODY_SEND_HIGH (256 * 1024)
#define BODY_SEND_LOW (64 * 1024)

/* The codec and its one stream (codec.h). */
struct h1codec {
	struct codec codec;		/* must stay first */
	struct stream stream;		/* lent to one exchange at a time */
	struct upstream *up;
	bool open;			/* the stream is lent */
	const struct stream_ops *ops;
	void *arg;

	/* The response of the open stream. */
	bool head_request;
	bool upgrade;			/* the request offered one */
	size_t max_header_size;
	struct http1_response resp;
	bool have_head;
	int interims;			/* 1xx responses so far */
	bool got_bytes;			/* the origin sent something */
	bool paused;			/* the exchange's client is slow */
	bool body_pending;		/* the request body is still streaming */
	bool body_chunked;
	int64_t read_timeout;
	struct http1_chunked chunked;
	uint64_t body_left;		/* Content-Length framing */
	/*
	 * Response bytes taken from the socket, and decoded body bytes:
	 * made once per connection, not once per request; empty between
	 * streams.
	 */
	struct evbuffer *raw;
	struct evbuffer *data;
	struct evbuffer *trailers;	/* of a chunked response */
};

static void h1codec_on_read(void *arg);
static void h1codec_on_write(void *arg);
static void h1codec_on_event(short what, void *arg);

static const struct upstream_ops codec_upstream_ops = {
	.on_read = h1codec_on_read,
	.on_write = h1codec_on_write,
	.on_event = h1codec_on_event,
};

static struct h1codec *
h1codec_of(const struct stream *s)
{
	return (struct h1codec *)s->codec;
}

struct codec *
h1codec_new(struct upstream *up)
{
	struct h1codec *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->raw = evbuffer_new()) == NULL ||
	    (c->data = evbuffer_new()) == NULL ||
	    (c->trailers = evbuffer_new()) == NULL) {
		if (c->raw != NULL)
			evbuffer_free(c->raw);
		if (c->data != NULL)
			evbuffer_free(c->data);
		free(c);
		return NULL;
	}
	c->codec.cls = &h1codec_class;
	c->stream.codec = &c->codec;
	c->up = up;
	http1_response_init(&c->resp);
	return &c->codec;
}

static void
h1codec_free(struct codec *codec)
{
	struct h1codec *c = (struct h1codec *)codec;

	http1_response_clear(&c->resp);
	evbuffer_free(c->raw);
	evbuffer_free(c->data);
	evbuffer_free(c->trailers);
	free(c);
}

/* HTTP/1.1 carries one exchange at a time (pipelining is not used). */
static struct stream *
h1codec_open(struct codec *codec, const struct stream_ops *ops, void *arg)
{
	struct h1codec *c = (struct h1codec *)codec;

	if (c->open)
		return NULL;
	c->open = true;
	c->ops = ops;
	c->arg = arg;
	c->have_head = c->got_bytes = c->paused = false;
	c->chunked.trailers = c->trailers;
	c->interims = 0;
	return &c->stream;
}

static void
h1codec_send(struct stream *s, const struct stream_request *rq)
{
	struct h1codec *c = h1codec_of(s);
	struct evbuffer *out = bufferevent_get_output(c->up->bev);

	size_t n = rq->body != NULL ? evbuffer_get_length(rq->body) : 0;

	c->head_request = rq->head_request;
	c->upgrade = rq->upgrade;
	c->max_header_size = rq->max_header_size;
	c->body_chunked = rq->chunked;
	c->body_pending = rq->body_pending;
	c->read_timeout = rq->read_timeout;
	upstream_attach(c->up, &codec_upstream_ops, c, rq->read_timeout);
	evbuffer_add(out, evbuffer_pullup(rq->head, -1),
	    evbuffer_get_length(rq->head));
	/* A reference, not a copy: the body stays whole for a retry. */
	if (n > 0 && c->body_chunked)
		evbuffer_add_printf(out, "%zx\r\n", n);
	if (n > 0)
		evbuffer_add_buffer_reference(out, rq->body);
	if (n > 0 && c->body_chunked)
		evbuffer_add(out, "\r\n", 2);
	if (c->body_pending)
		bufferevent_setwatermark(c->up->bev, EV_WRITE, BODY_SEND_LOW, 0);
	else if (c->body_chunked)
		evbuffer_add(out, "0\r\n\r\n", 5);
}

static size_t
h1codec_body_room(const struct stream *s)
{
	const struct h1codec *c = h1codec_of(s);
	size_t queued = evbuffer_get_length(bufferevent_get_output(c->up->bev));

	return c->body_pending && queued < BODY_SEND_HIGH ?
	    BODY_SEND_HIGH - queued : 0;
}

static void
h1codec_send_body(struct stream *s, struct evbuffer *data)
{
	struct h1codec *c = h1codec_of(s);
	struct evbuffer *out = bufferevent_get_output(c->up->bev);
	size_t n = evbuffer_get_length(data);

	if (n == 0 || !c->body_pending)
		return;
	if (c->body_chunked)
		evbuffer_add_printf(out, "%zx\r\n", n);
	evbuffer_add_buffer(out, data);
	if (c->body_chunked)
		evbuffer_add(out, "\r\n", 2);
}

static void
h1codec_end_body(struct stream *s, struct evbuffer *trailers)
{
	struct h1codec *c = h1codec_of(s);
	struct evbuffer *out = bufferevent_get_output(c->up->bev);
	struct headers_writer w;

	if (!c->body_pending)
		return;
	c->body_pending = false;
	bufferevent_setwatermark(c->up->bev, EV_WRITE, 0, 0);
	if (!c->body_chunked)
		return;
	headers_writer_init(&w, out);
	headers_write(&w, "0\r\n", 3);
	if (trailers != NULL)
		headers_write_trailers(&w, trailers);
	headers_write(&w, "\r\n", 2);
	headers_writer_flush(&w);
}

/*
 * The origin took part of a streamed body: it is alive, whatever it has
 * not said yet (read_timeout counts from here), and the exchange may
 * send more.
 */
static void
h1codec_on_write(void *arg)
{
	struct h1codec *c = arg;

	if (!c->open || !c->body_pending)
		return;
	upstream_touch(c->up, c->read_timeout);
	c->ops->on_sendable(c->arg);
}

static void
h1codec_close(struct stream *s)
{
	struct h1codec *c = h1codec_of(s);

	http1_response_clear(&c->resp);
	http1_response_init(&c->resp);
	memset(&c->chunked, 0, sizeof(c->chunked));
	c->chunked.trailers = c->trailers;
	evbuffer_drain(c->trailers, evbuffer_get_length(c->trailers));
	c->body_left = 0;
	if (c->body_pending)
		bufferevent_setwatermark(c->up->bev, EV_WRITE, 0, 0);
	c->body_pending = false;
	/* Whatever is left belongs to nobody (the release will not reuse it). */
	evbuffer_drain(c->raw, evbuffer_get_length(c->raw));
	evbuffer_drain(c->data, evbuffer_get_length(c->data));
	c->open = false;
	c->ops = NULL;
	c->arg = NULL;
}

static void
h1codec_pause(struct stream *s, bool paused)
{
	struct h1codec *c = h1codec_of(s);

	if (c->paused == paused)
		return;
	c->paused = paused;
	upstream_set_reading(c->up, !paused);
}

static bool
h1codec_request_unsent(const struct stream *s)
{
	return h1codec_of(s)->body_pending || evbuffer_get_length(
	    bufferevent_get_output(h1codec_of(s)->up->bev)) != 0;
}

const struct codec_class h1codec_class = {
	.name = "http/1.1",
	.open = h1codec_open,
	.send = h1codec_send,
	.pause = h1codec_pause,
	.body_room = h1codec_body_room,
	.send_body = h1codec_send_body,
	.end_body = h1codec_end_body,
	.request_unsent = h1codec_request_unsent,
	.close = h1codec_close,
	.free = h1codec_free,
};

/* How the origin's side stands after read_more(). */
enum origin_side {
	ORIGIN_OPEN,			/* more may come */
	ORIGIN_EOF,			/* the origin closed the connection */
	ORIGIN_ERROR			/* a read error (errno) */
};

/*
 * Takes more of the body from the socket than libevent's 4 KiB reads
 * would (a 1 MiB body otherwise costs hundreds of callbacks), never past
 * a Content-Length body's end.  Bytes read before an EOF or error are in
 * c->raw all the same.
 */
static enum origin_side
read_more(struct h1codec *c)
{
	size_t want = BODY_READ_MAX, have = evbuffer_get_length(c->raw);

	if (c->paused || have >= BODY_READ_MAX)
		return ORIGIN_OPEN;
	want -= have;
	if (c->resp.body == HTTP1_BODY_LENGTH) {
		if (c->body_left <= have)
			return ORIGIN_OPEN;
		if (c->body_left - have < want)
			want = (size_t)(c->body_left - have);
	}
	if (upstream_read_more(c->up, c->raw, want) >= 0)
		return ORIGIN_OPEN;
	return errno == 0 ? ORIGIN_EOF : ORIGIN_ERROR;
}

/*
 * At the body's end: the connection may take another exchange when the
 * origin allows it, is still open, and sent nothing past the end
 * (upstream_release() then peeks the kernel too).
 */
static bool
reusable(const struct h1codec *c, enum origin_side side)
{
	return c->resp.keep_alive && side == ORIGIN_OPEN &&
	    evbuffer_get_length(c->raw) == 0;
}

/* Hands decoded bytes to the user, if any. */
static void
deliver(struct h1codec *c)
{
	if (evbuffer_get_length(c->data) > 0)
		c->ops->on_body(c->data, c->arg);
}

/*
 * Moves body bytes to the user; ends at the body's end.  What came
 * before an EOF or error goes to the user first.
 */
static void
pump_body(struct h1codec *c)
{
	struct evbuffer *in = c->raw;
	enum origin_side side = ORIGIN_OPEN;
	enum http1_result res;
	const char *why;
	char err[128];
	size_t n;

	evbuffer_add_buffer(in, bufferevent_get_input(c->up->bev));
	if (c->resp.body != HTTP1_BODY_NONE &&
	    (side = read_more(c)) == ORIGIN_ERROR)
		snprintf(err, sizeof(err), "origin connection failed: %s",
		    strerror(errno));
	switch (c->resp.body) {
	case HTTP1_BODY_NONE:
		c->ops->on_end(reusable(c, side), c->trailers, c->arg);
		return;
	case HTTP1_BODY_LENGTH:
		n = evbuffer_get_length(in);
		if (n > c->body_left)
			n = (size_t)c->body_left;
		evbuffer_remove_buffer(in, c->data, n);
		c->body_left -= n;
		deliver(c);
		if (c->body_left == 0) {
			c->ops->on_end(reusable(c, side), c->trailers, c->arg);
			return;
		}
		break;
	case HTTP1_BODY_CHUNKED:
		res = http1_chunked_decode(&c->chunked, in, c->data, &why);
		deliver(c);
		if (res == HTTP1_ERROR) {
			c->ops->on_error(STREAM_BROKEN, why, c->arg);
			return;
		}
		if (res == HTTP1_OK) {
			c->ops->on_end(reusable(c, side), c->trailers, c->arg);
			return;
		}
		break;
	case HTTP1_BODY_CLOSE:
		evbuffer_add_buffer(c->data, in);
		deliver(c);
		/* The origin's close is how this body ends. */
		if (side == ORIGIN_EOF) {
			c->ops->on_end(false, NULL, c->arg);
			return;
		}
		break;
	}
	if (side == ORIGIN_EOF)
		c->ops->on_error(STREAM_BROKEN, "origin closed the connection",
		    c->arg);
	else if (side == ORIGIN_ERROR)
		c->ops->on_error(STREAM_BROKEN, err, c->arg);
}

static void
h1codec_on_read(void *arg)
{
	struct h1codec *c = arg;
	struct evbuffer *in = bufferevent_get_input(c->up->bev);
	enum http1_result res;
	const char *why;
	char text[160];

	if (evbuffer_get_length(in) > 0)
		c->got_bytes = true;
	while (!c->have_head) {
		res = http1_parse_response(in, &c->resp, c->head_request,
		    c->max_header_size, &why);
		if (res == HTTP1_MORE)
			return;
		if (res == HTTP1_ERROR) {
			snprintf(text, sizeof(text), "bad response from origin: %s",
			    why);
			c->ops->on_error(STREAM_BROKEN, text, c->arg);
			return;
		}
		if (c->resp.status >= 200) {
			c->have_head = true;
			c->body_left = c->resp.content_length;
			if (!c->ops->on_head(&c->resp, c->arg))
				return;
			break;
		}
		if (c->resp.status == 101 && c->upgrade) {
			c->have_head = true;
			c->ops->on_upgrade(&c->resp, c->arg);
			return;
		}
		if (c->resp.status == 101) {
			c->ops->on_error(STREAM_BROKEN,
			    "origin switched protocols without being asked",
			    c->arg);
			return;
		}
		/*
		 * An interim response (100, 102, 103): the real one follows.
		 * Their number is bounded, or an origin could keep an
		 * exchange (and read_timeout) alive with them for ever.
		 */
		if (++c->interims > H1CODEC_MAX_INTERIM) {
			c->ops->on_error(STREAM_BROKEN,
			    "too many interim responses from origin", c->arg);
			return;
		}
		c->ops->on_interim(&c->resp, c->arg);
		http1_response_clear(&c->resp);
		http1_response_init(&c->resp);
	}
	pump_body(c);
}

static void
h1codec_on_event(short what, void *arg)
{
	struct h1codec *c = arg;
	const char *tls = (what & BEV_EVENT_EOF) ? "" :
	    upstream_error_reason(c->up);
	char what_text[128], text[192];

	snprintf(what_text, sizeof(what_text), "%s%s%s",
	    (what & BEV_EVENT_EOF) ? "origin closed the connection" :
	    "origin connection failed", *tls != '\0' ? ": " : "", tls);

	if (what & BEV_EVENT_TIMEOUT) {
		c->ops->on_error(STREAM_TIMEOUT, c->have_head ?
		    "origin stopped sending" : "origin did not answer", c->arg);
		return;
	}
	if (c->have_head) {
		if ((what & BEV_EVENT_EOF) && c->resp.body == HTTP1_BODY_CLOSE) {
			/* The end of a close-delimited body. */
			evbuffer_add_buffer(c->raw,
			    bufferevent_get_input(c->up->bev));
			evbuffer_add_buffer(c->data, c->raw);
			deliver(c);
			/* RFC 9112 9.8: over TLS only close_notify ends it whole. */
			if (upstream_eof_clean(c->up))
				c->ops->on_end(false, NULL, c->arg);
			else
				c->ops->on_error(STREAM_BROKEN, "origin ended "
				    "TLS without close_notify: the body may "
				    "be cut short", c->arg);
		} else
			c->ops->on_error(STREAM_BROKEN, what_text, c->arg);
		return;
	}
	snprintf(text, sizeof(text), "%s before a complete response", what_text);
	c->ops->on_error(c->got_bytes ? STREAM_BROKEN : STREAM_CLOSED, text,
	    c->arg);
}
