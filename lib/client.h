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
};

/* evhttp's bufferevent callback (arg: the struct worker): a new client. */
struct bufferevent *client_bev_new(struct event_base *base, void *arg);

/*
 * user answers the request in flight on c; on_close(user) runs when
 * evhttp frees the connection first.  client_set_user(c, NULL, NULL)
 * when done.
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

/* evhttp dispatched req on c (reply completion is tracked from here). */
void client_on_dispatch(struct client *c, struct evhttp_request *req);

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
