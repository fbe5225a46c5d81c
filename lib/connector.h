/*
 * connector.h - "give me a ready upstream connection for this address":
 * the pool first, then the DNS cache or the resolver, the routes in the
 * route database's order, a connect to each until one succeeds, then for
 * an https address the TLS handshake, and the protocol choice; only then
 * does the connection enter the pool.  One asynchronous
 * call, one callback; the exchange never touches the resolver, the route
 * database or a socket.
 *
 * Owner: the server owns the connector (connector_new/connector_free).
 * A pending connect_req belongs to the connector from connector_connect()
 * until its callback runs or connector_cancel() is called, whichever is
 * first; the connection it delivers belongs to the pool, allocated to the
 * caller's owner token, or, when unpooled, to the caller, who closes it
 * with upstream_close().
 */
#ifndef FERRYD_CONNECTOR_H
#define FERRYD_CONNECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "address.h"
#include "upstream.h"

struct dnscache;
struct event_base;
struct evdns_base;
struct owner;
struct pool;
struct stats;
struct tls;
struct upstream;

struct connector;
struct connect_req;

/* What a request needs of its connection. */
struct connect_params {
	const struct address *address;	/* what may share the connection */
	struct tls *tls;		/* an https address's context (its profile's maker) */
	struct owner *owner;		/* the allocation's owner */
	bool retriable;			/* may be sent twice: any pooled conn */
	bool fresh;			/* a retry: never one from the pool */
	bool unpooled;			/* a tunnel's: fresh, never put in the pool */
	int64_t connect_timeout;	/* usec, per route */
	int64_t dns_cache_ttl;		/* usec; 0: no cache */
};

/* How it went; up is NULL on failure. */
struct connect_result {
	struct upstream *up;		/* allocated to the owner; the pool owns it (unpooled: the caller) */
	bool reused;			/* from the pool, no connect */
	int status;			/* on failure: 502, or 504 for a timeout (connect or handshake) */
	const char *why;		/* on failure: one line, valid during the call */
};

/* Called once per connector_connect() that was not cancelled. */
typedef void (*connector_cb)(const struct connect_result *res, void *arg);

struct connector *connector_new(struct event_base *base,
    struct evdns_base *dns, struct dnscache *dnscache, struct pool *pool,
    struct stats *stats);
/*
 * Connects through dial instead of upstream_connect(): a test's fake
 * transport, which reports through the ops it is given as a socket would.
 */
void connector_set_dial(struct connector *cn, upstream_dial_fn dial);
/* Cancels nothing: every request must be finished or cancelled first. */
void connector_free(struct connector *cn);

/*
 * Starts getting a connection for p.  cb may run before this returns (a
 * pooled connection, an IP literal that cannot be connected): then NULL
 * is returned and nothing is pending.  Otherwise the request is pending
 * until cb runs or connector_cancel().
 */
struct connect_req *connector_connect(struct connector *cn,
    const struct connect_params *p, connector_cb cb, void *arg);

/* Stops a pending request; its callback will not run. */
void connector_cancel(struct connect_req *req);

#endif
