/*
 * tunnel.c - CONNECT: the connect, the 200, and the relay.  See tunnel.h.
 *
 * Each direction moves whole buffers (evbuffer_add_buffer: no copy) from
 * one side's input to the other side's output.  When that output holds
 * TUNNEL_HIGH bytes, the source is not read until it has drained, so a
 * fast sender and a slow receiver cost at most about TUNNEL_HIGH plus one
 * read per direction.  An EOF read from one side becomes a FIN to the
 * other once everything before it is written; the tunnel ends when both
 * directions have ended so.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "address.h"
#include "client.h"
#include "clock.h"
#include "config.h"
#include "connector.h"
#include "log.h"
#include "target.h"
#include "tunnel.h"
#include "upstream.h"
#include "worker.h"

/* Bytes waiting for one side before the other side is not read. */
#define TUNNEL_HIGH (256 * 1024)

enum { CLIENT, ORIGIN };

/* One side of the tunnel, as the source of one direction. */
struct tunnel_side {
	struct bufferevent *bev;
	bool eof;			/* it sent FIN (or we stopped reading it) */
	bool paused;			/* not read: the other side's output is full */
	bool shut;			/* we sent it FIN */
	uint64_t bytes;			/* read from it */
};

struct tunnel {
	TAILQ_ENTRY(tunnel) entry;
	struct worker *w;
	const struct ferryd_config *cfg;	/* the one it started with */
	struct client *client;
	struct evhttp_request *req;	/* the CONNECT, until the 200 */
	struct connect_req *connecting;
	struct upstream *up;
	struct address address;
	char method[20];		/* for the access log: CONNECT, or GET */
	char *target;			/* the request target, malloc'd */
	int status;			/* 200, or 101 for an upgrade */
	struct tunnel_side side[2];	/* [CLIENT], [ORIGIN] */
	struct event *idle_timer;
	int64_t started;
	int64_t active_at;		/* last byte moved */
	size_t pending;			/* both outputs at the last idle check */
	bool open;			/* the 200 is sent: relaying */
};

static void tunnel_on_client_read(struct bufferevent *bev, void *arg);
static void tunnel_on_client_write(struct bufferevent *bev, void *arg);
static void tunnel_on_client_event(struct bufferevent *bev, short what,
    void *arg);
static void tunnel_on_origin_read(void *arg);
static void tunnel_on_origin_write(void *arg);
static void tunnel_on_origin_event(short what, void *arg);

static const struct upstream_ops tunnel_upstream_ops = {
	.on_read = tunnel_on_origin_read,
	.on_write = tunnel_on_origin_write,
	.on_event = tunnel_on_origin_event,
};

struct tunnel *
tunnel_first(struct tunnel_list *list)
{
	return TAILQ_FIRST(list);
}

/* Frees t and what it holds; the access log line is written first. */
static void
tunnel_free(struct tunnel *t, int status, const char *why)
{
	struct worker *w = t->w;
	uint64_t id = t->up != NULL ? t->up->pc.id : 0;

	worker_access_log(w, t->client->peer_ip, t->method, t->target, status,
	    t->side[ORIGIN].bytes, clock_now() - t->started, id, false);
	if (t->open) {
		log_debug("tunnel %s -> %s ended: %s (%llu bytes up, %llu down)",
		    t->client->peer_ip, t->target, why,
		    (unsigned long long)t->side[CLIENT].bytes,
		    (unsigned long long)t->side[ORIGIN].bytes);
		w->stats.tunnels_active--;
		client_close(t->client);
	} else
		client_set_user(t->client, NULL, NULL);
	if (t->connecting != NULL)
		connector_cancel(t->connecting);
	if (t->up != NULL)
		upstream_close(t->up, why);
	if (t->idle_timer != NULL)
		event_free(t->idle_timer);
	TAILQ_REMOVE(&w->tunnels, t, entry);
	config_free(t->cfg);
	free(t->target);
	free(t);
	w->hooks->exchange_done(w->hooks_arg);
}

/* The CONNECT fails before the 200: status goes to the client. */
static void
tunnel_fail(struct tunnel *t, int status, const char *why)
{
	log_info("client %s: %s %s: %d %s", t->client->peer_ip, t->method,
	    t->target, status, why);
	client_end_after_reply(t->client);
	worker_reply_error(t->w, t->req, status, why, true);
	tunnel_free(t, status, why);
}

/* evhttp frees the client connection: the client left, or ferryd exits. */
static void
tunnel_on_client_close(void *arg)
{
	struct tunnel *t = arg;

	if (!t->open) {
		/* evhttp detached the unanswered request: it is ours to free. */
		if (evhttp_request_get_connection(t->req) == NULL)
			evhttp_request_free(t->req);
		stats_count_request(&t->w->stats, 499);
		tunnel_free(t, 499, "client gone while connecting");
		return;
	}
	/* evhttp_free() at exit: the connection is evhttp's to free now. */
	t->open = false;
	t->w->stats.tunnels_active--;
	tunnel_free(t, t->status, "ferryd exits");
}

static struct bufferevent *
dest_of(struct tunnel *t, int from)
{
	return t->side[!from].bev;
}

/* Both directions carried their EOF across: the tunnel is done. */
static void
maybe_done(struct tunnel *t)
{
	if (t->side[CLIENT].shut && t->side[ORIGIN].shut)
		tunnel_free(t, t->status, "closed by both sides");
}

/* from's EOF goes on to the other side once its output is written. */
static void
pass_eof(struct tunnel *t, int from)
{
	struct tunnel_side *to = &t->side[!from];

	if (!t->side[from].eof || to->shut ||
	    evbuffer_get_length(bufferevent_get_output(to->bev)) > 0)
		return;
	to->shut = true;
	if (from == CLIENT)
		upstream_shutdown_write(t->up);
	else
		client_shutdown_write(t->client);
	maybe_done(t);
}

/*
 * Reads on from from's socket straight into out while it has room:
 * libevent reads 4 KiB at a time, a system call and a loop turn each.  An
 * EOF or error found here is left for libevent to find on its next read.
 */
static void
read_more(struct tunnel *t, int from, struct evbuffer *out)
{
	size_t len;
	ssize_t n;

	while ((len = evbuffer_get_length(out)) < TUNNEL_HIGH) {
		n = from == ORIGIN ?
		    upstream_read_more(t->up, out, TUNNEL_HIGH - len) :
		    client_read_more(t->client, out, TUNNEL_HIGH - len);
		if (n <= 0)
			return;
		t->side[from].bytes += (uint64_t)n;
	}
}

/* Moves what from has read to the other side. */
static void
relay(struct tunnel *t, int from)
{
	struct tunnel_side *s = &t->side[from];
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer *out = bufferevent_get_output(dest_of(t, from));
	size_t n = evbuffer_get_length(in);

	if (n == 0)
		return;
	s->bytes += n;
	t->active_at = clock_now();
	evbuffer_add_buffer(out, in);
	if (!s->eof)
		read_more(t, from, out);
	if (evbuffer_get_length(out) >= TUNNEL_HIGH && !s->paused) {
		s->paused = true;
		bufferevent_disable(s->bev, EV_READ);
	}
}

/* to's output is written out: resume its source, or pass on an EOF. */
static void
drained(struct tunnel *t, int to)
{
	struct tunnel_side *src = &t->side[!to];

	t->active_at = clock_now();
	if (src->paused) {
		src->paused = false;
		if (!src->eof)
			bufferevent_enable(src->bev, EV_READ);
	}
	pass_eof(t, !to);
}

static void
on_event(struct tunnel *t, int side, short what)
{
	if (what & BEV_EVENT_EOF) {
		relay(t, side);
		t->side[side].eof = true;
		pass_eof(t, side);
		return;
	}
	tunnel_free(t, t->status, side == CLIENT ? "client connection error" :
	    "origin connection error");
}

static void
tunnel_on_client_read(struct bufferevent *bev, void *arg)
{
	relay(arg, CLIENT);
}

static void
tunnel_on_client_write(struct bufferevent *bev, void *arg)
{
	drained(arg, CLIENT);
}

static void
tunnel_on_client_event(struct bufferevent *bev, short what, void *arg)
{
	on_event(arg, CLIENT, what);
}

static void
tunnel_on_origin_read(void *arg)
{
	relay(arg, ORIGIN);
}

static void
tunnel_on_origin_write(void *arg)
{
	drained(arg, ORIGIN);
}

static void
tunnel_on_origin_event(short what, void *arg)
{
	on_event(arg, ORIGIN, what);
}

/*
 * Idle for client_idle_timeout both ways: closed.  Re-armed lazily.  A
 * side read slowly is not idle: while its backlog shrinks nothing is read
 * (the source is paused), so output that moved since the last check
 * counts as activity too.
 */
static void
tunnel_on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct tunnel *t = arg;
	size_t pending = evbuffer_get_length(bufferevent_get_output(
	    t->side[CLIENT].bev)) + evbuffer_get_length(bufferevent_get_output(
	    t->side[ORIGIN].bev));
	int64_t now = clock_now(), due;
	struct timeval tv;

	if (pending != t->pending) {
		t->pending = pending;
		t->active_at = now;
	}
	due = t->active_at + t->cfg->client_idle_timeout;

	if (now >= due) {
		tunnel_free(t, t->status, "idle timeout");
		return;
	}
	tv = clock_to_timeval(due - now);
	evtimer_add(t->idle_timer, &tv);
}

/*
 * Connected: the client connection is the tunnel's, starting with first
 * (the 200 line, or the 101 head), which it takes.
 */
static void
tunnel_open(struct tunnel *t, struct evbuffer *first)
{
	struct worker *w = t->w;
	struct timeval tv = clock_to_timeval(t->cfg->client_idle_timeout);
	struct bufferevent *cbev;

	if ((t->idle_timer = evtimer_new(w->base, tunnel_on_idle, t)) == NULL) {
		tunnel_fail(t, 503, "out of memory");
		return;
	}
	stats_count_request(&w->stats, t->status);
	w->stats.tunnels_total++;
	w->stats.tunnels_active++;
	t->open = true;
	t->req = NULL;
	t->active_at = clock_now();
	cbev = client_take_over(t->client);
	t->side[CLIENT].bev = cbev;
	t->side[ORIGIN].bev = t->up->bev;
	bufferevent_setcb(cbev, tunnel_on_client_read, tunnel_on_client_write,
	    tunnel_on_client_event, t);
	bufferevent_setwatermark(cbev, EV_READ | EV_WRITE, 0, 0);
	evbuffer_add_buffer(bufferevent_get_output(cbev), first);
	upstream_attach(t->up, &tunnel_upstream_ops, t, 0);
	bufferevent_enable(cbev, EV_READ | EV_WRITE);
	evtimer_add(t->idle_timer, &tv);
	log_debug("tunnel %s -> %s open on upstream %llu", t->client->peer_ip,
	    t->target, (unsigned long long)t->up->pc.id);
	/*
	 * What came after the heads goes first: a ClientHello sent with the
	 * CONNECT, the new protocol's first bytes after a 101.
	 */
	relay(t, CLIENT);
	relay(t, ORIGIN);
}

static void
tunnel_on_connection(const struct connect_result *res, void *arg)
{
	struct tunnel *t = arg;
	struct sockaddr_storage local, peer;
	struct evbuffer *first;

	t->connecting = NULL;
	if (res->up == NULL) {
		tunnel_fail(t, res->status, res->why);
		return;
	}
	t->up = res->up;
	/* A CONNECT to ferryd itself would nest tunnels without end. */
	if (upstream_addrs(t->up, &local, &peer) == 0 &&
	    worker_is_self(t->w, (const struct sockaddr *)&peer,
	    (const struct sockaddr *)&local)) {
		tunnel_fail(t, 403, "CONNECT to ferryd itself is refused");
		return;
	}
	if ((first = evbuffer_new()) == NULL ||
	    evbuffer_add(first, "HTTP/1.1 200 Connection established\r\n\r\n",
	    39) != 0) {
		if (first != NULL)
			evbuffer_free(first);
		tunnel_fail(t, 503, "out of memory");
		return;
	}
	tunnel_open(t, first);
	evbuffer_free(first);
}

/* A new tunnel for req on c, in the list and told of c's close; NULL: no memory. */
static struct tunnel *
tunnel_new(struct worker *w, struct client *c, struct evhttp_request *req,
    const char *method, int status)
{
	struct tunnel *t;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->target = strdup(evhttp_request_get_uri(req))) == NULL) {
		free(t);
		return NULL;
	}
	t->w = w;
	t->cfg = config_ref(w->cfg);
	t->client = c;
	t->req = req;
	t->status = status;
	t->started = clock_now();
	snprintf(t->method, sizeof(t->method), "%s", method);
	TAILQ_INSERT_TAIL(&w->tunnels, t, entry);
	client_set_user(c, tunnel_on_client_close, t);
	return t;
}

void
tunnel_upgrade(struct worker *w, struct client *c, struct evhttp_request *req,
    const char *method, struct upstream *up, struct evbuffer *head,
    int64_t started)
{
	struct tunnel *t;

	if ((t = tunnel_new(w, c, req, method, 101)) == NULL) {
		upstream_close(up, "out of memory");
		worker_reply_error(w, req, 503, "out of memory", true);
		return;
	}
	t->up = up;
	t->started = started;
	tunnel_open(t, head);
}

void
tunnel_start(struct worker *w, struct client *c, struct evhttp_request *req)
{
	struct connect_params p = {
		.unpooled = true,
		.connect_timeout = w->cfg->connect_timeout,
		.dns_cache_ttl = w->cfg->dns_cache_ttl,
	};
	struct target target;
	const char *why = NULL;
	struct connect_req *creq;
	struct tunnel *t;

	if ((t = tunnel_new(w, c, req, "CONNECT", 200)) == NULL) {
		client_end_after_reply(c);
		worker_reply_error(w, req, 503, "out of memory", true);
		return;
	}
	memset(&target, 0, sizeof(target));
	if (target_parse(&target, evhttp_request_get_uri(req), true, false,
	    &why) != 0) {
		tunnel_fail(t, 400, why);
		return;
	}
	if (!config_connect_port_allowed(t->cfg, target.port)) {
		target_clear(&target);
		tunnel_fail(t, 403, "CONNECT to this port is not allowed");
		return;
	}
	/* Never equal to an http:// address: nothing pooled can match. */
	if (address_init(&t->address, "tcp", target.host, target.port) != 0) {
		target_clear(&target);
		tunnel_fail(t, 400, "host name too long");
		return;
	}
	target_clear(&target);
	p.address = &t->address;
	/* NULL: the callback ran already, and may have freed t. */
	if ((creq = connector_connect(w->connector, &p, tunnel_on_connection,
	    t)) != NULL)
		t->connecting = creq;
}

void
tunnel_abort(struct tunnel *t)
{
	if (!t->open) {
		tunnel_fail(t, 503, "ferryd is shutting down");
		return;
	}
	tunnel_free(t, t->status, "ferryd is shutting down");
}
