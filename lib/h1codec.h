/*
 * h1codec.h - the HTTP/1.1 codec of one upstream exchange: it writes the
 * request on an upstream connection and frames the response that comes
 * back (interim responses, the head, the body by its framing, the end),
 * and reports only through struct h1codec_ops.  It knows no exchange, no
 * client and no configuration; HTTP/2 will be a second codec with the
 * same callbacks, carrying several streams on one connection.
 *
 * Owner: embedded in its user (the exchange), which starts it on a
 * connection allocated to it and stops or clears it.  The codec never
 * releases the connection: its user does (upstream_release()).
 *
 * After on_head() returns false, on_end() or on_error(), the codec does
 * not touch itself again: the user may have freed it in the callback.
 */
#ifndef FERRYD_H1CODEC_H
#define FERRYD_H1CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http1.h"

struct evbuffer;
struct upstream;

/* Interim (1xx) responses before the final one, at most. */
#define H1CODEC_MAX_INTERIM 32

/* Why a response could not be read to its end. */
enum h1codec_error {
	H1CODEC_TIMEOUT,	/* read_timeout of silence from the origin */
	H1CODEC_CLOSED,		/* closed or failed before any response byte:
				   the origin may not have read the request */
	H1CODEC_BROKEN		/* a malformed response, or the origin went
				   away part-way through it */
};

/* What the codec tells its user; arg is the user. */
struct h1codec_ops {
	/* A 1xx other than 101; the final response follows. */
	void (*on_interim)(const struct http1_response *r, void *arg);
	/*
	 * The final head (the user may move fields out of r->headers);
	 * false: the user ended the exchange (stop here).
	 */
	bool (*on_head)(struct http1_response *r, void *arg);
	/* Body bytes, decoded from their framing: take them all from data. */
	void (*on_body)(struct evbuffer *data, void *arg);
	/* The body's end; reusable: the connection may take another request. */
	void (*on_end)(bool reusable, void *arg);
	/* The response broke; why is one line, valid during the call. */
	void (*on_error)(enum h1codec_error e, const char *why, void *arg);
};

struct h1codec {
	const struct h1codec_ops *ops;
	void *arg;
	struct upstream *up;		/* while started */
	bool head_request;
	size_t max_header_size;
	struct http1_response resp;
	bool have_head;
	int interims;			/* 1xx responses so far */
	bool got_bytes;			/* the origin sent something */
	bool paused;			/* the user's client is slow */
	struct http1_chunked chunked;
	uint64_t body_left;		/* Content-Length framing */
	struct evbuffer *raw;		/* while started: the connection's (upstream.h) */
	struct evbuffer *data;
};

/* Readies c for its user (ops, arg); 0 (it allocates nothing). */
int h1codec_init(struct h1codec *c, const struct h1codec_ops *ops, void *arg);
/* Frees what h1codec_init() allocated. */
void h1codec_clear(struct h1codec *c);

/*
 * Sends head, then body by reference (NULL: none), on up and reads the
 * response; head_request: the response to HEAD has no body.
 * read_timeout (usec) of silence is H1CODEC_TIMEOUT.
 */
void h1codec_start(struct h1codec *c, struct upstream *up,
    struct evbuffer *head, struct evbuffer *body, bool head_request,
    size_t max_header_size, int64_t read_timeout);

/* Forgets the exchange on its connection (before a retry or a release). */
void h1codec_stop(struct h1codec *c);

/* Stops or resumes reading the response (the client's backpressure). */
void h1codec_pause(struct h1codec *c, bool paused);

/* True when part of the request is still unsent: the connection cannot be reused. */
bool h1codec_request_unsent(const struct h1codec *c);

#endif
