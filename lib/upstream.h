/*
 * upstream.h - one upstream connection: its transport (a socket
 * bufferevent to one route of one address, or after upstream_start_tls()
 * an OpenSSL bufferevent on that socket, with its own read-more, liveness
 * peek and close: nothing else touches the descriptor or the SSL) and its
 * codec (codec.h), which frames the exchanges on it.  It reports to
 * whoever reads it through struct upstream_ops: the connector while it
 * connects, the codec while a stream is sending or receiving.  While it is
 * idle in the pool, any byte, EOF or error from the origin evicts it at
 * once (reason closed_by_origin).
 *
 * Owner: the connector that connects it, until pool_put(); then the pool,
 * until the pool hands it to upstream_pool_ops.close.  upstream_close() is
 * the one place an upstream socket is closed; it frees the codec too.
 */
#ifndef FERRYD_UPSTREAM_H
#define FERRYD_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "pool.h"

struct bufferevent;
struct codec;
struct event_base;
struct evbuffer;
struct event;
struct owner;
struct tls;
struct upstream;
struct ssl_st;

/* What an upstream connection tells its reader; arg is the reader. */
struct upstream_ops {
	/* the connect, or after upstream_start_tls() the handshake, is done */
	void (*on_connected)(struct upstream *up, void *arg);
	/* what: BEV_EVENT_* flags (BEV_EVENT_TIMEOUT: connect_timeout) */
	void (*on_connect_failed)(struct upstream *up, short what, void *arg);
	void (*on_read)(void *arg);
	/* the output buffer drained to its low watermark (NULL: not asked) */
	void (*on_write)(void *arg);
	void (*on_event)(short what, void *arg);
};

struct upstream {
	struct pool_conn pc;		/* the pool's view; must stay first */
	struct pool *pool;
	struct bufferevent *bev;
	const struct upstream_ops *ops;	/* NULL while idle */
	void *arg;
	struct codec *codec;		/* from the connector, once connected */
	struct ssl_st *ssl;		/* TLS: the bufferevent's (NULL: plain) */
	struct tls *tls;		/* TLS: a reference to its context */
	struct event *deadline;		/* TLS: the whole handshake's timeout */
	bool connected;			/* and, with TLS, the handshake done */
	bool pooled;			/* put in the pool */
};

extern const struct pool_conn_ops upstream_pool_ops;

/*
 * Wraps a bufferevent that is already connected (or a bufferevent pair in
 * tests) as an upstream connection for pool; the upstream owns bev from
 * here.  NULL when out of memory (bev is then still the caller's).
 */
struct upstream *upstream_new(struct bufferevent *bev, struct pool *pool,
    const struct address *addr, const struct route *route);

/*
 * Starts a non-blocking connect to route, for pool (which it will enter).
 * The caller hears back through ops->on_connected or on_connect_failed
 * (arg is its own) and owns the upstream until it puts it in the pool or
 * closes it.  Returns NULL when no socket could be made (*error: errno).
 */
struct upstream *upstream_connect(struct event_base *base, struct pool *pool,
    const struct address *addr, const struct route *route,
    int64_t connect_timeout, const struct upstream_ops *ops, void *arg,
    int *error);

/*
 * How a connector opens a transport: upstream_connect() for sockets; a
 * test passes a fake one (connector_set_dial()).
 */
typedef struct upstream *(*upstream_dial_fn)(struct event_base *base,
    struct pool *pool, const struct address *addr, const struct route *route,
    int64_t connect_timeout, const struct upstream_ops *ops, void *arg,
    int *error);

/*
 * Starts a TLS handshake on a connected up, with tls's settings for up's
 * address, to be done within timeout (usec) in all: a deadline, not an
 * idle time an origin could stretch byte by byte.  The bufferevent
 * becomes an OpenSSL one
 * on the same socket.  The handshake's end comes as on_connected again,
 * its failure as on_connect_failed (upstream_tls_failure() says why).
 * Returns -1 when out of memory.
 */
int upstream_start_tls(struct upstream *up, struct tls *tls,
    int64_t timeout);

/* Why up's TLS handshake failed, in one line. */
void upstream_tls_failure(struct upstream *up, char *buf, size_t len);

/*
 * A codec's stream uses up from now on: reads and events go to ops
 * (on_read, on_write, on_event) with arg; read_timeout (usec) of silence
 * from the origin is an error (0: no timeout).
 */
void upstream_attach(struct upstream *up, const struct upstream_ops *ops,
    void *arg, int64_t read_timeout);

/*
 * The origin made progress (took request bytes): its timeout (usec, as
 * given to upstream_attach()) starts again.
 */
void upstream_touch(struct upstream *up, int64_t timeout);

/*
 * owner's exchange is done with up (its stream is closed).  A connection still connecting is
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
 * were waiting, or -1 at EOF (errno 0) or on an error (errno set).  With
 * TLS it reads nothing: OpenSSL's reads already run to the watermark.
 */
ssize_t upstream_read_more(struct upstream *up, struct evbuffer *buf,
    size_t max);

/*
 * True when nothing waits on up: its input buffer is empty, OpenSSL holds
 * no record or byte, and a peek that does not block finds no byte, EOF
 * or error in the kernel.  A
 * connection is handed to the next exchange only when this holds
 * (pool.md, "The connection is clean before anyone else gets it").
 */
bool upstream_is_clean(struct upstream *up);

/*
 * After an EOF: true unless TLS ended without the origin's close_notify,
 * which an attacker on the path can fake with a FIN.
 */
bool upstream_eof_clean(struct upstream *up);

/*
 * After an error event: OpenSSL's reason over TLS ("unexpected eof while
 * reading"), "" on a plain socket.  Empties OpenSSL's queue.
 */
const char *upstream_error_reason(struct upstream *up);

/*
 * Sends FIN to the origin, or close_notify over TLS (a tunnel passes on
 * the client's EOF); reading goes on.  Only for a connection that will
 * not go back to the pool.
 */
void upstream_shutdown_write(struct upstream *up);

/* Both ends of up's socket, as the kernel says; -1 when it has none. */
int upstream_addrs(struct upstream *up, struct sockaddr_storage *local,
    struct sockaddr_storage *peer);

/*
 * Closes the socket and frees up; reason goes to the debug log.  A TLS
 * connection whose handshake was done sends close_notify first.
 */
void upstream_close(struct upstream *up, const char *reason);

#endif
