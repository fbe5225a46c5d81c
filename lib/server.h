/*
 * server.h - one worker's HTTP front: the evhttp listener, the access list,
 * the request handler that routes each request (ferryd's own pages, an
 * error, or an exchange), the pool, and the error replies.  Every failure a
 * client sees becomes a status and a one-line plain-text body in
 * server_reply_error(), and nowhere else.
 *
 * Owner: daemon/main.c, from server_new() to server_free().
 */
#ifndef FERRYD_SERVER_H
#define FERRYD_SERVER_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/queue.h>

#include "stats.h"

struct client;
struct connector;
struct dnscache;
struct event;
struct event_base;
struct evdns_base;
struct evconnlistener;
struct evhttp;
struct evhttp_request;
struct exchange;
struct ferryd_config;
struct pool;

TAILQ_HEAD(exchange_list, exchange);

struct server {
	struct event_base *base;
	struct evdns_base *dns;
	struct dnscache *dnscache;		/* dns_cache_ttl */
	struct connector *connector;		/* upstream connections for exchanges */
	const struct ferryd_config *cfg;	/* current, one reference */
	struct evhttp *http;
	struct pool *pool;
	struct stats stats;

	struct client **clients;		/* by file descriptor */
	int clients_cap;
	struct evconnlistener *listeners[16];
	size_t n_listeners;
	bool accepting;				/* listeners enabled */
	int max_clients;			/* cfg's, or what the fd limit allows */

	struct exchange_list exchanges;		/* in flight */
	int replies_in_flight;			/* dispatched, reply not yet written */
	struct event *shutdown_timer;
	bool stopping;
	bool draining;				/* shutdown_timeout over: last replies */
	int64_t started;
	FILE *access_log;
};

/*
 * Binds every listen address of cfg and builds the pool.  Returns NULL
 * after logging why (the daemon then exits 1).  The server takes a
 * reference to cfg of its own.
 */
struct server *server_new(struct event_base *base,
    const struct ferryd_config *cfg);
/* Aborts what is still in flight and frees everything, the pool too. */
void server_free(struct server *srv);

/*
 * Takes a new configuration (a reference of its own) for new requests and
 * evicts the idle pool.  Exchanges in flight keep the one they started
 * under; it is freed when the last of them ends.  Listen addresses are not
 * re-bound.
 */
void server_reload(struct server *srv, const struct ferryd_config *cfg);

/*
 * Stops accepting, lets in-flight exchanges finish for at most
 * shutdown_timeout, then leaves the event loop.
 */
void server_shutdown(struct server *srv);

/*
 * Answers req with status and a one-line plain-text body "why\n".  With
 * close, the client connection is closed after the reply.
 */
void server_reply_error(struct server *srv, struct evhttp_request *req,
    int status, const char *why, bool close);

/*
 * Answers req with 200 and a page of ferryd's own (body, of content_type
 * when not NULL).
 */
void server_reply_page(struct server *srv, struct evhttp_request *req,
    const char *content_type, struct evbuffer *body);

/* "Bad Request" for 400, and so on (NULL when unknown). */
const char *server_reason_phrase(int status);

/* An exchange ended: unlink it; may finish a pending shutdown. */
void server_exchange_done(struct server *srv, struct exchange *ex);
/* A reply was written, or its client went away; may finish a shutdown. */
void server_reply_done(struct server *srv);

/*
 * Client connections (client.c): counted when accepted (accepting pauses at
 * max_clients), found by file descriptor once their first byte came.
 */
void server_client_opened(struct server *srv);
void server_client_add(struct server *srv, struct client *c, int fd);
void server_client_closed(struct server *srv, struct client *c);
struct client *server_client_of(struct server *srv, struct evhttp_request *req);

/* Writes one access log line when an access log is configured. */
void server_access_log(struct server *srv, const char *client_ip,
    const char *method, const char *target, int status, uint64_t bytes,
    int64_t duration, uint64_t conn_id, bool reused);

#endif
