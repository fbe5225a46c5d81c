/*
 * reqbody.h - a request's body on its way to the origin: read from the
 * client as it comes (client.h), held back while an Expect: 100-continue
 * waits for the origin's answer, moved into the stream as the connection
 * takes it, and copied while a retry could still send it again whole.
 *
 * Owner: struct exchange embeds one, from reqbody_start() to
 * reqbody_clear(); the body tells its exchange what it cannot handle
 * itself through struct reqbody_ops.
 */
#ifndef FERRYD_REQBODY_H
#define FERRYD_REQBODY_H

#include <stdbool.h>
#include <stdint.h>

struct client;
struct event;
struct event_base;
struct evbuffer;
struct stream;
struct stream_request;

/* What a body tells its exchange; arg is the exchange. */
struct reqbody_ops {
	/* The client's body broke (the scanner's status and why). */
	void (*on_failed)(void *arg, int status, const char *why);
	/* buf holds ferryd's own 100 Continue for the client. */
	void (*on_interim)(void *arg, struct evbuffer *buf);
};

struct reqbody {
	struct client *client;
	const struct reqbody_ops *ops;
	void *arg;
	const char *what;		/* "METHOD uri" of its exchange, for logs */
	int kind;			/* enum client_body_kind; NONE: there is none */
	uint64_t length;		/* what the upstream head says, unless chunked */
	bool chunked;			/* it goes upstream chunked */
	bool expect;			/* Expect: 100-continue goes to the origin */
	bool flowing;			/* sent as it comes (no longer held back) */
	bool ended;			/* all of it handed to a stream */
	uint64_t sent;			/* data bytes handed to a stream */
	struct evbuffer *buf;		/* read from the client, not yet sent */
	struct evbuffer *replay;	/* all that was sent (NULL: too much, or none kept) */
	struct event *expect_timer;
};

/* How reqbody_start() went. */
enum reqbody_start_result {
	REQBODY_STARTED,
	REQBODY_NO_MEMORY,
	/*
	 * The body is chunked and the origin was last heard in HTTP/1.0: it
	 * would read the chunks as requests or lose them (RFC 9112 6.1).
	 */
	REQBODY_NEEDS_LENGTH
};

/*
 * Takes the body of c's current request, if it has one, and what of it
 * is here already: a body that came whole with its head goes upstream
 * with its length and without waiting for a 100 Continue.  expect says
 * the client sent Expect: 100-continue in HTTP/1.1 (RFC 9110 10.1.1: an
 * HTTP/1.0 one is ignored); to an origin known as HTTP/1.0 (origin_10)
 * it is not passed on, and the client gets ferryd's own 100 at once.
 * what must outlive b.  c's body watcher stays the caller's to set.
 */
enum reqbody_start_result reqbody_start(struct reqbody *b, struct client *c,
    struct event_base *base, const struct reqbody_ops *ops, void *arg,
    const char *what, bool expect, bool origin_10);

/* Frees what b holds; b may never have been started (all zero). */
void reqbody_clear(struct reqbody *b);

/*
 * The body's part of the request to send: its framing, and on a retry
 * the copy of a body that went whole the first time (lent: it stays b's,
 * and the stream sends it by reference).
 */
void reqbody_request(const struct reqbody *b, struct stream_request *rq);

/*
 * The request went out on a stream: a body held for the origin's 100
 * waits for it at most a second (an origin that neither answers nor
 * reads gets it anyway, as curl does).
 */
void reqbody_sent_head(struct reqbody *b);

/*
 * Moves what the client sent into s while the connection takes it;
 * keep_copy: a retry could re-send it, so keep a copy (up to 64 KiB).
 */
void reqbody_pump(struct reqbody *b, struct stream *s, bool keep_copy);

/* The origin asked for the body (100), or the wait is over: send it. */
void reqbody_release(struct reqbody *b);

/* No more waiting for a 100: a final answer came, or a retry begins. */
void reqbody_stop_waiting(struct reqbody *b);

/* The request goes again without Expect (the origin refused it: 417). */
void reqbody_drop_expect(struct reqbody *b);

/* Nothing of the body went, or all of it and its copy is kept. */
bool reqbody_resendable(const struct reqbody *b);

/* Part of the body went and more was to come. */
bool reqbody_midway(const struct reqbody *b);

#endif
