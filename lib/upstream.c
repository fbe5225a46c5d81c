/*
 * upstream.c - one upstream connection's socket and its idle watch.  See
 * upstream.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "sockio.h"
#include "tls.h"
#include "upstream.h"

/* How much of a response may wait in ferryd before it stops reading. */
#define UPSTREAM_READ_HIGH (256 * 1024)

static void upstream_on_read(struct bufferevent *bev, void *arg);
static void upstream_on_write(struct bufferevent *bev, void *arg);
static void upstream_on_event(struct bufferevent *bev, short what, void *arg);
static void upstream_on_deadline(evutil_socket_t fd, short what, void *arg);

static struct upstream *
upstream_of(struct pool_conn *pc)
{
	return (struct upstream *)((char *)pc - offsetof(struct upstream, pc));
}

static void
upstream_setup_bev(struct upstream *up)
{
	bufferevent_setcb(up->bev, upstream_on_read, upstream_on_write,
	    upstream_on_event, up);
	bufferevent_setwatermark(up->bev, EV_READ, 0, UPSTREAM_READ_HIGH);
	/* libevent reads 16 KiB per callback by default: too little for bodies. */
	bufferevent_set_max_single_read(up->bev, UPSTREAM_READ_HIGH);
	bufferevent_set_max_single_write(up->bev, UPSTREAM_READ_HIGH);
}

struct upstream *
upstream_new(struct bufferevent *bev, struct pool *pool,
    const struct address *addr, const struct route *route)
{
	struct upstream *up;

	if ((up = calloc(1, sizeof(*up))) == NULL)
		return NULL;
	up->pool = pool;
	up->bev = bev;
	up->pc.address = *addr;
	up->pc.route = *route;
	up->pc.http_version = 11;
	up->pc.alloc_limit = 1;
	upstream_setup_bev(up);
	return up;
}

struct upstream *
upstream_connect(struct event_base *base, struct pool *pool,
    const struct address *addr, const struct route *route,
    int64_t connect_timeout, const struct upstream_ops *ops, void *arg,
    int *error)
{
	struct bufferevent *bev;
	struct upstream *up;
	struct timeval tv;

	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL || (up = upstream_new(bev, pool, addr, route)) == NULL) {
		if (bev != NULL)
			bufferevent_free(bev);
		*error = ENOMEM;
		return NULL;
	}
	up->ops = ops;
	up->arg = arg;
	tv = clock_to_timeval(connect_timeout);
	bufferevent_set_timeouts(bev, &tv, &tv);
	if (bufferevent_socket_connect(bev,
	    (const struct sockaddr *)&route->addr, (int)route->addrlen) != 0) {
		*error = errno != 0 ? errno : ECONNREFUSED;
		upstream_close(up, "connect failed at once");
		return NULL;
	}
	return up;
}

int
upstream_start_tls(struct upstream *up, struct tls *tls, int64_t timeout)
{
	struct event_base *base = bufferevent_get_base(up->bev);
	int fd = bufferevent_getfd(up->bev);
	struct bufferevent *bev;
	struct timeval tv = clock_to_timeval(timeout);
	SSL *ssl;

	if (fd < 0 || (up->deadline = evtimer_new(base, upstream_on_deadline,
	    up)) == NULL)
		return -1;
	if ((ssl = tls_ssl_new(tls, &up->pc.address)) == NULL)
		return -1;
	/* On failure libevent frees ssl itself (BEV_OPT_CLOSE_ON_FREE). */
	bev = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return -1;
	/* The socket moves to the OpenSSL bufferevent: detach, then free. */
	bufferevent_setfd(up->bev, -1);
	bufferevent_free(up->bev);
	up->bev = bev;
	up->ssl = ssl;
	up->tls = tls_ref(tls);
	up->connected = false;
	upstream_setup_bev(up);
	/*
	 * A close OpenSSL sees as a bare system-call EOF (a reset, say)
	 * comes as BEV_EVENT_EOF, not as an error; upstream_eof_clean()
	 * tells it from close_notify where that matters.
	 */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_set_timeouts(bev, &tv, &tv);
	evtimer_add(up->deadline, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return 0;
}

static void
upstream_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct upstream *up = arg;

	up->ops->on_connect_failed(up, BEV_EVENT_TIMEOUT, up->arg);
}

/* The handshake ended, one way or the other: its deadline goes. */
static void
stop_deadline(struct upstream *up)
{
	if (up->deadline != NULL) {
		event_free(up->deadline);
		up->deadline = NULL;
	}
}

/* The first of OpenSSL's errors is the cause; the rest only repeat it. */
static unsigned long
first_openssl_error(struct upstream *up)
{
	unsigned long err = 0, e;

	while ((e = bufferevent_get_openssl_error(up->bev)) != 0)
		if (err == 0)
			err = e;
	return err;
}

void
upstream_tls_failure(struct upstream *up, char *buf, size_t len)
{
	tls_failure(up->tls, up->ssl, &up->pc.address,
	    first_openssl_error(up), buf, len);
}

void
upstream_attach(struct upstream *up, const struct upstream_ops *ops,
    void *arg, int64_t read_timeout)
{
	struct timeval tv = clock_to_timeval(read_timeout);

	up->ops = ops;
	up->arg = arg;
	/*
	 * No timeout (a tunnel's): not even the connect timeout, re-armed.
	 * An OpenSSL bufferevent removes its timers itself, and must not
	 * be given its descriptor again (that restarts the handshake).
	 */
	if (read_timeout > 0)
		bufferevent_set_timeouts(up->bev, &tv, &tv);
	else if (up->ssl != NULL)
		bufferevent_set_timeouts(up->bev, NULL, NULL);
	else
		sockio_clear_timeouts(up->bev);
	bufferevent_enable(up->bev, EV_READ | EV_WRITE);
}

void
upstream_release(struct upstream *up, struct owner *owner, bool reusable,
    enum pool_evict_reason why_not)
{
	if (!up->pooled) {
		upstream_close(up, "abandoned while connecting");
		return;
	}
	/* Bytes past the response's end belong to nobody: never reuse them. */
	if (reusable && !upstream_is_clean(up)) {
		reusable = false;
		why_not = POOL_EVICT_EXTRA_BYTES;
	}
	if (!reusable)
		pool_conn_retire(&up->pc, why_not);
	up->ops = NULL;
	up->arg = NULL;
	/*
	 * Idle watching starts before the pool may close up.  An idle
	 * connection has no timeout of its own: the pool keeps time.
	 */
	bufferevent_set_timeouts(up->bev, NULL, NULL);
	bufferevent_enable(up->bev, EV_READ);
	pool_release(up->pool, &up->pc, owner, clock_now());
}

void
upstream_touch(struct upstream *up, int64_t timeout)
{
	struct timeval tv = clock_to_timeval(timeout);

	if (timeout > 0)
		bufferevent_set_timeouts(up->bev, &tv, &tv);
}

void
upstream_set_reading(struct upstream *up, bool on)
{
	if (on)
		bufferevent_enable(up->bev, EV_READ);
	else
		bufferevent_disable(up->bev, EV_READ);
}

ssize_t
upstream_read_more(struct upstream *up, struct evbuffer *in, size_t max)
{
	/*
	 * Without a socket under it (a bufferevent pair) libevent reads;
	 * with TLS, OpenSSL does, record by record up to the watermark.
	 */
	if (max == 0 || up->ssl != NULL || bufferevent_getfd(up->bev) < 0)
		return 0;
	return sockio_read(bufferevent_getfd(up->bev), in, max);
}

int
upstream_addrs(struct upstream *up, struct sockaddr_storage *local,
    struct sockaddr_storage *peer)
{
	int fd = bufferevent_getfd(up->bev);
	socklen_t llen = sizeof(*local), plen = sizeof(*peer);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)local, &llen) != 0 ||
	    getpeername(fd, (struct sockaddr *)peer, &plen) != 0)
		return -1;
	return 0;
}

bool
upstream_eof_clean(struct upstream *up)
{
	return up->ssl == NULL ||
	    (SSL_get_shutdown(up->ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
}

const char *
upstream_error_reason(struct upstream *up)
{
	unsigned long err;
	const char *r;

	if (up->ssl == NULL)
		return "";
	err = first_openssl_error(up);
	r = err != 0 ? ERR_reason_error_string(err) : NULL;
	return r != NULL ? r : "";
}

/*
 * Tells the origin the connection ends on purpose (RFC 8446 6.1), when
 * the handshake was done and nothing else waits to be written before it.
 * One try, not waiting for the origin's: reading may go on (a tunnel's
 * other direction), or the socket closes next.
 */
static void
send_close_notify(struct upstream *up)
{
	if (up->connected && SSL_is_init_finished(up->ssl) &&
	    !(SSL_get_shutdown(up->ssl) & SSL_SENT_SHUTDOWN) &&
	    evbuffer_get_length(bufferevent_get_output(up->bev)) == 0)
		(void)SSL_shutdown(up->ssl);
	ERR_clear_error();
}

void
upstream_shutdown_write(struct upstream *up)
{
	/* Over TLS an end is close_notify: a bare FIN would look cut off. */
	if (up->ssl != NULL) {
		send_close_notify(up);
		return;
	}
	if (bufferevent_getfd(up->bev) >= 0)
		shutdown(bufferevent_getfd(up->bev), SHUT_WR);
}

void
upstream_close(struct upstream *up, const char *reason)
{
	char route[80];

	route_format(&up->pc.route, route, sizeof(route));
	log_debug("upstream %llu to %s closed: %s",
	    (unsigned long long)up->pc.id, route, reason);
	if (up->codec != NULL)
		codec_free(up->codec);
	if (up->ssl != NULL)
		send_close_notify(up);
	stop_deadline(up);
	/* Frees the SSL too (BEV_OPT_CLOSE_ON_FREE). */
	bufferevent_free(up->bev);
	tls_unref(up->tls);
	free(up);
}

/* While idle, anything from the origin means it is going away. */
static void
idle_evict(struct upstream *up)
{
	pool_evict(up->pool, &up->pc, POOL_EVICT_CLOSED_BY_ORIGIN);
}

static void
upstream_on_read(struct bufferevent *bev, void *arg)
{
	struct upstream *up = arg;

	sockio_quickack(bufferevent_getfd(bev));
	if (up->ops != NULL && up->ops->on_read != NULL)
		up->ops->on_read(up->arg);
	else if (up->pooled)
		idle_evict(up);
}

static void
upstream_on_write(struct bufferevent *bev, void *arg)
{
	struct upstream *up = arg;

	if (up->ops != NULL && up->ops->on_write != NULL)
		up->ops->on_write(up->arg);
}

static void
upstream_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct upstream *up = arg;

	if (what & BEV_EVENT_CONNECTED) {
		up->connected = true;
		sockio_nodelay(bufferevent_getfd(bev));
		stop_deadline(up);
		up->ops->on_connected(up, up->arg);
		return;
	}
	if (!up->connected) {
		up->ops->on_connect_failed(up, what, up->arg);
		return;
	}
	if (up->ops != NULL && up->ops->on_event != NULL)
		up->ops->on_event(what, up->arg);
	else if (up->pooled)
		idle_evict(up);
}

static void
pool_on_close(struct pool_conn *pc, enum pool_evict_reason reason, void *arg)
{
	upstream_close(upstream_of(pc), pool_evict_reason_name(reason));
}

bool
upstream_is_clean(struct upstream *up)
{
	char byte;

	if (evbuffer_get_length(bufferevent_get_input(up->bev)) != 0)
		return false;
	/* A record OpenSSL read but nobody took: bytes all the same. */
	if (up->ssl != NULL &&
	    (SSL_pending(up->ssl) > 0 || SSL_has_pending(up->ssl)))
		return false;
	if (bufferevent_getfd(up->bev) < 0)
		return true;
	return recv(bufferevent_getfd(up->bev), &byte, 1,
	    MSG_PEEK | MSG_DONTWAIT) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* An idle connection the origin closed or wrote to is not healthy. */
static bool
pool_on_healthy(struct pool_conn *pc, void *arg)
{
	return upstream_is_clean(upstream_of(pc));
}

const struct pool_conn_ops upstream_pool_ops = {
	.close = pool_on_close,
	.healthy = pool_on_healthy,
};
