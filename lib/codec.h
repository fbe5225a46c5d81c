/*
 * codec.h - the protocol spoken on one upstream connection, as an
 * exchange sees it.  A connection has one codec; the codec carries
 * streams, one exchange each: the exchange opens a stream, sends its
 * request on it, hears of the response only through struct stream_ops,
 * and closes it.  HTTP/1.1 (h1codec.c) carries one stream at a time;
 * HTTP/2 will carry as many as the connection's allocation limit, behind
 * the same calls.  Nothing here knows an exchange, a client or the
 * configuration.
 *
 * Owner: the upstream connection owns its codec (it calls codec_free()
 * when it closes).  A stream belongs to the codec and is lent to its
 * exchange from codec_open() until stream_close().
 *
 * After on_head() returns false, on_end(), on_error() or on_upgrade(), the codec does
 * not touch the stream again: the exchange may have closed it (and the
 * connection) in the callback.
 */
#ifndef FERRYD_CODEC_H
#define FERRYD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct http1_response;

/* Why a response could not be read to its end. */
enum stream_error {
	STREAM_TIMEOUT,		/* read_timeout of silence from the origin */
	STREAM_CLOSED,		/* closed or failed before any response byte:
				   the origin may not have read the request */
	STREAM_BROKEN		/* a malformed response, or the origin went
				   away part-way through it */
};

/* What a stream tells its exchange; arg is the exchange. */
struct stream_ops {
	/* A 1xx other than 101; the final response follows. */
	void (*on_interim)(const struct http1_response *r, void *arg);
	/*
	 * The final head (the exchange may move fields out of r->headers);
	 * false: the exchange ended (stop here).
	 */
	bool (*on_head)(struct http1_response *r, void *arg);
	/* Body bytes, decoded from their framing: take them all from data. */
	void (*on_body)(struct evbuffer *data, void *arg);
	/*
	 * The body's end; reusable: the connection may take another request.
	 * trailers: a chunked body's trailer section, lines as
	 * http1_chunked.trailers keeps them (NULL or empty: none); the
	 * exchange may take them, until it returns.
	 */
	void (*on_end)(bool reusable, struct evbuffer *trailers, void *arg);
	/* The response broke; why is one line, valid during the call. */
	void (*on_error)(enum stream_error e, const char *why, void *arg);
	/*
	 * A 101 to a request that offered an upgrade: the connection now
	 * speaks another protocol, whose first bytes may wait in the
	 * transport's input after the head.  The codec is done with it.
	 */
	void (*on_upgrade)(struct http1_response *r, void *arg);
	/*
	 * A streamed request body may go on: the connection took what was
	 * queued (stream_body_room() says how much more it will hold).
	 */
	void (*on_sendable)(void *arg);
};

/* One request on a stream. */
struct stream_request {
	struct evbuffer *head;		/* the request head, HTTP/1.1 text */
	struct evbuffer *body;		/* sent by reference; NULL: none */
	bool head_request;		/* the response to HEAD has no body */
	bool upgrade;			/* it offers Upgrade: a 101 may come */
	size_t max_header_size;		/* of the response head */
	int64_t read_timeout;		/* usec of silence: STREAM_TIMEOUT */
	bool chunked;			/* the body goes as chunks (the head says so) */
	/*
	 * More body follows body, through stream_send_body() and, at its
	 * end, stream_end_body(); false: body is all of it.
	 */
	bool body_pending;
};

struct codec;
struct stream;

/* What a protocol implements. */
struct codec_class {
	const char *name;		/* its ALPN name: "http/1.1" */
	/* NULL when the connection carries all the streams it may. */
	struct stream *(*open)(struct codec *c, const struct stream_ops *ops,
	    void *arg);
	void (*send)(struct stream *s, const struct stream_request *rq);
	void (*pause)(struct stream *s, bool paused);
	size_t (*body_room)(const struct stream *s);
	void (*send_body)(struct stream *s, struct evbuffer *data);
	void (*end_body)(struct stream *s, struct evbuffer *trailers);
	bool (*request_unsent)(const struct stream *s);
	void (*close)(struct stream *s);
	void (*free)(struct codec *c);
};

/* The first member of every codec and every stream. */
struct codec {
	const struct codec_class *cls;
};

struct stream {
	struct codec *codec;
};

/* Opens a stream for ops/arg; NULL when the connection has no room. */
static inline struct stream *
codec_open(struct codec *c, const struct stream_ops *ops, void *arg)
{
	return c->cls->open(c, ops, arg);
}

/* Sends rq (head, then body) and starts reading the response. */
static inline void
stream_send(struct stream *s, const struct stream_request *rq)
{
	s->codec->cls->send(s, rq);
}

/* Stops or resumes reading the response (the client's backpressure). */
static inline void
stream_pause(struct stream *s, bool paused)
{
	s->codec->cls->pause(s, paused);
}

/*
 * Bytes of a streamed body the connection takes now without holding more
 * than a few socket buffers in ferryd; 0: wait for on_sendable.
 */
static inline size_t
stream_body_room(const struct stream *s)
{
	return s->codec->cls->body_room(s);
}

/* Queues all of data, the next piece of the body (framed as the head said). */
static inline void
stream_send_body(struct stream *s, struct evbuffer *data)
{
	s->codec->cls->send_body(s, data);
}

/*
 * The body is complete; trailers (raw lines, NULL: none) go with a
 * chunked one, filtered by headers_write_trailers().
 */
static inline void
stream_end_body(struct stream *s, struct evbuffer *trailers)
{
	s->codec->cls->end_body(s, trailers);
}

/*
 * True when part of the request is still unsent, its body not ended or
 * bytes still queued: the connection cannot be reused.
 */
static inline bool
stream_request_unsent(const struct stream *s)
{
	return s->codec->cls->request_unsent(s);
}

/* The exchange is done with s (before it releases the connection). */
static inline void
stream_close(struct stream *s)
{
	s->codec->cls->close(s);
}

/* Frees c; no stream is open on it. */
static inline void
codec_free(struct codec *c)
{
	c->cls->free(c);
}

#endif
