/*
 * upstream.h - one upstream connection: a socket bufferevent to one route
 * of one address.  While an exchange uses it, its events go to that
 * exchange; while it is idle in the pool, any byte, EOF or error from the
 * origin evicts it at once (reason closed_by_origin).
 *
 * Owner: the exchange that connects it, until pool_put(); then the pool,
 * until the pool hands it to upstream_pool_ops.close.  upstream_close() is
 * the one place an upstream socket is closed.
 */
#ifndef FERRYD_UPSTREAM_H
#define FERRYD_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pool.h"

struct bufferevent;
struct evbuffer;
struct exchange;
struct owner;
struct server;

struct upstream {
	struct pool_conn pc;		/* the pool's view; must stay first */
	struct server *server;
	struct bufferevent *bev;
	struct exchange *ex;		/* the exchange using it; NULL when idle */
	bool connected;
	bool pooled;			/* put in the pool */
};

extern const struct pool_conn_ops upstream_pool_ops;

/*
 * Starts a non-blocking connect to route on behalf of ex.  The exchange
 * hears back through exchange_on_connected() or
 * exchange_on_connect_failed(); it owns the upstream until it puts it in
 * the pool or closes it.  Returns NULL when no socket could be made
 * (*error set to errno).
 */
struct upstream *upstream_connect(struct server *srv,
    const struct address *addr, const struct route *route,
    int64_t connect_timeout, struct exchange *ex, int *error);

/*
 * ex uses up from now on: its reads and events go to ex; read_timeout
 * (usec) of silence from the origin is an error.
 */
void upstream_attach(struct upstream *up, struct exchange *ex,
    int64_t read_timeout);

/*
 * owner's exchange is done with up.  A connection still connecting is
 * closed; a pooled one goes back to the pool, which keeps it idle only
 * when reusable, nothing is left on it (upstream_is_clean()) and its own
 * limits allow; otherwise it closes with why_not (or extra_bytes).  Either
 * way the caller must not touch up again.
 */
void upstream_release(struct upstream *up, struct owner *owner,
    bool reusable, enum pool_evict_reason why_not);

/* Pauses or resumes reading from the origin (client backpressure). */
void upstream_set_reading(struct upstream *up, bool on);

/*
 * Reads up to max more bytes from the socket into buf, without waiting for
 * libevent (whose socket reads stop at 4 KiB, and whose input buffer only
 * libevent may fill).  Bytes already in the input buffer come first: the
 * caller moves them to buf before.  Returns the bytes read, 0 when none
 * were waiting, or -1 at EOF (errno 0) or on an error (errno set).
 */
ssize_t upstream_read_more(struct upstream *up, struct evbuffer *buf,
    size_t max);

/*
 * True when nothing waits on up: its input buffer is empty and a peek
 * that does not block finds no byte, EOF or error in the kernel.  A
 * connection is handed to the next exchange only when this holds
 * (pool.md, "The connection is clean before anyone else gets it").
 */
bool upstream_is_clean(struct upstream *up);

/* Closes the socket and frees up; reason goes to the debug log. */
void upstream_close(struct upstream *up, const char *reason);

#endif
