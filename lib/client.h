/*
 * client.h - one client connection as ferryd sees it below evhttp.
 *
 * evhttp reads the socket bufferevent directly, but every byte it reads
 * has first gone through the strict request scanner (reqscan.h), fed from
 * a callback on the bufferevent's input buffer, which runs when bytes are
 * added and so before evhttp parses them.  At the first violation the
 * client drops the offending request's bytes from the buffer, so evhttp
 * never sees them, and answers with the scanner's status itself (after
 * the reply in flight, if any), then closes the connection.  It also owns
 * the client header timeout (408) and evhttp's close callback, which it
 * passes on to the exchange in flight.
 *
 * Owner: created by evhttp's bufferevent callback, freed from evhttp's
 * close callback when evhttp frees the connection (client_on_close).
 */
#ifndef FERRYD_CLIENT_H
#define FERRYD_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "auth.h"
#include "http1.h"
#include "reqscan.h"

struct bufferevent;
struct event;
struct event_base;
struct evbuffer;
struct evbuffer_cb_entry;
struct evhttp_connection;
struct evhttp_request;
struct exchange;
struct worker;

/*
 * The body of the request in flight.  evhttp 2.1.12 would read a whole
 * body into memory before it hands the request over, so it never learns
 * that there is one: the scanner marks the name of every Content-Length
 * and Transfer-Encoding field while the name is still in the input
 * buffer, client.c overwrites its first byte with '@' (a byte no field
 * name may hold: the scanner refuses it), evhttp takes the request as
 * bodiless and dispatches it at the end of its head, and the body's
 * bytes wait in the input buffer for ferryd to read them, as the
 * scanner has checked them, with backpressure (the input buffer's high
 * watermark).
 */
enum client_body_kind {
	CLIENT_BODY_NONE,
	CLIENT_BODY_LENGTH,		/* Content-Length: length */
	CLIENT_BODY_CHUNKED
};

enum client_body_result {
	CLIENT_BODY_MORE,		/* wait for on_body */
	CLIENT_BODY_DONE,		/* the whole body (and its trailers) read */
	CLIENT_BODY_ERROR		/* the body broke: c->scan.status and why */
};

/*
 * Owner: embedded in struct client, reset at each dispatch; ev is the
 * client's (made on first use, freed with it), on_body/arg the reader's
 * (the request's user: cleared with client_set_user(c, NULL, NULL)).
 */
struct client_body {
	enum client_body_kind kind;
	uint64_t length;		/* CLIENT_BODY_LENGTH */
	uint64_t left;			/* CLIENT_BODY_LENGTH: bytes still to read */
	bool done;
	struct http1_chunked chunked;	/* .trailers: the client's body_trailers */
	void (*on_body)(void *arg);	/* bytes or an error to read (NULL: unread) */
	void *arg;
	struct event *ev;		/* runs on_body from the loop */
};

struct client {
	struct worker *w;		/* the request path it belongs to */
	struct bufferevent *bev;	/* evhttp's; we only watch its input */
	struct evhttp_connection *evcon;
	struct evbuffer_cb_entry *scan_cb;
	struct evbuffer_cb_entry *drain_cb;
	int fd;
	struct sockaddr_storage peer;
	char peer_ip[64];
	bool have_peer;			/* getpeername() told peer */
	struct reqscan scan;
	struct event *setup_ev;		/* runs once, right after evhttp set up */
	struct event *header_timer;
	struct event *reject_ev;	/* sends the scanner's error reply (made when needed) */
	struct event *close_ev;		/* makes evhttp close after that reply (same) */
	struct event *hangup_ev;	/* the client closed while a reply is due */
	bool in_flight;			/* a request was dispatched, its reply not done */
	bool rejecting;			/* a violation waits for its reply */
	bool closing;			/* our error reply is on its way out */
	/*
	 * Who answers the request in flight, told when evhttp frees the
	 * connection (the exchange; NULL: nobody).
	 */
	void (*on_close)(void *arg);
	void *user;
	struct evhttp_request *orphan;	/* a cut reply's request, freed at close */
	struct client_body body;	/* of the request in flight */
	struct evbuffer *body_trailers;	/* a chunked body's, made when needed */
	/* evhttp's callbacks, while ours stand in for them (client_body_watch) */
	void (*evhttp_wcb)(struct bufferevent *, void *);
	void (*evhttp_ecb)(struct bufferevent *, short, void *);
	void *evhttp_cbarg;
	uint64_t feed_front;		/* while scanning: stream offset of the input's first byte */
};

/* evhttp's bufferevent callback (arg: the struct worker): a new client. */
struct bufferevent *client_bev_new(struct event_base *base, void *arg);

/*
 * user answers the request in flight on c; on_close(user) runs when
 * evhttp frees the connection first.  client_set_user(c, NULL, NULL)
 * when done (it stops the body's reader too).
 */
void client_set_user(struct client *c, void (*on_close)(void *arg),
    void *user);

/*
 * The reply to req cannot be completed (its exchange ended with the body
 * cut short): what is queued still goes out, then the connection closes,
 * so that the client sees the body end early.  The client frees req then.
 */
void client_cut(struct client *c, struct evhttp_request *req);

/*
 * Whether the access list in force now lets c in: decided per request, so
 * that a reload that narrows [access] allow reaches open connections.
 */
bool client_allowed(const struct client *c);

/*
 * Logs a failed credential check (not a missing one: every browser starts
 * without) with the user name it carried.
 */
void client_log_auth(const struct client *c, enum auth_result r,
    const char *user);

/*
 * evhttp dispatched req on c (reply completion is tracked from here): the
 * body's framing is taken out of req's fields into c->body.
 */
void client_on_dispatch(struct client *c, struct evhttp_request *req);

/*
 * The reader of the body of the request in flight: on_body(arg) runs,
 * from the loop, whenever client_body_read() has something new to say,
 * once client_body_wake() has started the reading (until then the body
 * is held back in the client: an Expect: 100-continue waits).  A
 * client silent mid-body for client_idle_timeout fails the body with
 * 408.  A body not read to its end ends the connection after the reply.
 */
void client_body_watch(struct client *c, void (*on_body)(void *arg),
    void *arg);

/*
 * Moves the body data the client has sent, decoded, to out (as much as
 * the input buffer holds, a few hundred KiB at most).  The trailers of a
 * chunked body wait in client_body_trailers() once it is done.
 */
enum client_body_result client_body_read(struct client *c,
    struct evbuffer *out);

/*
 * True when a reply sent now leaves the body unread: the connection will
 * end after it (see client_body_watch), and the reply should say so.
 */
bool client_body_unread(const struct client *c);

/* Starts (or goes on) reading the body; on_body runs soon, news or not. */
void client_body_wake(struct client *c);

/*
 * The trailer section of a chunked body read whole (NULL: none): the
 * client's, lent until the next request is dispatched.
 */
struct evbuffer *client_body_trailers(struct client *c);

/*
 * The reply about to be sent is the connection's last: what the client
 * sent after the request is dropped, and so is anything it sends later,
 * and the connection closes once the reply is out.  A refused CONNECT
 * needs it: the bytes after its head were meant for the tunnel, not
 * HTTP, and evhttp never closes a connection after a reply to a CONNECT
 * (evhttp_is_request_connection_close), Connection: close or not.
 */
void client_end_after_reply(struct client *c);

/*
 * A tunnel takes the connection over (after a CONNECT's 200): the
 * scanner, the header timer and the hangup watch stop, the request counts
 * as answered, evhttp's timeouts are cleared, and the bufferevent is
 * returned for the tunnel to set its own callbacks on.  evhttp's must
 * never run again: its connection stays in the writing state, where its
 * read callback aborts the process.  The request stays queued on the
 * connection, which frees it in client_close() (or in evhttp_free() at
 * exit, which tells the tunnel through the on_close of client_set_user()).
 */
struct bufferevent *client_take_over(struct client *c);

/*
 * A tunnel reads on from the client, past libevent's 4 KiB: as
 * upstream_read_more() (the input buffer is the caller's to empty first).
 */
ssize_t client_read_more(struct client *c, struct evbuffer *buf, size_t max);

/* Sends FIN to the client of a tunnel (it passes on the origin's EOF). */
void client_shutdown_write(struct client *c);

/* Frees a connection taken over, and c; on_close is not called. */
void client_close(struct client *c);

#endif
