/*
 * exchange.h - one request relayed between a client request (evhttp) and
 * a stream on an upstream connection's codec: target, address, the
 * connector, the upstream request, the streamed response, the safe retry,
 * release.
 *
 * Owner: the worker's list of exchanges, from exchange_start() until the
 * reply ends or the client goes away; it owns its owner token, its
 * allocation on the upstream connection (until pool_release), a reference
 * to the configuration it started under and, while the connector works
 * for it, its pending connect_req; a reference to the TLS context too;
 * and, for a request body, body_buf, replay and expect_timer (freed in
 * exchange_free()).
 */
#ifndef FERRYD_EXCHANGE_H
#define FERRYD_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "address.h"
#include "reqbody.h"
#include "target.h"

struct event;

struct client;
struct stream;
struct evbuffer;
struct connect_req;
struct evhttp_connection;
struct evhttp_request;
struct ferryd_config;
struct tls;
struct owner;
struct worker;
struct upstream;

enum exchange_state {
	EX_CONNECTING,			/* waiting for the connector */
	EX_WAITING,			/* request sent, waiting for the response head */
	EX_STREAMING			/* response head sent, body flowing */
};

struct exchange {
	struct worker *w;		/* the request path it runs on */
	const struct ferryd_config *cfg;	/* the one it started under: a reference */
	struct tls *tls;			/* its [tls] context, likewise */
	struct client *client;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct owner *owner;		/* one reference */
	enum exchange_state state;
	int64_t started;		/* monotonic */

	const char *method;
	char ext_method[19];		/* an extension method's name (method points here) */
	bool idempotent;
	bool head_request;
	struct target target;
	struct address address;
	struct evbuffer *head;		/* the upstream request head, kept for a retry */
	char upgrade[128];		/* the Upgrade offer passed on ("": none) */

	struct reqbody body;		/* streamed from the client as it comes */
	char what[160];			/* "METHOD uri" for the body's logs (cut to fit) */

	struct connect_req *connecting;	/* asked of the connector, pending */
	struct upstream *up;		/* allocated to us by the connector */
	uint64_t conn_id;
	bool reused;
	int attempt;			/* 1, or 2 on the retry */

	struct stream *stream;		/* opened on up's codec */
	bool interim_dropped;		/* 1xx not relayed: the client lags */
	uint64_t bytes_out;
	int status;

	TAILQ_ENTRY(exchange) entry;
};

/*
 * Takes over req (an absolute-form proxy request) and relays it.  method
 * names an extension method evhttp calls "unknown" (else it is "").
 */
void exchange_start(struct worker *w, struct client *client,
    struct evhttp_request *req, const char *method);


/* Ends ex at once (shutdown): the client connection is closed. */
void exchange_abort(struct exchange *ex);

#endif
