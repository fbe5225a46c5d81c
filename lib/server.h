/*
 * server.h - one worker's HTTP front: evhttp and its listen sockets
 * (listeners.h), the request handler that routes each request (ferryd's
 * own pages, an error, or an exchange), the pool, the resolver, and the struct worker that clients
 * and exchanges share.  Every failure a client sees becomes a status and
 * a one-line plain-text body in worker_reply_error(), and nowhere else.
 *
 * Owner: daemon/main.c, from server_new() to server_free().
 */
#ifndef FERRYD_SERVER_H
#define FERRYD_SERVER_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/queue.h>

#include "config.h"
#include "listeners.h"
#include "worker.h"

struct client;
struct dnscache;
struct event;
struct event_base;
struct evdns_base;
struct evhttp;
struct evhttp_request;
struct exchange;
struct ferryd_config;
struct pool;


struct server {
	struct worker w;			/* what clients and exchanges share */
	struct evdns_base *dns;
	struct dnscache *dnscache;		/* dns_cache_ttl */
	struct evhttp *http;
	struct pool *pool;

	struct client **clients;		/* by file descriptor */
	int clients_cap;
	struct listeners listeners;		/* the listen sockets */
	int max_clients;			/* cfg's, or what the fd limit allows */

	struct event *shutdown_timer;
	bool draining;				/* shutdown_timeout over: last replies */
	int64_t started;
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
 * under; it is freed when the last of them ends.  Listen addresses it
 * adds are bound, those it drops are closed (connections already
 * accepted stay); one that cannot be bound fails the reload, and then
 * nothing changes.
 */
int server_reload(struct server *srv, const struct ferryd_config *cfg);

/*
 * Stops accepting, lets in-flight exchanges finish for at most
 * shutdown_timeout, then leaves the event loop.
 */
void server_shutdown(struct server *srv);

/*
 * One line on the pool for "systemctl status" (notify.h): connections
 * idle and in use, how many acquisitions were served by reuse, clients.
 */
void server_status(struct server *srv, char *buf, size_t len);

/* The client connection req arrived on, when it came through the tap. */
struct client *server_client_of(struct server *srv, struct evhttp_request *req);

#endif
