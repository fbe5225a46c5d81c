/*
 * tunnel.h - a CONNECT tunnel, or an upgraded exchange (a 101): bytes both
 * ways between a client connection taken over from evhttp and an upstream
 * connection of its own (from the connector unpooled, or out of the pool
 * for good after the 101), with half-close passed on, reading
 * paused while the other side's output is full, and an idle timeout.
 *
 * Owner: the worker's tunnel list, from tunnel_start() until the tunnel
 * ends (both directions done, an error, the idle timeout, the client
 * gone, or tunnel_abort()), when it frees itself, the client connection
 * and the upstream connection.
 */
#ifndef FERRYD_TUNNEL_H
#define FERRYD_TUNNEL_H

#include <stdint.h>

struct client;
struct evbuffer;
struct evhttp_request;
struct upstream;
struct tunnel;
struct tunnel_list;
struct worker;

/*
 * Answers the CONNECT req from c: 403 for a port outside connect_ports,
 * 502 or 504 when the connect fails; otherwise 200 and the relay.
 */
void tunnel_start(struct worker *w, struct client *c,
    struct evhttp_request *req);

/*
 * The origin answered req (from c, sent on up) with a 101: head is the
 * 101 for the client, then bytes go both ways on up, which has left the
 * pool (pool_detach) and has no codec.  Takes up; head is emptied.
 * started: when the exchange began, for the access log.
 */
void tunnel_upgrade(struct worker *w, struct client *c,
    struct evhttp_request *req, const char *method, struct upstream *up,
    struct evbuffer *head, int64_t started);

/* Ends t now (shutdown): both connections close. */
void tunnel_abort(struct tunnel *t);

/* The first tunnel of the list, or NULL. */
struct tunnel *tunnel_first(struct tunnel_list *list);

#endif
