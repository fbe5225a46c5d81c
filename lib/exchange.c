/*
 * exchange.c - one proxied request, from the client's parsed request to
 * the last byte of the response.  See exchange.h and
 * shared/design/request-path.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "client.h"
#include "codec.h"
#include "clock.h"
#include "config.h"
#include "connector.h"
#include "exchange.h"
#include "headers.h"
#include "http1.h"
#include "log.h"
#include "method.h"
#include "originver.h"
#include "owner.h"
#include "pool.h"
#include "reqbody.h"
#include "tls.h"
#include "tunnel.h"
#include "worker.h"
#include "upstream.h"

/* Reply bytes queued for a client before ferryd stops reading the origin. */
#define CLIENT_OUT_HIGH (1024 * 1024)
/* Interim responses queued for a client that does not read, at most. */
#define INTERIM_MAX (64 * 1024)

static void exchange_on_client_drained(struct evhttp_connection *evcon,
    void *arg);
static void acquire_or_connect(struct exchange *ex);
static void exchange_on_client_close(void *arg);
static void exchange_on_interim(const struct http1_response *r, void *arg);
static bool exchange_on_head(struct http1_response *r, void *arg);
static void exchange_on_body(struct evbuffer *data, void *arg);
static void exchange_on_end(bool reusable, struct evbuffer *trailers,
    void *arg);
static void exchange_on_sendable(void *arg);
static void send_interim(struct exchange *ex, struct evbuffer *buf);
static bool expect_refused(struct exchange *ex);
static int build_head(struct exchange *ex);
static void exchange_on_error(enum stream_error e, const char *why,
    void *arg);
static void exchange_on_upgrade(struct http1_response *r, void *arg);

/* How the response reaches the exchange. */
static const struct stream_ops exchange_stream_ops = {
	.on_interim = exchange_on_interim,
	.on_head = exchange_on_head,
	.on_body = exchange_on_body,
	.on_end = exchange_on_end,
	.on_error = exchange_on_error,
	.on_upgrade = exchange_on_upgrade,
	.on_sendable = exchange_on_sendable,
};

/* Frees ex; everything it held has been handed back already. */
static void
exchange_free(struct exchange *ex)
{
	if (ex->client != NULL && ex->client->user == ex)
		client_set_user(ex->client, NULL, NULL);
	if (ex->owner != NULL) {
		owner_kill(ex->owner);
		owner_unref(ex->owner);
	}
	config_free(ex->cfg);
	tls_unref(ex->tls);
	target_clear(&ex->target);
	if (ex->head != NULL)
		evbuffer_free(ex->head);
	reqbody_clear(&ex->body);
	TAILQ_REMOVE(&ex->w->exchanges, ex, entry);
	ex->w->stats.exchanges_active--;
	ex->w->hooks->exchange_done(ex->w->hooks_arg);
	free(ex);
}

/*
 * Ends ex before the last call into evhttp for its request: that call may
 * free the client connection at once, and the connection's close callback
 * must not find ex.  Returns the request, which evhttp still owns.
 */
static struct evhttp_request *
exchange_end(struct exchange *ex)
{
	struct evhttp_request *req = ex->req;

	exchange_free(ex);
	return req;
}

/*
 * Gives the upstream connection back: to the pool (which keeps it idle
 * when it may be reused), or closed when it is still connecting.
 */
static void
release_upstream(struct exchange *ex, bool reusable,
    enum pool_evict_reason why_not)
{
	struct upstream *up = ex->up;

	if (up == NULL)
		return;
	ex->up = NULL;
	if (ex->stream != NULL) {
		stream_close(ex->stream);
		ex->stream = NULL;
	}
	upstream_release(up, ex->owner, reusable, why_not);
}

/* Stops whatever is pending on the upstream side. */
static void
cancel_upstream(struct exchange *ex, enum pool_evict_reason why)
{
	if (ex->connecting != NULL) {
		struct connect_req *req = ex->connecting;

		ex->connecting = NULL;
		connector_cancel(req);
	}
	release_upstream(ex, false, why);
}

static void
log_access(struct exchange *ex)
{
	worker_access_log(ex->w, ex->client != NULL ? ex->client->peer_ip : "-",
	    ex->method, evhttp_request_get_uri(ex->req), ex->status,
	    ex->bytes_out, clock_now() - ex->started, ex->conn_id, ex->reused);
}

/*
 * True when the body will not have been read to its end when the reply
 * is: the client connection ends after it (client.h), and the reply
 * says so.
 */
static bool
body_cut_short(const struct exchange *ex)
{
	return ex->client != NULL && client_body_unread(ex->client);
}

/*
 * The request fails before any of the response was sent: the client gets
 * status and why (the one place is worker_reply_error()).
 */
static void
exchange_fail(struct exchange *ex, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
exchange_fail(struct exchange *ex, int status, const char *fmt, ...)
{
	struct worker *w;
	char why[512];
	va_list ap;
	bool close;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);

	cancel_upstream(ex, POOL_EVICT_ERROR);
	ex->status = status;
	log_info("%s %s: %d %s", ex->method, evhttp_request_get_uri(ex->req),
	    status, why);
	log_access(ex);
	w = ex->w;
	/* The rest of the body is not read: the connection ends (client.h). */
	close = body_cut_short(ex);
	worker_reply_error(w, exchange_end(ex), status, why, close);
}

/*
 * The response broke after its head went to the client: the only honest
 * signal left is to close the client connection before the body's end.
 */
static void
exchange_cut(struct exchange *ex, const char *why)
{
	struct client *client = ex->client;

	log_info("%s %s: response cut: %s", ex->method,
	    evhttp_request_get_uri(ex->req), why);
	cancel_upstream(ex, POOL_EVICT_ERROR);
	stats_count_cut(&ex->w->stats, ex->status);
	log_access(ex);
	client_cut(client, exchange_end(ex));
}

void
exchange_abort(struct exchange *ex)
{
	if (ex->state == EX_STREAMING) {
		exchange_cut(ex, "ferryd is shutting down");
		return;
	}
	exchange_fail(ex, 503, "ferryd is shutting down");
}

/*
 * The chunked reply ends with the origin's trailer fields, those a
 * trailer may carry: evhttp would end it with an empty trailer section.
 */
static void
send_trailers(struct exchange *ex, struct evbuffer *trailers)
{
	struct bufferevent *cbev = evhttp_connection_get_bufferevent(ex->evcon);
	struct headers_writer w;

	if (!ex->req->chunked || trailers == NULL ||
	    evbuffer_get_length(trailers) == 0)
		return;
	headers_writer_init(&w, bufferevent_get_output(cbev));
	headers_write(&w, "0\r\n", 3);
	headers_write_trailers(&w, trailers);
	headers_write(&w, "\r\n", 2);
	headers_writer_flush(&w);
	ex->req->chunked = 0;
}

/* The whole response went to the client. */
static void
exchange_finish(struct exchange *ex, bool reusable, struct evbuffer *trailers)
{
	/* An origin that answered before taking the whole request is done with it. */
	if (stream_request_unsent(ex->stream))
		reusable = false;
	send_trailers(ex, trailers);
	release_upstream(ex, reusable, POOL_EVICT_NOT_REUSABLE);
	stats_count_request(&ex->w->stats, ex->status);
	log_access(ex);
	evhttp_send_reply_end(exchange_end(ex));
}

/*
 * Max-Forwards of a TRACE or OPTIONS request (RFC 9110 7.6.2): its value,
 * or -1 when the method ignores it or the field is absent or malformed
 * (then it is passed on as it is).
 */
static long
max_forwards(const struct exchange *ex)
{
	enum evhttp_cmd_type type = evhttp_request_get_command(ex->req);
	const char *v;
	char *end;
	long n;

	if (type != EVHTTP_REQ_TRACE && type != EVHTTP_REQ_OPTIONS)
		return -1;
	v = evhttp_find_header(evhttp_request_get_input_headers(ex->req),
	    "Max-Forwards");
	if (v == NULL || *v < '0' || *v > '9' || strlen(v) > 9)
		return -1;
	n = strtol(v, &end, 10);
	return *end == '\0' ? n : -1;
}

/*
 * The client's Upgrade offer, less the protocols [access]
 * upgrade_protocols does not allow, into ex->upgrade ("": none goes on).
 * Only a bodiless HTTP/1.1 request whose Connection names upgrade offers
 * one (RFC 9110 7.8); anything else loses its Upgrade as hop-by-hop.
 */
static void
upgrade_offer(struct exchange *ex)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(ex->req);
	const char *offer = evhttp_find_header(in, "Upgrade");
	struct evkeyval *h;
	bool named = false;

	ex->upgrade[0] = '\0';
	if (offer == NULL || ex->req->minor == 0 ||
	    ex->body.kind != CLIENT_BODY_NONE)
		return;
	TAILQ_FOREACH(h, in, next)
		if (strcasecmp(h->key, "Connection") == 0 &&
		    headers_list_has(h->value, "upgrade"))
			named = true;
	if (!named)
		return;
	headers_upgrade_filter(offer, ex->cfg->upgrade_protocols, ex->upgrade,
	    sizeof(ex->upgrade));
}

/* ferryd's hop (via = yes), named in the version of the message it got. */
static void
write_via(const struct exchange *ex, struct headers_writer *w, int minor)
{
	if (ex->cfg->via)
		headers_write_str(w, minor == 0 ? "Via: 1.0 ferryd\r\n" :
		    "Via: 1.1 ferryd\r\n");
}

/*
 * Writes the upstream request head: origin-form, HTTP/1.1, keep-alive (or
 * an upgrade offer).
 */
static int
build_head(struct exchange *ex)
{
	const struct ferryd_config *cfg = ex->cfg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(ex->req);
	struct headers_conn_tokens tok;
	struct headers_writer w;
	struct evkeyval *h;
	long hops = max_forwards(ex);

	if ((ex->head = evbuffer_new()) == NULL)
		return -1;
	upgrade_offer(ex);
	headers_writer_init(&w, ex->head);
	headers_conn_tokens(in, &tok);
	headers_write_str(&w, ex->method);
	headers_write(&w, " ", 1);
	headers_write_str(&w, ex->target.path);
	headers_write(&w, " HTTP/1.1\r\n", 11);
	headers_write_field(&w, "Host", ex->target.authority);
	TAILQ_FOREACH(h, in, next) {
		if (strcasecmp(h->key, "Host") == 0 ||
		    strcasecmp(h->key, "Expect") == 0 ||
		    headers_is_hop_by_hop(h->key, &tok))
			continue;
		if (cfg->x_forwarded_for &&
		    strcasecmp(h->key, "X-Forwarded-For") == 0)
			continue;
		if (hops > 0 && strcasecmp(h->key, "Max-Forwards") == 0) {
			headers_write_field_u64(&w, "Max-Forwards",
			    (uint64_t)(hops - 1));
			continue;
		}
		headers_write_field(&w, h->key, h->value);
	}
	/*
	 * HTTP/1.1 is persistent by default, but some origins and tools take
	 * a request without the token as a last one (squid sends it too).
	 */
	if (ex->upgrade[0] != '\0') {
		headers_write_field(&w, "Upgrade", ex->upgrade);
		headers_write(&w, "Connection: upgrade\r\n", 21);
	} else
		headers_write(&w, "Connection: keep-alive\r\n", 24);
	write_via(ex, &w, ex->req->minor);
	/* The client's chain, every field in order, then the client. */
	if (cfg->x_forwarded_for && ex->client != NULL) {
		headers_write(&w, "X-Forwarded-For: ", 17);
		TAILQ_FOREACH(h, in, next)
			if (strcasecmp(h->key, "X-Forwarded-For") == 0 &&
			    h->value[0] != '\0') {
				headers_write_str(&w, h->value);
				headers_write(&w, ", ", 2);
			}
		headers_write_str(&w, ex->client->peer_ip);
		headers_write(&w, "\r\n", 2);
	}
	/* The body as the client framed it, or as a length once it is all here. */
	if (ex->body.chunked)
		headers_write(&w, "Transfer-Encoding: chunked\r\n", 28);
	else if (ex->body.kind != CLIENT_BODY_NONE ||
	    evhttp_request_get_command(ex->req) &
	    (EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH)) {
		headers_write_field_u64(&w, "Content-Length", ex->body.length);
	}
	if (ex->body.expect)
		headers_write(&w, "Expect: 100-continue\r\n", 22);
	headers_write(&w, "\r\n", 2);
	headers_writer_flush(&w);
	return 0;
}

/*
 * Max-Forwards: 0 makes ferryd the final recipient of a TRACE or OPTIONS
 * (RFC 9110 7.6.2): TRACE gets the request back as message/http, without
 * the credentials it carried; OPTIONS gets what ferryd allows.
 */
static void
exchange_answer_itself(struct exchange *ex)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(ex->req);
	struct worker *wk = ex->w;
	struct headers_writer w;
	struct evbuffer *body;
	struct evkeyval *h;
	const char *type = "message/http";

	if ((body = evbuffer_new()) == NULL) {
		exchange_fail(ex, 503, "out of memory");
		return;
	}
	if (evhttp_request_get_command(ex->req) == EVHTTP_REQ_TRACE) {
		headers_writer_init(&w, body);
		headers_write(&w, "TRACE ", 6);
		headers_write_str(&w, evhttp_request_get_uri(ex->req));
		headers_write_str(&w, ex->req->minor == 0 ? " HTTP/1.0\r\n" :
		    " HTTP/1.1\r\n");
		TAILQ_FOREACH(h, in, next)
			if (strcasecmp(h->key, "Authorization") != 0 &&
			    strcasecmp(h->key, "Proxy-Authorization") != 0 &&
			    strcasecmp(h->key, "Cookie") != 0)
				headers_write_field(&w, h->key, h->value);
		headers_write(&w, "\r\n", 2);
		headers_writer_flush(&w);
	} else {
		type = NULL;
		evhttp_add_header(evhttp_request_get_output_headers(ex->req),
		    "Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, "
		    "PATCH");
	}
	ex->status = 200;
	ex->bytes_out = evbuffer_get_length(body);
	log_access(ex);
	worker_reply_page(wk, exchange_end(ex), type, body);
	evbuffer_free(body);
}

/*
 * Where the request goes: its own scheme, or https:// when tls_origination
 * names the host (to 443 unless the request gave a port).  An https
 * address carries the whole TLS profile.
 */
static int
exchange_address(struct exchange *ex)
{
	const struct target *t = &ex->target;
	bool tls = strcmp(t->scheme, "https") == 0 ||
	    tls_originates(ex->tls, t->host);
	uint16_t port = tls && !t->port_given ? 443 : t->port;

	if (address_init(&ex->address, tls ? "https" : "http", t->host,
	    port) != 0)
		return -1;
	if (tls)
		tls_profile(ex->tls, t->host, &ex->address.tls);
	return 0;
}

/* A retry could re-send the body: a reused connection, idempotent, once. */
static bool
keep_body_copy(const struct exchange *ex)
{
	return ex->attempt == 1 && ex->reused && ex->idempotent;
}

static void
pump_body(struct exchange *ex)
{
	if (ex->stream != NULL)
		reqbody_pump(&ex->body, ex->stream, keep_body_copy(ex));
}

static void
exchange_on_client_body(void *arg)
{
	pump_body(arg);
}

static void
exchange_on_sendable(void *arg)
{
	pump_body(arg);
}

/* The client's body broke (the scanner's verdict) or stopped for good. */
static void
exchange_on_body_failed(void *arg, int status, const char *why)
{
	struct exchange *ex = arg;

	log_info("%s %s: request body: %s", ex->method,
	    evhttp_request_get_uri(ex->req), why);
	if (ex->state == EX_STREAMING) {
		exchange_cut(ex, why);
		return;
	}
	exchange_fail(ex, status, "%s", why);
}

static void
exchange_on_body_interim(void *arg, struct evbuffer *buf)
{
	send_interim(arg, buf);
}

static const struct reqbody_ops exchange_body_ops = {
	.on_failed = exchange_on_body_failed,
	.on_interim = exchange_on_body_interim,
};

/* Takes the client's body (reqbody.h); <0 out of memory, >0 411. */
static int
body_start(struct exchange *ex)
{
	struct client *c = ex->client;
	const char *expect = evhttp_find_header(
	    evhttp_request_get_input_headers(ex->req), "Expect");
	bool origin_10 = originver_is_http10(ex->w->originver, &ex->address);

	snprintf(ex->what, sizeof(ex->what), "%s %s", ex->method,
	    evhttp_request_get_uri(ex->req));
	if (c != NULL && c->body.kind != CLIENT_BODY_NONE)
		client_body_watch(c, exchange_on_client_body, ex);
	switch (reqbody_start(&ex->body, c, ex->w->base, &exchange_body_ops,
	    ex, ex->what, expect != NULL && ex->req->minor >= 1, origin_10)) {
	case REQBODY_STARTED:
		return 0;
	case REQBODY_NEEDS_LENGTH:
		return 1;
	case REQBODY_NO_MEMORY:
		break;
	}
	return -1;
}

void
exchange_start(struct worker *w, struct client *client,
    struct evhttp_request *req, const char *method)
{
	struct exchange *ex;
	enum evhttp_cmd_type type = evhttp_request_get_command(req);
	const char *uri = evhttp_request_get_uri(req);
	const char *why;
	int rc;

	if ((ex = calloc(1, sizeof(*ex))) == NULL) {
		worker_reply_error(w, req, 503, "out of memory", true);
		return;
	}
	ex->w = w;
	ex->cfg = config_ref(w->cfg);
	ex->tls = tls_ref(w->tls);
	ex->client = client;
	ex->req = req;
	ex->evcon = evhttp_request_get_connection(req);
	ex->started = clock_now();
	if (method_known(type))
		ex->method = method_name(type);
	else {
		snprintf(ex->ext_method, sizeof(ex->ext_method), "%s", method);
		ex->method = ex->ext_method;
	}
	ex->idempotent = method_idempotent(type);
	ex->head_request = type == EVHTTP_REQ_HEAD;
	ex->attempt = 1;
	TAILQ_INSERT_TAIL(&w->exchanges, ex, entry);
	w->stats.exchanges_active++;
	client_set_user(client, exchange_on_client_close, ex);
	if (target_parse(&ex->target, uri, false, type == EVHTTP_REQ_OPTIONS,
	    &why) != 0) {
		exchange_fail(ex, 400, "bad request target: %s", why);
		return;
	}
	if (ex->target.form != TARGET_ABSOLUTE) {
		exchange_fail(ex, 400, "not a proxy request: use http://host/path");
		return;
	}
	if (exchange_address(ex) != 0) {
		exchange_fail(ex, 400, "bad request target: host name too long");
		return;
	}
	if (max_forwards(ex) == 0) {
		exchange_answer_itself(ex);
		return;
	}
	ex->owner = owner_new(ex->method, uri, clock_wall());
	rc = ex->owner != NULL ? body_start(ex) : -1;
	if (rc > 0) {
		exchange_fail(ex, 411, "the origin speaks HTTP/1.0: a body of "
		    "unknown length cannot reach it");
		return;
	}
	if (rc < 0 || build_head(ex) != 0) {
		exchange_fail(ex, 503, "out of memory");
		return;
	}
	acquire_or_connect(ex);
}

/* Hands the request to ex->up, which is allocated to ex. */
static void
send_request(struct exchange *ex)
{
	struct stream_request rq = {
		.head = ex->head,
		.head_request = ex->head_request,
		.upgrade = ex->upgrade[0] != '\0',
		.max_header_size = ex->cfg->max_header_size,
		.read_timeout = ex->cfg->read_timeout,
	};

	reqbody_request(&ex->body, &rq);

	ex->state = EX_WAITING;
	ex->conn_id = ex->up->pc.id;
	/* The pool allocated us room on the connection: a stream is free. */
	if ((ex->stream = codec_open(ex->up->codec, &exchange_stream_ops,
	    ex)) == NULL) {
		exchange_fail(ex, 502, "no stream free on connection %llu",
		    (unsigned long long)ex->conn_id);
		return;
	}
	stream_send(ex->stream, &rq);
	reqbody_sent_head(&ex->body);
	pump_body(ex);
}

static void
exchange_on_connection(const struct connect_result *res, void *arg)
{
	struct exchange *ex = arg;

	ex->connecting = NULL;
	if (res->up == NULL) {
		exchange_fail(ex, res->status, "%s", res->why);
		return;
	}
	ex->up = res->up;
	ex->reused = res->reused;
	send_request(ex);
}

/* Asks the connector for a connection; a retry never takes a pooled one. */
static void
acquire_or_connect(struct exchange *ex)
{
	struct connect_params p = {
		.address = &ex->address,
		.tls = ex->tls,
		.owner = ex->owner,
		.retriable = ex->idempotent,
		.fresh = ex->attempt > 1,
		.connect_timeout = ex->cfg->connect_timeout,
		.dns_cache_ttl = ex->cfg->dns_cache_ttl,
	};

	struct connect_req *req;

	ex->state = EX_CONNECTING;
	/* NULL: the callback ran already, and may have freed ex. */
	if ((req = connector_connect(ex->w->connector, &p,
	    exchange_on_connection, ex)) != NULL)
		ex->connecting = req;
}

/*
 * The reused connection died before a byte of the response came: the
 * origin closed it while the request was on its way.  One retry on a
 * fresh connection, only when the method is idempotent: the origin may
 * have acted on a POST before closing, body or not (RFC 9112 9.3.1).
 */
static bool
retry_allowed(const struct exchange *ex)
{
	/* A body that began to go out goes again only whole, from its copy. */
	return ex->reused && ex->attempt == 1 && ex->idempotent &&
	    reqbody_resendable(&ex->body);
}

static void
exchange_retry(struct exchange *ex)
{
	log_debug("%s %s: connection %llu closed by the origin, retrying",
	    ex->method, evhttp_request_get_uri(ex->req),
	    (unsigned long long)ex->conn_id);
	ex->w->stats.retries++;
	release_upstream(ex, false, POOL_EVICT_CLOSED_BY_ORIGIN);
	reqbody_stop_waiting(&ex->body);
	ex->attempt = 2;
	acquire_or_connect(ex);
}

/* Sends the body bytes data holds; pauses the origin while the client lags. */
static void
exchange_on_body(struct evbuffer *data, void *arg)
{
	struct exchange *ex = arg;
	struct bufferevent *cbev;

	ex->bytes_out += evbuffer_get_length(data);
	evhttp_send_reply_chunk_with_cb(ex->req, data,
	    exchange_on_client_drained, ex->client);
	cbev = evhttp_connection_get_bufferevent(ex->evcon);
	if (evbuffer_get_length(bufferevent_get_output(cbev)) > CLIENT_OUT_HIGH)
		stream_pause(ex->stream, true);
}

/*
 * The client's output drained.  The callback stays with the connection
 * after the exchange ends, so its argument is the client, which lives as
 * long as the connection does.
 */
static void
exchange_on_client_drained(struct evhttp_connection *evcon, void *arg)
{
	struct client *client = arg;
	struct exchange *ex = client->user;	/* only exchanges stream replies */

	if (ex != NULL && ex->stream != NULL)
		stream_pause(ex->stream, false);
}

/*
 * The Date a proxy must add to a response that has none (RFC 9110
 * 6.6.1), formatted once a second.  Per thread: each worker has its own.
 */
static const char *
http_date(void)
{
	static __thread char buf[40];
	static __thread time_t last;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last && gmtime_r(&now, &tm) != NULL) {
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return buf;
}

/*
 * Writes the status line ("HTTP/1.minor") and the origin's end-to-end
 * fields of r; true when the origin sent a Date.
 */
static bool
write_origin_head(struct headers_writer *w, int minor,
    const struct http1_response *r)
{
	struct headers_conn_tokens tok;
	const struct http1_field *f;
	bool has_date = false;

	headers_write_str(w, minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
	headers_write_u64(w, (uint64_t)r->status);
	headers_write(w, " ", 1);
	headers_write_str(w, r->reason);
	headers_write(w, "\r\n", 2);
	http1_conn_tokens(r, &tok);
	for (f = r->fields; f < r->fields + r->n_fields; f++) {
		if (headers_is_hop_by_hop_len(f->name, f->name_len, &tok))
			continue;
		if (!has_date && HTTP1_FIELD_IS(f, "Date", 4))
			has_date = true;
		headers_write_field_len(w, f->name, f->name_len, f->value,
		    strlen(f->value));
	}
	return has_date;
}

/*
 * The head of the reply, written by ferryd in one buffer: evhttp's reply
 * functions print each field separately and copy each one twice (15 % of
 * a request's instructions, measured).  The head goes out as the first
 * piece of an unchunked reply, so that evhttp still drives the connection
 * (the drained callbacks, the end, keep-alive); chunked framing is
 * switched on after it.  What the head says of the connection
 * is what evhttp will do once the reply ends (its rules: the first
 * Connection field, "close" exactly or "keep-alive" as a prefix).
 */
static bool
send_head(struct exchange *ex, struct http1_response *r)
{
	struct evhttp_request *req = ex->req;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct headers_writer w;
	struct evbuffer *hb;
	const char *conn;
	enum evhttp_cmd_type type;
	bool chunked = false, will_close;

	/* The request head is sent and no longer needed for a retry. */
	hb = ex->head;
	evbuffer_drain(hb, evbuffer_get_length(hb));
	/* A body that ends with the connection cannot be kept on HTTP/1.0. */
	if (req->minor == 0 && (r->body == HTTP1_BODY_CHUNKED ||
	    r->body == HTTP1_BODY_CLOSE))
		while (evhttp_remove_header(in, "Connection") == 0)
			;
	/* The rest of the body will not be read: the connection ends. */
	if (body_cut_short(ex)) {
		while (evhttp_remove_header(in, "Connection") == 0)
			;
		evhttp_add_header(in, "Connection", "close");
	}
	conn = evhttp_find_header(in, "Connection");
	will_close = (req->minor == 0 && (conn == NULL ||
	    strncasecmp(conn, "keep-alive", 10) != 0)) ||
	    (conn != NULL && strcasecmp(conn, "close") == 0);

	headers_writer_init(&w, hb);
	if (!write_origin_head(&w, req->minor, r))
		headers_write_field(&w, "Date", http_date());
	write_via(ex, &w, r->minor);
	if (r->body == HTTP1_BODY_NONE) {
		/*
		 * HEAD and 304 describe the body they do not carry, framed as
		 * the origin framed it, or not at all: never an invented 0.
		 */
		if (ex->head_request || r->status == 304) {
			const char *cl = http1_find(r, "Content-Length");
			const char *te = http1_find(r, "Transfer-Encoding");

			if (cl != NULL)
				headers_write_field(&w, "Content-Length", cl);
			else if (te != NULL && req->minor >= 1)
				headers_write_field(&w, "Transfer-Encoding", te);
		} else if (r->status != 204)
			headers_write(&w, "Content-Length: 0\r\n", 19);
	} else if (r->body == HTTP1_BODY_LENGTH) {
		headers_write_field_u64(&w, "Content-Length", r->content_length);
	} else if (req->minor >= 1) {
		/* Codings other than the origin's chunked stay named. */
		headers_write(&w, "Transfer-Encoding: ", 19);
		if (r->codings[0] != '\0') {
			headers_write_str(&w, r->codings);
			headers_write(&w, ", ", 2);
		}
		headers_write(&w, "chunked\r\n", 9);
		chunked = true;
	} else if (r->codings[0] != '\0')
		headers_write_field(&w, "Transfer-Encoding", r->codings);
	if (will_close)
		headers_write(&w, "Connection: close\r\n", 19);
	else if (req->minor == 0)
		headers_write(&w, "Connection: keep-alive\r\n", 24);
	headers_write(&w, "\r\n", 2);
	headers_writer_flush(&w);

	ex->status = r->status;
	ex->state = EX_STREAMING;
	/*
	 * evhttp sends a piece only for a reply that may have a body; a
	 * bodiless one (HEAD, 204, 304) passes as a GET's 200 for the head
	 * alone, and nothing follows it.
	 */
	type = req->type;
	req->type = EVHTTP_REQ_GET;
	req->response_code = 200;
	req->chunked = 0;
	evhttp_send_reply_chunk_with_cb(req, hb, exchange_on_client_drained,
	    ex->client);
	req->type = type;
	req->response_code = r->status;
	req->chunked = chunked;
	return true;
}

/*
 * Writes an interim response to the client now: evhttp has queued
 * nothing for this request yet and must not be woken for these bytes
 * (its write callback would end the request); what the socket does not
 * take waits, in order, in front of the final response.
 */
static void
send_interim(struct exchange *ex, struct evbuffer *buf)
{
	struct bufferevent *cbev = evhttp_connection_get_bufferevent(ex->evcon);
	struct evbuffer *out = bufferevent_get_output(cbev);

	if (evbuffer_get_length(out) == 0)
		evbuffer_write(buf, bufferevent_getfd(cbev));
	evbuffer_add_buffer(out, buf);
}

/*
 * An interim response goes on to an HTTP/1.1 client as it came, less its
 * hop-by-hop fields (RFC 9110 15.2: ferryd never asks for one itself).
 * evhttp has queued nothing for this request yet and must not be woken
 * for these bytes (its write callback would end the request), so they go
 * to the socket at once; what the socket does not take waits, in order,
 * in front of the final response.
 */
static void
exchange_on_interim(const struct http1_response *r, void *arg)
{
	struct exchange *ex = arg;
	struct bufferevent *cbev = evhttp_connection_get_bufferevent(ex->evcon);
	struct evbuffer *out = bufferevent_get_output(cbev), *buf;
	struct headers_writer w;

	/*
	 * The origin wants the body: it goes, from the loop (the codec is
	 * still reading its responses).
	 */
	if (r->status == 100)
		reqbody_release(&ex->body);
	if (ex->req->major != 1 || ex->req->minor == 0)
		return;
	/*
	 * Until the final response starts evhttp does not write: what the
	 * socket did not take stays in ferryd.  An origin that streams 1xx at
	 * a client that does not read would grow it without end; past
	 * INTERIM_MAX queued bytes they are dropped (they are only hints).
	 */
	if (evbuffer_get_length(out) > INTERIM_MAX) {
		if (!ex->interim_dropped)
			log_info("%s %s: origin's interim responses dropped: "
			    "the client is not reading", ex->method,
			    evhttp_request_get_uri(ex->req));
		ex->interim_dropped = true;
		return;
	}
	if ((buf = evbuffer_new()) == NULL)
		return;
	headers_writer_init(&w, buf);
	write_origin_head(&w, 1, r);
	headers_write(&w, "\r\n", 2);
	headers_writer_flush(&w);
	send_interim(ex, buf);
	evbuffer_free(buf);
}

/*
 * The origin answered the Expect: 100-continue ferryd passed on with 417:
 * it takes no expectation, and has not acted on the request.  RFC 9110
 * 10.1.1 has the client ask again without it; ferryd is that client, on
 * a new connection, and tells its own client to send the body, which
 * nobody read yet.  Relaying the 417 instead would leave a body the
 * client may send at any time (curl does at its 1 s timeout) on a
 * connection whose next request curl sends at once: the two cannot be
 * told apart, so the connection would have to close, and curl does not
 * ask again on a closed one.  Returns false: the stream is done.
 */
static bool
expect_refused(struct exchange *ex)
{
	struct evbuffer *go;

	log_info("%s %s: origin refused Expect: 100-continue (417): asking "
	    "again without it", ex->method, evhttp_request_get_uri(ex->req));
	/* Once: the request asked again has no Expect to refuse. */
	reqbody_drop_expect(&ex->body);
	release_upstream(ex, false, POOL_EVICT_NOT_REUSABLE);
	ex->attempt = 2;
	evbuffer_free(ex->head);
	ex->head = NULL;
	if (build_head(ex) != 0 || (go = evbuffer_new()) == NULL) {
		exchange_fail(ex, 503, "out of memory");
		return false;
	}
	evbuffer_add(go, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	send_interim(ex, go);
	evbuffer_free(go);
	reqbody_release(&ex->body);
	acquire_or_connect(ex);
	return false;
}

/* The final head: refused here, or on its way to the client. */
static bool
exchange_on_head(struct http1_response *r, void *arg)
{
	struct exchange *ex = arg;

	originver_note(ex->w->originver, &ex->address, r->minor);
	if (r->status == 417 && ex->body.expect && !ex->body.flowing &&
	    ex->body.sent == 0)
		return expect_refused(ex);
	/*
	 * A final answer before the origin asked for the body (401, 413,
	 * ...): the body is not sent, nor read from the client.
	 */
	if (!ex->body.flowing && ex->body.kind != CLIENT_BODY_NONE) {
		reqbody_stop_waiting(&ex->body);
		log_debug("%s %s: %d before the body: not sent", ex->method,
		    evhttp_request_get_uri(ex->req), r->status);
	}
	/* chunked, gzip: re-chunking would apply chunked twice. */
	if (r->codings_chunked && ex->req->minor >= 1) {
		exchange_fail(ex, 502, "origin's transfer codings cannot be "
		    "relayed: %s", r->codings);
		return false;
	}
	return send_head(ex, r);
}

static void
exchange_on_end(bool reusable, struct evbuffer *trailers, void *arg)
{
	exchange_finish(arg, reusable, trailers);
}

/*
 * The origin switched protocols: the client gets the 101 (with the
 * origin's Upgrade) and the exchange becomes a tunnel, whose upstream
 * connection leaves the pool for good.  A 101 for a protocol not offered
 * is a broken response (502): the origin speaks something nobody asked for.
 */
static void
exchange_on_upgrade(struct http1_response *r, void *arg)
{
	struct exchange *ex = arg;
	const char *proto = http1_find(r, "Upgrade");
	struct worker *w = ex->w;
	struct client *client = ex->client;
	struct headers_writer hw;
	struct evbuffer *head;
	struct upstream *up = ex->up;
	char method[sizeof(ex->ext_method) + 8];
	int64_t started = ex->started;

	if (proto == NULL) {
		exchange_fail(ex, 502, "origin switched protocols without "
		    "Upgrade");
		return;
	}
	if (!headers_list_within(proto, ex->upgrade)) {
		exchange_fail(ex, 502, "origin switched to a protocol not "
		    "offered: %.64s", proto);
		return;
	}
	if ((head = evbuffer_new()) == NULL) {
		exchange_fail(ex, 503, "out of memory");
		return;
	}
	headers_writer_init(&hw, head);
	write_origin_head(&hw, 1, r);
	headers_write_field(&hw, "Upgrade", proto);
	headers_write(&hw, "Connection: upgrade\r\n", 21);
	write_via(ex, &hw, 1);
	headers_write(&hw, "\r\n", 2);
	headers_writer_flush(&hw);
	log_debug("%s %s: upgraded to %s on connection %llu", ex->method,
	    evhttp_request_get_uri(ex->req), proto,
	    (unsigned long long)up->pc.id);

	/* r and proto are the stream's: gone from here. */
	stream_close(ex->stream);
	ex->stream = NULL;
	if (pool_detach(up->pool, &up->pc, ex->owner) != 0) {
		evbuffer_free(head);
		exchange_fail(ex, 502, "connection %llu cannot leave the pool",
		    (unsigned long long)up->pc.id);
		return;
	}
	ex->up = NULL;
	up->pooled = false;
	codec_free(up->codec);
	up->codec = NULL;
	snprintf(method, sizeof(method), "%s", ex->method);
	tunnel_upgrade(w, client, exchange_end(ex), method, up, head, started);
	evbuffer_free(head);
}

/*
 * The response broke.  Once its head went to the client it can only be
 * cut; before, the client gets a status, or the request goes again when
 * the reused connection was closed under it and that is safe.
 */
static void
exchange_on_error(enum stream_error e, const char *why, void *arg)
{
	struct exchange *ex = arg;

	if (ex->state == EX_STREAMING) {
		exchange_cut(ex, why);
		return;
	}
	switch (e) {
	case STREAM_TIMEOUT:
		exchange_fail(ex, 504, "%s within %.0f s", why,
		    (double)ex->cfg->read_timeout / 1e6);
		return;
	case STREAM_CLOSED:
		if (retry_allowed(ex)) {
			exchange_retry(ex);
			return;
		}
		break;
	case STREAM_BROKEN:
		break;
	}
	exchange_fail(ex, 502, "%s", why);
}

/*
 * The client connection is going away (evhttp is freeing it): stop the
 * upstream side at once.  When evhttp has detached the request from the
 * connection, freeing the request is ours.
 */
static void
exchange_on_client_close(void *arg)
{
	struct exchange *ex = arg;

	if (reqbody_midway(&ex->body))
		log_info("%s %s: client went away after %llu bytes of the "
		    "request body", ex->method, evhttp_request_get_uri(ex->req),
		    (unsigned long long)ex->body.sent);
	else
		log_debug("%s %s: client went away", ex->method,
		    evhttp_request_get_uri(ex->req));
	cancel_upstream(ex, POOL_EVICT_NOT_REUSABLE);
	/* A reply under way is cut; none begun counts as nginx's 499. */
	if (ex->state == EX_STREAMING)
		stats_count_cut(&ex->w->stats, ex->status);
	else {
		ex->status = 499;
		stats_count_request(&ex->w->stats, ex->status);
	}
	log_access(ex);
	if (evhttp_request_get_connection(ex->req) == NULL)
		evhttp_request_free(ex->req);
	exchange_free(ex);
}
