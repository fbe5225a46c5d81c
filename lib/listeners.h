/*
 * listeners.h - the listen sockets of one worker, bound into its evhttp,
 * and whether they accept.  The server says whether there is room for a
 * client (max_clients, shutdown: listeners_set_room); running out of file
 * descriptors pauses accept() on its own, until a client leaves
 * (listeners_client_left) or LISTENERS_RETRY_MS passes.  A reload binds
 * the addresses it adds and closes those it drops (listeners_rebind).
 *
 * Owner: embedded in struct server, from listeners_open() to
 * listeners_close(); evhttp owns each socket once bound (evhttp_free()
 * or evhttp_del_accept_socket() closes it).
 */
#ifndef FERRYD_LISTENERS_H
#define FERRYD_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

struct event;
struct event_base;
struct evconnlistener;
struct evhttp;
struct evhttp_bound_socket;

/* One listen socket: what the configuration asked for, and what it got. */
struct listen_socket {
	struct evconnlistener *lev;
	struct evhttp_bound_socket *bound;	/* evhttp's; frees lev */
	struct config_listen want;		/* as configured (port 0 stays 0) */
	struct sockaddr_storage got;		/* as bound */
};

struct listeners {
	struct event_base *base;
	struct evhttp *http;
	struct listen_socket socks[CONFIG_MAX_LISTEN];
	size_t n;
	bool room;			/* the server has room for a client */
	bool accepting;			/* the sockets are enabled */
	bool fd_short;			/* accept() ran out of descriptors */
	bool fd_logged;			/* ... and said so, this time */
	int64_t fd_logged_at;		/* when it last said so */
	struct event *fd_retry;		/* try accept() again */
	uint64_t *pauses;		/* counts the shortages (the server's stats) */
	struct listeners *next;		/* every set, for accept errors */
};

/*
 * Binds every listen address of cfg into http and starts accepting.
 * Returns -1 after logging why; ls must then still be closed.
 */
int listeners_open(struct listeners *ls, struct event_base *base,
    struct evhttp *http, const struct ferryd_config *cfg, uint64_t *pauses);

/*
 * The listen sockets of cfg: the ones already open are kept (their
 * accept queues too), the ones cfg no longer names closed, the new ones
 * bound, in that order, so that a new address may take a dropped one's
 * port.  A new one that cannot be bound undoes it all: -1, and the old
 * set is open again (logged if a dropped one cannot be bound again).
 */
int listeners_rebind(struct listeners *ls, const struct ferryd_config *cfg);

/* Whether the server has room for another client. */
void listeners_set_room(struct listeners *ls, bool room);

/* A client was accepted: a shortage that was logged is over. */
void listeners_client_came(struct listeners *ls);

/* A client's descriptor is free: accept() may work again. */
void listeners_client_left(struct listeners *ls);

/* Copies the bound addresses into out (max at most); returns how many. */
size_t listeners_addrs(const struct listeners *ls,
    struct sockaddr_storage *out, size_t max);

/*
 * Stops using the sockets before evhttp_free() closes them, so that the
 * clients it closes then do not enable them again.
 */
void listeners_close(struct listeners *ls);

#endif
