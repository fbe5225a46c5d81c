/*
 * connector.c - a ready upstream connection for an address: pool, DNS,
 * route order, connect.  See connector.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "connector.h"
#include "dnscache.h"
#include "h1codec.h"
#include "log.h"
#include "pool.h"
#include "routedb.h"
#include "stats.h"
#include "tls.h"
#include "upstream.h"

#define CONNECTOR_MAX_ROUTES 16

struct connector {
	struct event_base *base;
	struct evdns_base *dns;
	struct dnscache *dnscache;
	struct pool *pool;
	struct stats *stats;
	upstream_dial_fn dial;
};

/* One request for a connection; owned by the connector until it ends. */
struct connect_req {
	struct connector *cn;
	struct connect_params p;
	struct address address;		/* p.address points here */
	connector_cb cb;
	void *arg;

	struct evdns_getaddrinfo_request *dns;
	bool dns_in_call, dns_done;
	int dns_error;
	struct route routes[CONNECTOR_MAX_ROUTES];
	size_t n_routes, route_i;
	struct upstream *up;		/* connecting */
	int connect_error;		/* errno of the last failed connect */
	bool connect_timed_out;
	bool *finished;			/* set when it ends inside connector_connect() */
};

static void connector_on_connected(struct upstream *up, void *arg);
static void count_handshake(struct upstream *up);
static void connector_on_connect_failed(struct upstream *up, short what,
    void *arg);

static const struct upstream_ops connecting_ops = {
	.on_connected = connector_on_connected,
	.on_connect_failed = connector_on_connect_failed,
};

struct connector *
connector_new(struct event_base *base, struct evdns_base *dns,
    struct dnscache *dnscache, struct pool *pool, struct stats *stats)
{
	struct connector *cn;

	if ((cn = calloc(1, sizeof(*cn))) == NULL)
		return NULL;
	cn->base = base;
	cn->dns = dns;
	cn->dnscache = dnscache;
	cn->pool = pool;
	cn->stats = stats;
	cn->dial = upstream_connect;
	return cn;
}

void
connector_set_dial(struct connector *cn, upstream_dial_fn dial)
{
	cn->dial = dial;
}

void
connector_free(struct connector *cn)
{
	free(cn);
}

/* Hands the result over and frees req: the callback may start another. */
static void
finish(struct connect_req *req, struct upstream *up, bool reused, int status,
    const char *why)
{
	struct connect_result res = { up, reused, status, why };
	connector_cb cb = req->cb;
	void *arg = req->arg;

	if (req->finished != NULL)
		*req->finished = true;
	free(req);
	cb(&res, arg);
}

/* The request fails: status and a one-line reason. */
static void
fail(struct connect_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct connect_req *req, int status, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	finish(req, NULL, false, status, why);
}

/* "host:port", "[v6]:port": what a reason line names. */
static void
format_where(const struct connect_req *req, char *buf, size_t len)
{
	const char *host = req->address.host;

	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, req->address.port);
}

/* Tries the routes in order until one connect starts, or fails req. */
static void
connect_next(struct connect_req *req)
{
	struct connector *cn = req->cn;
	char where[ADDRESS_HOST_MAX + 16];
	int error;

	while (req->route_i < req->n_routes) {
		struct route *r = &req->routes[req->route_i];

		req->up = cn->dial(cn->base, cn->pool, &req->address, r,
		    req->p.connect_timeout, &connecting_ops, req, &error);
		if (req->up != NULL)
			return;
		/*
		 * Out of descriptors, memory or local ports here: not the
		 * route's fault.
		 */
		if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
		    error == ENOMEM || error == EADDRNOTAVAIL) {
			format_where(req, where, sizeof(where));
			fail(req, 503, "cannot connect to %s: %s", where,
			    strerror(error));
			return;
		}
		req->connect_error = error;
		cn->stats->route_failures++;
		routedb_failed(pool_routedb(cn->pool), r, clock_now());
		req->route_i++;
	}
	format_where(req, where, sizeof(where));
	if (req->connect_timed_out)
		fail(req, 504, "connect to %s timed out", where);
	else
		fail(req, 502, "cannot connect to %s: %s", where,
		    strerror(req->connect_error != 0 ? req->connect_error :
		    ECONNREFUSED));
}

static void
connector_on_connected(struct upstream *up, void *arg)
{
	struct connect_req *req = arg;
	struct connector *cn = req->cn;
	int64_t now = clock_now();

	/* TCP is up; an https address needs its handshake first. */
	if (up->ssl == NULL) {
		routedb_connected(pool_routedb(cn->pool), &up->pc.route);
		if (req->address.tls.tls) {
			if (upstream_start_tls(up, req->p.tls,
			    req->p.connect_timeout) != 0) {
				req->up = NULL;
				upstream_close(up, "out of memory");
				fail(req, 503, "out of memory");
			}
			return;
		}
	}
	up->ops = NULL;
	up->arg = NULL;
	req->up = NULL;
	if (req->p.unpooled) {
		/* A tunnel's bytes are not HTTP: no codec, no pool. */
		up->pc.id = pool_new_id(cn->pool);
		up->pc.created_at = now;
		finish(req, up, false, 0, NULL);
		return;
	}
	/* The protocol is chosen here: HTTP/1.1 until ALPN offers more. */
	if ((up->codec = h1codec_new(up)) == NULL) {
		upstream_close(up, "out of memory");
		fail(req, 503, "out of memory");
		return;
	}
	up->pc.alloc_limit = 1;
	up->pc.created_at = now;
	up->pooled = true;
	pool_put(cn->pool, &up->pc, req->p.owner, now);
	if (up->ssl != NULL)
		count_handshake(up);
	finish(req, up, false, 0, NULL);
}

/* A TLS connection is in the pool: its handshake counts, as it went. */
static void
count_handshake(struct upstream *up)
{
	bool resumed = SSL_session_reused(up->ssl) == 1;

	up->pc.tls_version = SSL_get_version(up->ssl);
	up->pc.tls_cipher = SSL_get_cipher_name(up->ssl);
	pool_count_tls(up->pool, &up->pc, resumed);
	log_debug("upstream %llu: %s %s, %s handshake",
	    (unsigned long long)up->pc.id, up->pc.tls_version,
	    up->pc.tls_cipher, resumed ? "resumed" : "full");
}

/*
 * The handshake failed: the origin's certificate or its TLS, not the
 * route, so no other route is tried and the route database is not told.
 */
static void
tls_failed(struct connect_req *req, struct upstream *up, short what)
{
	char where[ADDRESS_HOST_MAX + 16], why[384];

	format_where(req, where, sizeof(where));
	req->up = NULL;
	req->cn->stats->tls_failures++;
	if (what & BEV_EVENT_TIMEOUT) {
		upstream_close(up, "TLS handshake timed out");
		log_notice("TLS handshake with %s timed out", where);
		fail(req, 504, "TLS handshake with %s timed out", where);
		return;
	}
	upstream_tls_failure(up, why, sizeof(why));
	upstream_close(up, "TLS handshake failed");
	log_notice("TLS handshake with %s failed: %s", where, why);
	fail(req, 502, "TLS handshake with %s failed: %s", where, why);
}

static void
connector_on_connect_failed(struct upstream *up, short what, void *arg)
{
	struct connect_req *req = arg;
	struct connector *cn = req->cn;
	int error = EVUTIL_SOCKET_ERROR();

	if (up->ssl != NULL) {
		tls_failed(req, up, what);
		return;
	}
	req->up = NULL;
	upstream_close(up, "connect failed");
	if (what & BEV_EVENT_TIMEOUT) {
		req->connect_timed_out = true;
		error = ETIMEDOUT;
	}
	req->connect_error = error != 0 ? error : ECONNREFUSED;
	cn->stats->route_failures++;
	routedb_failed(pool_routedb(cn->pool), &req->routes[req->route_i],
	    clock_now());
	req->route_i++;
	connect_next(req);
}

/* Routes in hand: the route database decides the order. */
static void
connect_routes(struct connect_req *req)
{
	routedb_order(pool_routedb(req->cn->pool), req->routes, req->n_routes,
	    clock_now());
	connect_next(req);
}

static void
connector_on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct connect_req *req = arg;
	struct connector *cn;
	struct evutil_addrinfo *p;

	/* A cancelled lookup calls back later, with req already freed. */
	if (result == EVUTIL_EAI_CANCEL)
		return;
	cn = req->cn;
	if (!req->dns_done) {
		req->dns = NULL;
		req->dns_done = true;
		req->dns_error = result;
		for (p = ai; p != NULL && req->n_routes < CONNECTOR_MAX_ROUTES;
		    p = p->ai_next)
			if (route_from_sockaddr(&req->routes[req->n_routes],
			    p->ai_addr, p->ai_addrlen) == 0)
				req->n_routes++;
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		if (req->dns_in_call)
			return;
	}
	if (req->n_routes == 0) {
		fail(req, 502, "cannot resolve %s: %s", req->address.host,
		    result != 0 ? evutil_gai_strerror(result) : "no address");
		return;
	}
	if (req->p.dns_cache_ttl > 0) {
		int64_t now = clock_now();

		dnscache_put(cn->dnscache, req->address.host,
		    req->address.port, req->routes, req->n_routes,
		    now + req->p.dns_cache_ttl, now);
	}
	connect_routes(req);
}

/* Resolves the host: an IP literal, the cache, or evdns. */
static void
resolve(struct connect_req *req)
{
	struct connector *cn = req->cn;
	const char *host = req->address.host;
	uint16_t port = req->address.port;
	struct evutil_addrinfo hints;
	struct evdns_getaddrinfo_request *dns;
	char portstr[8];

	if (route_from_literal(&req->routes[0], host, port) == 0) {
		req->n_routes = 1;
		connect_next(req);
		return;
	}
	if (req->p.dns_cache_ttl > 0 &&
	    (req->n_routes = dnscache_get(cn->dnscache, host, port,
	    req->routes, CONNECTOR_MAX_ROUTES, clock_now())) > 0) {
		cn->stats->dns_cache_hits++;
		connect_routes(req);
		return;
	}
	cn->stats->dns_lookups++;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", port);
	/* The answer may come before the call returns (the hosts file). */
	req->dns_in_call = true;
	dns = evdns_getaddrinfo(cn->dns, host, portstr, &hints,
	    connector_on_resolved, req);
	req->dns_in_call = false;
	if (req->dns_done)
		connector_on_resolved(req->dns_error, NULL, req);
	else
		req->dns = dns;
}

struct connect_req *
connector_connect(struct connector *cn, const struct connect_params *p,
    connector_cb cb, void *arg)
{
	struct connect_req *req;
	struct pool_conn *pc;
	struct connect_result res = { NULL, false, 503, "out of memory" };
	bool finished = false;

	if (!p->fresh && !p->unpooled && (pc = pool_acquire(cn->pool, p->address, p->owner,
	    clock_now(), p->retriable)) != NULL) {
		res.up = (struct upstream *)pc;
		res.reused = true;
		res.status = 0;
		res.why = NULL;
		cb(&res, arg);
		return NULL;
	}
	if ((req = calloc(1, sizeof(*req))) == NULL) {
		cb(&res, arg);
		return NULL;
	}
	req->cn = cn;
	req->p = *p;
	req->address = *p->address;
	req->p.address = &req->address;
	req->cb = cb;
	req->arg = arg;
	/* req may finish, and be freed, inside resolve(): then say so. */
	req->finished = &finished;
	resolve(req);
	if (finished)
		return NULL;
	req->finished = NULL;
	return req;
}

void
connector_cancel(struct connect_req *req)
{
	if (req->dns != NULL) {
		struct evdns_getaddrinfo_request *dns = req->dns;

		req->dns = NULL;
		evdns_getaddrinfo_cancel(dns);
	}
	if (req->up != NULL)
		upstream_close(req->up, "abandoned while connecting");
	free(req);
}
