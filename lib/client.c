/*
 * client.c - the scanner tap under evhttp on every client connection,
 * the direct error reply, and the connection's close callback.  See
 * client.h and reqscan.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "acl.h"
#include "auth.h"
#include "client.h"
#include "clock.h"
#include "config.h"
#include "headers.h"
#include "log.h"
#include "sockio.h"
#include "worker.h"

#define CLIENT_IO_MAX (1024 * 1024)
/*
 * Bytes read ahead from a client beyond a head at most: what a body in
 * flight may hold in ferryd while its origin is slower than its client
 * (and what pipelined requests may, while a reply is written).
 */
#define CLIENT_READ_AHEAD (256 * 1024)
/* How long a client whose body is left unread may go on sending it. */
#define CLIENT_LINGER_SEC 2

static void client_on_reject(evutil_socket_t fd, short what, void *arg);
static void client_on_close_ev(evutil_socket_t fd, short what, void *arg);
static void client_body_end(struct client *c, struct evhttp_request *req);

/*
 * Runs cb for c from the loop, soon: the error reply and the close after
 * it must not run inside the callback that decided them.  Their events
 * are made only when needed (most connections never need them).
 */
static void
client_later(struct client *c, struct event **ev,
    void (*cb)(evutil_socket_t, short, void *))
{
	if (*ev == NULL &&
	    (*ev = event_new(c->w->base, -1, 0, cb, c)) == NULL) {
		log_err("client %s: out of memory; the connection ends at "
		    "its idle timeout", c->peer_ip);
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	event_active(*ev, EV_TIMEOUT, 1);
}

/*
 * Drops what the buffer holds of the request that failed, and anything
 * after it.  front is the stream offset of the buffer's first byte.
 */
static void
drop_bad_request(struct client *c, struct evbuffer *in, uint64_t front)
{
	size_t len = evbuffer_get_length(in);
	uint64_t keep = c->scan.request_start > front ?
	    c->scan.request_start - front : 0;
	struct evbuffer *tmp;

	if (keep == 0) {
		evbuffer_drain(in, len);
		return;
	}
	/* Earlier pipelined requests stay for evhttp; this one goes. */
	if ((tmp = evbuffer_new()) == NULL) {
		evbuffer_drain(in, len);
		return;
	}
	evbuffer_remove_buffer(in, tmp, (size_t)keep);
	evbuffer_drain(in, evbuffer_get_length(in));
	/* Putting the clean bytes back must not feed them to the scanner again. */
	evbuffer_cb_clear_flags(in, c->scan_cb, EVBUFFER_CB_ENABLED);
	evbuffer_add_buffer(in, tmp);
	evbuffer_cb_set_flags(in, c->scan_cb, EVBUFFER_CB_ENABLED);
	evbuffer_free(tmp);
}

/* The request stream broke: answer once evhttp has nothing else to send. */
static void
client_reject(struct client *c)
{
	if (c->rejecting || c->closing)
		return;
	c->rejecting = true;
	evtimer_del(c->header_timer);
	/* A refused address is the operator's business; bad bytes the client's. */
	if (c->scan.status == 403)
		log_notice("client %s: 403 %s", c->peer_ip, c->scan.why);
	else
		log_info("client %s: %d %s", c->peer_ip, c->scan.status,
		    c->scan.why);
	if (!c->in_flight)
		client_later(c, &c->reject_ev, client_on_reject);
}

void
client_log_auth(const struct client *c, enum auth_result r, const char *user)
{
	if (r == AUTH_MISSING || r == AUTH_OK)
		return;
	log_notice("client %s: authentication failed: %s%s%s%s", c->peer_ip,
	    auth_result_name(r), user[0] != '\0' ? " (user \"" : "", user,
	    user[0] != '\0' ? "\")" : "");
}

/*
 * The scanner asks before a body is read: with auth_file, only a client
 * with valid credentials makes ferryd read (and hold) a body, or get a
 * 100 Continue.  The request callback checks every request again (a
 * cache hit by then).
 */
static int
client_check_body(void *arg, const char *cred, const char **why)
{
	struct client *c = arg;
	enum auth_result r;
	char user[64];

	if (c->w->auth == NULL ||
	    (r = auth_check(c->w->auth, cred, user, sizeof(user))) == AUTH_OK)
		return 0;
	client_log_auth(c, r, user);
	*why = r == AUTH_MISSING ? "authentication required" :
	    "authentication failed";
	return 407;
}

/*
 * The scanner found a framing field's name at stream offset offset, which
 * is still in the input buffer (evhttp takes whole lines only, and this
 * one has not ended): '@' in place of its first byte hides it from
 * evhttp (see struct client_body).
 */
static bool
client_on_mark(void *arg, uint64_t offset)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr pos;
	struct evbuffer_iovec v;

	if (offset < c->feed_front ||
	    evbuffer_ptr_set(in, &pos, (size_t)(offset - c->feed_front),
	    EVBUFFER_PTR_SET) != 0 || evbuffer_peek(in, 1, &pos, &v, 1) < 1 ||
	    v.iov_len == 0) {
		/* Cannot happen; if it did, evhttp would read a body we never see. */
		return false;
	}
	*(char *)v.iov_base = '@';
	return true;
}

/* Tells the body's reader, from the loop, that there is news. */
static void
client_body_notify(struct client *c)
{
	if (c->body.on_body != NULL && c->body.ev != NULL)
		event_active(c->body.ev, EV_TIMEOUT, 1);
}

static void
client_on_body_ev(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	if (c->body.on_body != NULL)
		c->body.on_body(c->body.arg);
}

/* Sees every byte before evhttp does (runs as bytes are added). */
static void
client_on_input(struct evbuffer *in, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct client *c = arg;
	struct evbuffer_iovec iov[16];
	struct evbuffer_ptr pos;
	size_t len, left;
	uint64_t front;
	int n, i;

	if (info->n_added == 0)
		return;
	len = evbuffer_get_length(in);
	if (c->rejecting || c->closing) {
		evbuffer_drain(in, len);
		return;
	}
	left = info->n_added;
	/* Before evhttp reads a body or answers 100-continue for it. */
	reqscan_refuse(&c->scan, client_allowed(c) ? 0 : 403, "access denied");
	if (c->w->auth != NULL && c->scan.body_check == NULL)
		(void)reqscan_set_body_check(&c->scan, client_check_body, c);
	/* Only bytes up to a violation get scanned: take the position first. */
	front = c->scan.offset - (len - left);
	c->feed_front = front;
	evbuffer_ptr_set(in, &pos, len - left, EVBUFFER_PTR_SET);
	while (left > 0) {
		n = evbuffer_peek(in, (ev_ssize_t)left, &pos, iov, 16);
		for (i = 0; i < n && i < 16 && left > 0; i++) {
			size_t chunk = iov[i].iov_len < left ? iov[i].iov_len : left;

			if (reqscan_feed(&c->scan, iov[i].iov_base, chunk) != 0) {
				drop_bad_request(c, in, front);
				client_reject(c);
				client_body_notify(c);
				return;
			}
			left -= chunk;
		}
		if (left > 0)
			evbuffer_ptr_set(in, &pos, len - left, EVBUFFER_PTR_SET);
	}
	if (c->body.kind != CLIENT_BODY_NONE && !c->body.done)
		client_body_notify(c);
	if (reqscan_in_head(&c->scan)) {
		if (!evtimer_pending(c->header_timer, NULL)) {
			struct timeval tv = clock_to_timeval(
			    c->w->cfg->client_header_timeout);
			evtimer_add(c->header_timer, &tv);
		}
	} else
		evtimer_del(c->header_timer);
}

static void
client_on_header_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	struct evbuffer *in = bufferevent_get_input(c->bev);

	reqscan_fail(&c->scan, 408, "request header timeout");
	drop_bad_request(c, in, c->scan.offset - evbuffer_get_length(in));
	client_reject(c);
}

/* Writes the scanner's error reply straight to the socket, then closes. */
static void
client_on_reject(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const char *why = c->scan.why != NULL ? c->scan.why : "bad request";

	/*
	 * Clean requests before the bad one are answered first, in order:
	 * one in flight, or one whose bytes evhttp has yet to read (what is
	 * left in the buffer is only those; client_on_complete re-arms).
	 */
	if (c->in_flight || evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		return;
	c->closing = true;
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	bufferevent_disable(c->bev, EV_READ);
	stats_count_request(&c->w->stats, c->scan.status);
	/* The request is not parsed: its method and target are unknown. */
	worker_access_log(c->w, c->peer_ip, "-", "-", c->scan.status, 0,
	    0, 0, false);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n%s"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
	    c->scan.status, worker_reason_phrase(c->scan.status),
	    c->scan.status == 407 ? "Proxy-Authenticate: " WORKER_CHALLENGE
	    "\r\n" : "", strlen(why) + 1, why);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* Our error reply is out: let evhttp close as if the client had. */
static void
client_on_output(struct evbuffer *out, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct client *c = arg;

	if (c->closing && info->n_deleted > 0 && evbuffer_get_length(out) == 0)
		client_later(c, &c->close_ev, client_on_close_ev);
}

static void
client_on_close_ev(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	bufferevent_trigger_event(c->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
}

/*
 * evhttp stops reading a client while its request is handled, so it would
 * only notice a client that gave up when writing the reply: an origin slow
 * to answer would keep the upstream connection (and do the work) for
 * nobody.  EV_CLOSED (EPOLLRDHUP) tells at once; like nginx, a client that
 * shuts down its side before the reply counts as gone.
 */
static void
client_on_hangup(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	log_debug("client %s: closed its connection before the reply",
	    c->peer_ip);
	bufferevent_trigger_event(c->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
}

/* evhttp is freeing the connection: the exchange in flight goes with it. */
static void
client_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct client *c = arg;

	if (c->on_close != NULL)
		c->on_close(c->user);
	/* evhttp detached it at the close (else it frees it itself). */
	if (c->orphan != NULL && evhttp_request_get_connection(c->orphan) == NULL)
		evhttp_request_free(c->orphan);
	if (c->in_flight) {
		c->w->replies_in_flight--;
		c->w->hooks->reply_done(c->w->hooks_arg);
	}
	reqscan_clear(&c->scan);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->scan_cb);
	evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->drain_cb);
	c->w->hooks->client_closed(c->w->hooks_arg, c);
	if (c->hangup_ev != NULL)
		event_free(c->hangup_ev);
	event_free(c->setup_ev);
	event_free(c->header_timer);
	if (c->reject_ev != NULL)
		event_free(c->reject_ev);
	if (c->close_ev != NULL)
		event_free(c->close_ev);
	if (c->body.ev != NULL)
		event_free(c->body.ev);
	if (c->body_trailers != NULL)
		evbuffer_free(c->body_trailers);
	free(c);
}

/*
 * "192.0.2.1" into buf (16 bytes at least), by hand: inet_ntop() prints
 * with sprintf, and this runs for every client connection.
 */
static void
format_ipv4(const struct in_addr *a, char *buf)
{
	const unsigned char *b = (const unsigned char *)&a->s_addr;
	char *p = buf;

	for (int i = 0; i < 4; i++) {
		if (i > 0)
			*p++ = '.';
		p += headers_format_u64(p, b[i]);
	}
	*p = '\0';
}

/*
 * Runs right after evhttp has built its connection around our bufferevent
 * (before any byte is read): the connection object is the bufferevent's
 * callback argument, and the peer is known.
 */
static void
client_on_setup(evutil_socket_t unused, short what, void *arg)
{
	struct client *c = arg;
	socklen_t len = sizeof(c->peer);
	void *cbarg = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
	c->evcon = cbarg;
	evhttp_connection_set_closecb(c->evcon, client_on_close, c);
	c->fd = bufferevent_getfd(c->bev);
	sockio_nodelay(c->fd);
	c->have_peer = getpeername(c->fd, (struct sockaddr *)&c->peer,
	    &len) == 0;
	if (c->peer.ss_family == AF_INET)
		format_ipv4(&((struct sockaddr_in *)&c->peer)->sin_addr,
		    c->peer_ip);
	else if (c->peer.ss_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&c->peer)->sin6_addr, c->peer_ip,
		    sizeof(c->peer_ip));
	c->w->hooks->client_added(c->w->hooks_arg, c, c->fd);
	/* Without EV_CLOSED support (not epoll) a hangup shows at the reply. */
	if (event_base_get_features(c->w->base) & EV_FEATURE_EARLY_CLOSE)
		c->hangup_ev = event_new(c->w->base, c->fd, EV_CLOSED,
		    client_on_hangup, c);
}

void
client_set_user(struct client *c, void (*on_close)(void *arg), void *user)
{
	c->on_close = on_close;
	c->user = user;
	/* The body's reader is the request's user: it goes with it. */
	if (user == NULL) {
		c->body.on_body = NULL;
		if (c->body.ev != NULL)
			event_del(c->body.ev);
	}
}

bool
client_allowed(const struct client *c)
{
	return c->have_peer && acl_match(&c->w->cfg->allow,
	    (const struct sockaddr *)&c->peer);
}

struct bufferevent *
client_bev_new(struct event_base *base, void *arg)
{
	struct worker *w = arg;
	const struct ferryd_config *cfg = w->cfg;
	struct reqscan_limits limits;
	struct client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->w = w;
	c->fd = -1;
	strcpy(c->peer_ip, "-");
	limits.max_header_size = cfg->max_header_size;
	limits.max_body_size = cfg->max_body_size;
	reqscan_init(&c->scan, &limits);
	reqscan_set_mark(&c->scan, client_on_mark, c);
	c->setup_ev = event_new(base, -1, 0, client_on_setup, c);
	c->header_timer = evtimer_new(base, client_on_header_timeout, c);
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->setup_ev == NULL || c->header_timer == NULL ||
	    c->bev == NULL)
		goto fail;
	/* libevent moves 16 KiB per callback by default: too little for bodies. */
	bufferevent_set_max_single_read(c->bev, CLIENT_IO_MAX);
	bufferevent_set_max_single_write(c->bev, CLIENT_IO_MAX);
	/* Reading stops while this much waits (room for any head). */
	bufferevent_setwatermark(c->bev, EV_READ, 0, cfg->max_header_size +
	    CLIENT_READ_AHEAD);
	c->scan_cb = evbuffer_add_cb(bufferevent_get_input(c->bev),
	    client_on_input, c);
	c->drain_cb = evbuffer_add_cb(bufferevent_get_output(c->bev),
	    client_on_output, c);
	if (c->scan_cb == NULL || c->drain_cb == NULL)
		goto fail;
	event_active(c->setup_ev, EV_TIMEOUT, 1);
	w->hooks->client_opened(w->hooks_arg);
	return c->bev;
fail:
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->setup_ev != NULL)
		event_free(c->setup_ev);
	if (c->header_timer != NULL)
		event_free(c->header_timer);
	free(c);
	return NULL;
}

void
client_cut(struct client *c, struct evhttp_request *req)
{
	c->closing = true;
	c->orphan = req;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_later(c, &c->close_ev, client_on_close_ev);
}

/*
 * The reply is out.  A body not read to its end must not be parsed as
 * the next request: the connection ends, whether or not a byte of it
 * came (RFC 9110 10.1.1 lets the client send it after any final status;
 * its bytes and a next request's could not be told apart), and the
 * reply said so (client_body_unread()).
 */
static void
client_body_end(struct client *c, struct evhttp_request *req)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct timeval linger = { CLIENT_LINGER_SEC, 0 };

	c->body.on_body = NULL;
	if (c->body.kind == CLIENT_BODY_NONE || c->body.done || c->closing)
		return;
	log_debug("client %s: the rest of the request body is not read: "
	    "closing", c->peer_ip);
	c->closing = true;
	evbuffer_drain(in, evbuffer_get_length(in));
	/*
	 * A close with unread bytes in the socket is an RST, which can
	 * destroy the reply before the client reads it (RFC 9112 9.6): our
	 * FIN goes now, and what the client still sends is read and
	 * dropped (client_on_input) until it closes, or for
	 * CLIENT_LINGER_SEC.  evhttp, which would close at once, is told
	 * the connection stays (an HTTP/1.0 one it closes all the same).
	 */
	if (req->minor == 0 || c->fd < 0 || (c->close_ev == NULL &&
	    (c->close_ev = event_new(c->w->base, -1, 0, client_on_close_ev,
	    c)) == NULL)) {
		client_later(c, &c->close_ev, client_on_close_ev);
		return;
	}
	while (evhttp_remove_header(evhttp_request_get_input_headers(req),
	    "Connection") == 0)
		;
	while (evhttp_remove_header(evhttp_request_get_output_headers(req),
	    "Connection") == 0)
		;
	shutdown(c->fd, SHUT_WR);
	event_add(c->close_ev, &linger);
}

/* The reply to a dispatched request is fully written. */
static void
client_on_complete(struct evhttp_request *req, void *arg)
{
	struct client *c = arg;

	c->in_flight = false;
	if (c->hangup_ev != NULL)
		event_del(c->hangup_ev);
	c->w->replies_in_flight--;
	c->w->hooks->reply_done(c->w->hooks_arg);
	client_body_end(c, req);
	/* A body that broke was answered by its exchange: nothing more to say. */
	if (c->rejecting && !c->closing)
		client_later(c, &c->reject_ev, client_on_reject);
}

/*
 * The framing fields the scanner had hidden from evhttp ('@' for their
 * first letter; checked by the scanner, one of them at most): into
 * c->body, and out of req's fields.
 */
static void
client_body_framing(struct client *c, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyval *h, *next;
	struct client_body *b = &c->body;

	b->kind = CLIENT_BODY_NONE;
	b->length = b->left = 0;
	b->done = false;
	b->on_body = NULL;
	for (h = TAILQ_FIRST(in); h != NULL; h = next) {
		next = TAILQ_NEXT(h, next);
		if (h->key[0] != '@')
			continue;
		if (strcasecmp(h->key, "@ontent-Length") == 0) {
			b->length = strtoull(h->value, NULL, 10);
			if (b->length > 0)
				b->kind = CLIENT_BODY_LENGTH;
		} else if (strcasecmp(h->key, "@ransfer-Encoding") == 0)
			b->kind = CLIENT_BODY_CHUNKED;
		evhttp_remove_header(in, h->key);
	}
	b->left = b->length;
	memset(&b->chunked, 0, sizeof(b->chunked));
	if (b->kind == CLIENT_BODY_CHUNKED) {
		if (c->body_trailers == NULL)
			c->body_trailers = evbuffer_new();
		else
			evbuffer_drain(c->body_trailers,
			    evbuffer_get_length(c->body_trailers));
		b->chunked.trailers = c->body_trailers;
	}
}

void
client_on_dispatch(struct client *c, struct evhttp_request *req)
{
	client_body_framing(c, req);
	c->in_flight = true;
	c->w->replies_in_flight++;
	if (c->hangup_ev != NULL)
		event_add(c->hangup_ev, NULL);
	evhttp_request_set_on_complete_cb(req, client_on_complete, c);
}

void
client_end_after_reply(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	/* client_on_output closes once the reply is written. */
	c->closing = true;
	evbuffer_drain(in, evbuffer_get_length(in));
}

struct bufferevent *
client_take_over(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	evbuffer_cb_clear_flags(in, c->scan_cb, EVBUFFER_CB_ENABLED);
	evtimer_del(c->header_timer);
	if (c->hangup_ev != NULL)
		event_del(c->hangup_ev);
	if (c->in_flight) {
		c->in_flight = false;
		c->w->replies_in_flight--;
		c->w->hooks->reply_done(c->w->hooks_arg);
	}
	/* evhttp's idle timeout would cut a download whose client is silent. */
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	sockio_clear_timeouts(c->bev);
	return c->bev;
}

ssize_t
client_read_more(struct client *c, struct evbuffer *buf, size_t max)
{
	return c->fd >= 0 ? sockio_read(c->fd, buf, max) : 0;
}

void
client_shutdown_write(struct client *c)
{
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_WR);
}

void
client_close(struct client *c)
{
	client_set_user(c, NULL, NULL);
	evhttp_connection_free(c->evcon);
}

/* evhttp's write callback, while the body is read (see client_body_watch). */
static void
client_on_body_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->evhttp_wcb != NULL)
		c->evhttp_wcb(bev, c->evhttp_cbarg);
}

/*
 * A client silent mid-body for client_idle_timeout gets a 408 from its
 * exchange (evhttp would drop the connection without a word); anything
 * else goes to evhttp as before.
 */
static void
client_on_body_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    !c->body.done && !c->closing) {
		reqscan_fail(&c->scan, 408, "request body timeout");
		c->rejecting = true;
		client_body_notify(c);
		return;
	}
	c->evhttp_ecb(bev, what, c->evhttp_cbarg);
}

void
client_body_watch(struct client *c, void (*on_body)(void *arg), void *arg)
{
	if (c->body.kind == CLIENT_BODY_NONE || c->body.done)
		return;
	if (c->body.ev == NULL &&
	    (c->body.ev = event_new(c->w->base, -1, 0, client_on_body_ev,
	    c)) == NULL) {
		reqscan_fail(&c->scan, 503, "out of memory");
		return;
	}
	c->body.on_body = on_body;
	c->body.arg = arg;
	/*
	 * evhttp's read callback must not run (in its writing state it
	 * aborts the process): the bytes are the body's, seen by the
	 * scanner as they are added.  Its write and event callbacks run
	 * through ours (one argument serves all three).  evhttp sets its
	 * own again when it writes the reply.
	 */
	bufferevent_getcb(c->bev, NULL, &c->evhttp_wcb, &c->evhttp_ecb,
	    &c->evhttp_cbarg);
	bufferevent_setcb(c->bev, NULL, client_on_body_write,
	    client_on_body_event, c);
}

/*
 * libevent reads 4 KiB per read(2) (EVBUFFER_MAX_READ, into an input
 * buffer whose end only it may fill): a body would cost a read, a
 * write and two epoll_ctl calls per 4 KiB.  Once the input buffer is
 * empty, the rest of a Content-Length body is read straight into out,
 * CLIENT_READ_AHEAD at most and never past the body's end, and counted
 * through the scanner (which only counts body bytes).
 */
static void
read_more_body(struct client *c, struct evbuffer *out)
{
	struct client_body *b = &c->body;
	size_t before = evbuffer_get_length(out), want;
	struct evbuffer_iovec v[8];
	struct evbuffer_ptr pos;
	ssize_t got;
	int k, i;

	if (b->left == 0 || c->rejecting || c->closing || c->fd < 0 ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		return;
	want = b->left < CLIENT_READ_AHEAD ? (size_t)b->left : CLIENT_READ_AHEAD;
	if ((got = sockio_read(c->fd, out, want)) <= 0)
		return;		/* an EOF or error comes to the bufferevent too */
	b->left -= (uint64_t)got;
	evbuffer_ptr_set(out, &pos, before, EVBUFFER_PTR_SET);
	k = evbuffer_peek(out, got, &pos, v, 8);
	for (i = 0; i < k && i < 8; i++) {
		size_t m = v[i].iov_len < (size_t)got ? v[i].iov_len : (size_t)got;

		reqscan_feed(&c->scan, v[i].iov_base, m);
		got -= (ssize_t)m;
	}
}

enum client_body_result
client_body_read(struct client *c, struct evbuffer *out)
{
	struct client_body *b = &c->body;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t n;
	enum http1_result r;
	const char *why;

	if (b->done)
		return CLIENT_BODY_DONE;
	if (b->kind == CLIENT_BODY_LENGTH) {
		n = evbuffer_get_length(in);
		if (n > b->left)
			n = (size_t)b->left;
		evbuffer_remove_buffer(in, out, n);
		b->left -= n;
		read_more_body(c, out);
		b->done = b->left == 0;
	} else if (b->kind == CLIENT_BODY_CHUNKED) {
		/* The scanner checked every byte here: an error is ours. */
		if ((r = http1_chunked_decode(&b->chunked, in, out, &why)) ==
		    HTTP1_ERROR) {
			reqscan_fail(&c->scan, 400, why);
			return CLIENT_BODY_ERROR;
		}
		b->done = r == HTTP1_OK;
	}
	if (b->done) {
		/* Nothing more is read until evhttp wants the next request. */
		bufferevent_disable(c->bev, EV_READ);
		return CLIENT_BODY_DONE;
	}
	/* What was dropped at a violation: the rest will never come. */
	if (c->rejecting || c->closing)
		return CLIENT_BODY_ERROR;
	return CLIENT_BODY_MORE;
}

struct evbuffer *
client_body_trailers(struct client *c)
{
	return c->body.kind == CLIENT_BODY_CHUNKED && c->body.done ?
	    c->body_trailers : NULL;
}

void
client_body_wake(struct client *c)
{
	if (c->body.on_body == NULL || c->body.done)
		return;
	bufferevent_enable(c->bev, EV_READ);
	client_body_notify(c);
}

bool
client_body_unread(const struct client *c)
{
	return c->body.kind != CLIENT_BODY_NONE && !c->body.done;
}
