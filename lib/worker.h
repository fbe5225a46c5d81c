/*
 * worker.h - what one worker's request path shares, below the server:
 * the event base, the configuration in force, the counters, the
 * connector, the access log, the exchanges and tunnels, and the one place
 * where an error becomes an HTTP status (worker_reply_error).  Clients
 * and exchanges hold a pointer to it and never see the server; what they
 * must tell the server (a client came or went, a reply or an exchange
 * ended) goes through struct worker_hooks.
 *
 * Owner: embedded in struct server, which fills it and sets the hooks.
 */
#ifndef FERRYD_WORKER_H
#define FERRYD_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "stats.h"

struct auth;
struct client;
struct connector;
struct event_base;
struct evbuffer;
struct evhttp_request;
struct exchange;
struct ferryd_config;
struct tls;
struct tunnel;

TAILQ_HEAD(exchange_list, exchange);
TAILQ_HEAD(tunnel_list, tunnel);

/* What clients and exchanges report upward; arg is hooks_arg. */
struct worker_hooks {
	void (*client_opened)(void *arg);
	void (*client_added)(void *arg, struct client *c, int fd);
	void (*client_closed)(void *arg, struct client *c);
	void (*reply_done)(void *arg);		/* a reply was written out */
	void (*exchange_done)(void *arg);	/* an exchange or tunnel left its list */
};

struct worker {
	struct event_base *base;
	const struct ferryd_config *cfg;	/* in force now (the server's reference) */
	struct stats stats;
	struct connector *connector;
	struct auth *auth;			/* auth_file's users (the server's), or NULL */
	struct tls *tls;			/* [tls]'s context: the server's reference */
	struct originver *originver;		/* origins last heard in HTTP/1.0 (the server's) */
	FILE *access_log;			/* access_log = FILE, or NULL */
	struct exchange_list exchanges;		/* in flight */
	struct tunnel_list tunnels;		/* connecting or open */
	int replies_in_flight;			/* dispatched, reply not yet written */
	bool stopping;				/* shutting down: replies close */
	struct sockaddr_storage self[16];	/* the listen sockets, as bound */
	size_t n_self;
	const struct worker_hooks *hooks;
	void *hooks_arg;
};

/*
 * Answers req with status and a one-line plain-text body "why\n", and
 * counts it.  With close (or while stopping), the client connection is
 * closed after the reply.
 */
void worker_reply_error(struct worker *w, struct evhttp_request *req,
    int status, const char *why, bool close);

/*
 * Asks for credentials: 407 with Proxy-Authenticate (a proxy request or a
 * CONNECT), or 401 with WWW-Authenticate (ferryd's own pages, which a
 * client asks for directly); otherwise as worker_reply_error().
 */
/* What 407 and 401 ask for. */
#define WORKER_CHALLENGE "Basic realm=\"ferryd\", charset=\"UTF-8\""

void worker_reply_challenge(struct worker *w, struct evhttp_request *req,
    bool proxy, const char *why, bool close);

/*
 * Answers req with 200 and a page of ferryd's own (body, of content_type
 * when not NULL), and counts it.
 */
void worker_reply_page(struct worker *w, struct evhttp_request *req,
    const char *content_type, struct evbuffer *body);

/* "Bad Request" for 400, and so on (NULL when unknown). */
const char *worker_reason_phrase(int status);

/*
 * True when a connection from local to peer (as the socket says, not as
 * asked: 0.0.0.0 lands on loopback) reaches one of ferryd's own listen
 * sockets: a CONNECT to itself, which would nest without end.
 */
bool worker_is_self(const struct worker *w, const struct sockaddr *peer,
    const struct sockaddr *local);

/* Writes one access log line when an access log is configured. */
void worker_access_log(struct worker *w, const char *client_ip,
    const char *method, const char *target, int status, uint64_t bytes,
    int64_t duration, uint64_t conn_id, bool reused);

/* (Re)opens the access log file of w->cfg; -1 after logging why. */
int worker_open_access_log(struct worker *w);

#endif
