/*
 * tunnel.h - a CONNECT tunnel: bytes both ways between a client
 * connection taken over from evhttp and an upstream connection of its own
 * (from the connector, never pooled), with half-close passed on, reading
 * paused while the other side's output is full, and an idle timeout.
 *
 * Owner: the worker's tunnel list, from tunnel_start() until the tunnel
 * ends (both directions done, an error, the idle timeout, the client
 * gone, or tunnel_abort()), when it frees itself, the client connection
 * and the upstream connection.
 */
#ifndef FERRYD_TUNNEL_H
#define FERRYD_TUNNEL_H

struct client;
struct evhttp_request;
struct tunnel;
struct tunnel_list;
struct worker;

/*
 * Answers the CONNECT req from c: 403 for a port outside connect_ports,
 * 502 or 504 when the connect fails; otherwise 200 and the relay.
 */
void tunnel_start(struct worker *w, struct client *c,
    struct evhttp_request *req);

/* Ends t now (shutdown): both connections close. */
void tunnel_abort(struct tunnel *t);

/* The first tunnel of the list, or NULL. */
struct tunnel *tunnel_first(struct tunnel_list *list);

#endif
