/*
 * server.c - the evhttp front of one worker: access list, request
 * routing, ferryd's own pages, reload and shutdown.  See server.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

#include "auth.h"
#include "client.h"
#include "clock.h"
#include "config.h"
#include "connector.h"
#include "dnscache.h"
#include "exchange.h"
#include "headers.h"
#include "listeners.h"
#include "log.h"
#include "method.h"
#include "originver.h"
#include "pool.h"
#include "server.h"
#include "tls.h"
#include "tunnel.h"
#include "upstream.h"

static const struct worker_hooks server_hooks;

/* Host names whose addresses are kept at once (dns_cache_ttl). */
#define SERVER_DNSCACHE_MAX 4096
/* Origins remembered as HTTP/1.0 at most (originver.h). */
#define SERVER_ORIGINVER_SLOTS 256

/* Origin-form requests are for ferryd itself. */
static void
serve_page(struct server *srv, struct evhttp_request *req)
{
	const char *uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type type = evhttp_request_get_command(req);
	struct evbuffer *body;
	size_t len = strcspn(uri, "?");

	if (type != EVHTTP_REQ_GET && type != EVHTTP_REQ_HEAD) {
		worker_reply_error(&srv->w, req, 405,
		    "ferryd's own pages take GET only", false);
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		worker_reply_error(&srv->w, req, 503, "out of memory", true);
		return;
	}
	if (len == 8 && strncmp(uri, "/metrics", len) == 0) {
		stats_render_metrics(&srv->w.stats, srv->pool, body);
		worker_reply_page(&srv->w, req, "text/plain; version=0.0.4; charset=utf-8",
		    body);
	} else if (len == 6 && strncmp(uri, "/stats", len) == 0) {
		stats_render_json(&srv->w.stats, srv->pool,
		    clock_now() - srv->started, body);
		worker_reply_page(&srv->w, req, "application/json", body);
	} else
		worker_reply_error(&srv->w, req, 400,
		    "this is a proxy: send absolute-form requests "
		    "(http://host/path); its own pages are /metrics and /stats",
		    false);
	evbuffer_free(body);
}

/*
 * evhttp decides whether to keep a client connection from the first
 * Connection field alone ("close" exactly, or a prefix "keep-alive").
 * RFC 9110 7.6.1 counts every token of every field: a "close" anywhere
 * ends the connection, and HTTP/1.0 stays open only for a real
 * keep-alive token.  A first field saying so exactly makes evhttp, and
 * the heads ferryd writes by its rules, agree with the RFC; the fields
 * the client sent stay behind it for the hop-by-hop filter.
 */
static void
persistence_of(struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct headers_conn_tokens tok;
	struct evkeyval *first = TAILQ_FIRST(in), *added;
	const char *want = NULL, *have;

	headers_conn_tokens(in, &tok);
	if (tok.close || (req->minor == 0 && !tok.keep_alive))
		want = "close";
	else if (req->minor == 0)
		want = "keep-alive";
	have = evhttp_find_header(in, "Connection");
	if (want == NULL || (have != NULL && strcasecmp(have, want) == 0) ||
	    (have == NULL && strcmp(want, "close") == 0 && req->minor == 0))
		return;
	if (evhttp_add_header(in, "Connection", want) != 0)
		return;
	added = TAILQ_LAST(in, evkeyvalq);
	if (added != first) {
		TAILQ_REMOVE(in, added, next);
		TAILQ_INSERT_HEAD(in, added, next);
	}
}

/* The access log line of a request ferryd refused itself. */
static void
log_refusal(struct server *srv, struct client *c, struct evhttp_request *req,
    const char *method, int status)
{
	worker_access_log(&srv->w, c->peer_ip, method[0] != '\0' ? method :
	    method_name(evhttp_request_get_command(req)),
	    evhttp_request_get_uri(req), status, 0, 0, 0, false);
}

/* An error reply that closes the connection, a CONNECT's too. */
static void
server_refuse(struct server *srv, struct client *c, struct evhttp_request *req,
    const char *method, int status, const char *why)
{
	log_refusal(srv, c, req, method, status);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_CONNECT)
		client_end_after_reply(c);
	worker_reply_error(&srv->w, req, status, why, true);
}

/*
 * Proxy authentication: true when req carries credentials of a user in
 * auth_file (Proxy-Authorization, which exchange.c never forwards;
 * Authorization for ferryd's own pages, which a client asks for
 * directly).  Otherwise the client is asked for them: 407 (401 for a
 * page).  A missing header is how every browser starts, so only wrong
 * credentials are logged above debug.
 */
static bool
server_authorized(struct server *srv, struct client *c,
    struct evhttp_request *req, const char *method, bool page)
{
	const char *cred = evhttp_find_header(evhttp_request_get_input_headers(req),
	    page ? "Authorization" : "Proxy-Authorization");
	bool connect = evhttp_request_get_command(req) == EVHTTP_REQ_CONNECT;
	char user[64];
	enum auth_result r = auth_check(srv->w.auth, cred, user, sizeof(user));

	if (r == AUTH_OK)
		return true;
	if (r == AUTH_MISSING)
		log_debug("client %s: no credentials for %s", c->peer_ip,
		    evhttp_request_get_uri(req));
	client_log_auth(c, r, user);
	log_refusal(srv, c, req, method, page ? 401 : 407);
	/* A CONNECT's early bytes were meant for a tunnel: never parsed. */
	if (connect)
		client_end_after_reply(c);
	/*
	 * A wrong guess costs a crypt on the event loop: the connection ends
	 * with it, so that guesses cannot queue up pipelined on one socket
	 * (at most one more, when the scanner's body check ran first).
	 */
	worker_reply_challenge(&srv->w, req, !page, r == AUTH_MISSING ?
	    "authentication required" : "authentication failed",
	    connect || r != AUTH_MISSING);
	return false;
}

/*
 * A request that has passed through a ferryd SERVER_VIA_LOOP times is in
 * a forwarding loop: an origin that hands ferryd's requests back to it
 * (a reverse proxy or interceptor aimed at ferryd) would otherwise nest
 * exchanges until descriptors run out.  Every ferryd's Via says "1.1
 * ferryd", so one or two such hops are a chain of separate installs (a
 * company's ferryd, a partner's gateway, the partner's ferryd), not a
 * loop.  Known only by the Via ferryd adds: with via = yes.
 */
#define SERVER_VIA_LOOP 5

static unsigned
ferryd_hops(struct evhttp_request *req)
{
	struct evkeyval *h;
	unsigned hops = 0;

	TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next)
		if (strcasecmp(h->key, "Via") == 0)
			hops += headers_via_count(h->value, "ferryd");
	return hops;
}

static void
server_on_request(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct client *c = server_client_of(srv, req);
	const char *uri = evhttp_request_get_uri(req);
	char method[sizeof(c->scan.ext_method)] = "";
	unsigned hops;
	bool page;

	/*
	 * evhttp applies Proxy-Connection keep-alive rules to requests for
	 * hosts it does not serve; ferryd follows RFC 9112's Connection rules
	 * (curl and wrk send no Proxy-Connection).
	 */
	req->flags &= ~EVHTTP_PROXY_REQUEST;
	persistence_of(req);
	if (c == NULL) {
		/* evhttp fell back to a bufferevent of its own: unscanned. */
		worker_reply_error(&srv->w, req, 503, "out of memory", true);
		return;
	}
	client_on_dispatch(c, req);
	/* An extension method's name waits in the scanner: take it in order. */
	if (!method_known(evhttp_request_get_command(req)) &&
	    !reqscan_take_method(&c->scan, method, sizeof(method))) {
		worker_reply_error(&srv->w, req, 501, "unknown method", true);
		return;
	}
	if (!client_allowed(c)) {
		log_notice("client %s: access denied", c->peer_ip);
		server_refuse(srv, c, req, method, 403, "access denied");
		return;
	}
	if (srv->w.stopping) {
		server_refuse(srv, c, req, method, 503, "ferryd is shutting down");
		return;
	}
	page = uri[0] == '/' || strcmp(uri, "*") == 0;
	if (srv->w.auth != NULL && !server_authorized(srv, c, req, method, page))
		return;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_CONNECT) {
		tunnel_start(&srv->w, c, req);
		return;
	}
	if (page) {
		serve_page(srv, req);
		return;
	}
	if (srv->w.cfg->via && (hops = ferryd_hops(req)) >= SERVER_VIA_LOOP) {
		log_notice("%s: forwarding loop: its Via names ferryd %u times",
		    uri, hops);
		log_refusal(srv, c, req, method, 508);
		worker_reply_error(&srv->w, req, 508,
		    "forwarding loop: the request has passed through ferryd "
		    "too often", false);
		return;
	}
	exchange_start(&srv->w, c, req, method);
}

/*
 * The listeners run while there is room for a client: not stopping and
 * under max_clients (and, their own business, not out of descriptors).
 */
static void
update_room(struct server *srv)
{
	bool full = srv->w.stats.clients_active >= srv->max_clients;
	bool room = !srv->w.stopping && !full;

	if (srv->listeners.room && full && !srv->w.stopping)
		log_warn("max_clients (%d) reached: not accepting for now",
		    srv->max_clients);
	listeners_set_room(&srv->listeners, room);
}

/* The hooks of struct worker_hooks; arg is the server. */
static void
server_on_client_opened(void *arg)
{
	struct server *srv = arg;

	srv->w.stats.client_connections_accepted++;
	srv->w.stats.clients_active++;
	listeners_client_came(&srv->listeners);
	update_room(srv);
}

static void
server_on_client_added(void *arg, struct client *c, int fd)
{
	struct server *srv = arg;

	if (fd < 0)
		return;
	if (fd >= srv->clients_cap) {
		int cap = srv->clients_cap ? srv->clients_cap : 256;
		struct client **p;

		while (cap <= fd)
			cap *= 2;
		if ((p = realloc(srv->clients, (size_t)cap * sizeof(*p))) == NULL)
			return;
		memset(p + srv->clients_cap, 0,
		    (size_t)(cap - srv->clients_cap) * sizeof(*p));
		srv->clients = p;
		srv->clients_cap = cap;
	}
	srv->clients[fd] = c;
}

static void
server_on_client_closed(void *arg, struct client *c)
{
	struct server *srv = arg;

	if (c->fd >= 0 && c->fd < srv->clients_cap &&
	    srv->clients[c->fd] == c)
		srv->clients[c->fd] = NULL;
	srv->w.stats.clients_active--;
	listeners_client_left(&srv->listeners);
	update_room(srv);
}

void
server_status(struct server *srv, char *buf, size_t len)
{
	const struct pool_counts *pc = pool_counts(srv->pool);
	uint64_t acquired = pc->opened + pc->reused;

	snprintf(buf, len, "upstream: %d idle, %d in use; %" PRIu64 " of %"
	    PRIu64 " acquisitions reused (%.1f %%); %d clients",
	    pc->idle, pc->in_use, pc->reused, acquired, acquired > 0 ?
	    100.0 * (double)pc->reused / (double)acquired : 0.0,
	    srv->w.stats.clients_active);
}

struct client *
server_client_of(struct server *srv, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	int fd;

	if (evcon == NULL)
		return NULL;
	bev = evhttp_connection_get_bufferevent(evcon);
	fd = bufferevent_getfd(bev);
	if (fd < 0 || fd >= srv->clients_cap || srv->clients[fd] == NULL ||
	    srv->clients[fd]->bev != bev)
		return NULL;
	return srv->clients[fd];
}

/*
 * Each client may hold two descriptors (its socket and an upstream one),
 * and the pool keeps max_idle more.  Running out makes accept() fail
 * (libevent then retries it in a busy loop), so raise the soft limit as
 * far as the hard one allows, and accept fewer clients if that is short.
 */
static void
fit_fd_limit(struct server *srv)
{
	const struct ferryd_config *cfg = srv->w.cfg;
	rlim_t need = (rlim_t)cfg->max_clients * 2 + (rlim_t)cfg->max_idle + 64;
	struct rlimit rl;

	srv->max_clients = cfg->max_clients;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ?
	    need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= need)
		return;
	srv->max_clients = rl.rlim_cur > (rlim_t)cfg->max_idle + 64 + 2 ?
	    (int)((rl.rlim_cur - (rlim_t)cfg->max_idle - 64) / 2) : 1;
	log_warn("open file limit %llu is too low for max_clients = %d: "
	    "accepting at most %d clients (raise LimitNOFILE)",
	    (unsigned long long)rl.rlim_cur, cfg->max_clients, srv->max_clients);
}

/* Applies the settings a reload may change. */
static void
apply_config(struct server *srv)
{
	const struct ferryd_config *cfg = srv->w.cfg;
	struct pool_params params;
	struct timeval tv = clock_to_timeval(cfg->client_idle_timeout);

	/* The scanner enforces the exact limits first; these are a backstop. */
	evhttp_set_max_headers_size(srv->http, cfg->max_header_size + 1024);
	evhttp_set_max_body_size(srv->http, cfg->max_body_size);
	evhttp_set_timeout_tv(srv->http, &tv);
	pool_params_from_config(&params, cfg);
	pool_set_params(srv->pool, &params);
	log_set_level(cfg->log_level);
	fit_fd_limit(srv);
}


/* What a CONNECT to ferryd itself is checked against (worker_is_self). */
static void
note_self(struct server *srv)
{
	srv->w.n_self = listeners_addrs(&srv->listeners, srv->w.self,
	    sizeof(srv->w.self) / sizeof(srv->w.self[0]));
}




/* The users of cfg's auth_file; NULL after logging why. */
static struct auth *
load_auth(const struct ferryd_config *cfg)
{
	char err[512];
	struct auth *a;

	if ((a = auth_load(cfg->auth_file, err, sizeof(err))) == NULL) {
		log_err("access.auth_file: %s", err);
		return NULL;
	}
	if (auth_count(a) == 0)
		log_warn("access.auth_file: %s has no users: every request "
		    "gets 407", cfg->auth_file);
	else
		log_info("access.auth_file: %zu users from %s", auth_count(a),
		    cfg->auth_file);
	return a;
}

/* The TLS context of cfg's [tls] settings; NULL after logging why. */
static struct tls *
load_tls(const struct ferryd_config *cfg)
{
	char err[512];
	struct tls *t;

	if ((t = tls_new(cfg, err, sizeof(err))) == NULL) {
		log_err("tls.%s", err);
		return NULL;
	}
	if (!cfg->tls_verify)
		log_warn("tls.verify = no: origin certificates are not "
		    "checked, so anyone on the path can pose as an origin");
	return t;
}

struct server *
server_new(struct event_base *base, const struct ferryd_config *cfg)
{
	struct server *srv;
	struct pool_params params;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		log_err("out of memory");
		return NULL;
	}
	srv->w.base = base;
	srv->w.cfg = config_ref(cfg);
	srv->w.hooks = &server_hooks;
	srv->w.hooks_arg = srv;
	srv->started = clock_now();
	TAILQ_INIT(&srv->w.exchanges);
	TAILQ_INIT(&srv->w.tunnels);

	srv->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (srv->dns == NULL) {
		log_warn("no name servers from /etc/resolv.conf: "
		    "only IP addresses and /etc/hosts names will resolve");
		srv->dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (srv->dns != NULL)
			evdns_base_load_hosts(srv->dns, NULL);
	}
	if (srv->dns != NULL) {
		/* A name that does not resolve should fail about as fast as a connect. */
		char timeout[32];
		snprintf(timeout, sizeof(timeout), "%.3f",
		    (double)cfg->connect_timeout / 2e6);
		evdns_base_set_option(srv->dns, "timeout:", timeout);
		evdns_base_set_option(srv->dns, "attempts:", "2");
	}
	srv->dnscache = dnscache_new(SERVER_DNSCACHE_MAX);
	srv->w.originver = originver_new(SERVER_ORIGINVER_SLOTS);
	pool_params_from_config(&params, cfg);
	srv->pool = pool_new(&params, &upstream_pool_ops, srv, base);
	if (srv->pool != NULL)
		srv->w.connector = connector_new(base, srv->dns, srv->dnscache,
		    srv->pool, &srv->w.stats);
	srv->http = evhttp_new(base);
	if (cfg->auth_file != NULL && (srv->w.auth = load_auth(cfg)) == NULL)
		goto fail;
	if ((srv->w.tls = load_tls(cfg)) == NULL)
		goto fail;
	if (cfg->workers > 1)
		log_notice("server.workers = %d: this version runs one event "
		    "loop", cfg->workers);
	if (srv->dns == NULL || srv->dnscache == NULL ||
	    srv->w.originver == NULL || srv->pool == NULL ||
	    srv->w.connector == NULL || srv->http == NULL) {
		log_err("out of memory");
		goto fail;
	}
	evhttp_set_bevcb(srv->http, client_bev_new, &srv->w);
	evhttp_set_gencb(srv->http, server_on_request, srv);
	/*
	 * Every method, the ones evhttp does not know too (it passes those as
	 * "unknown"; the scanner keeps their names and allows no body).
	 */
	evhttp_set_allowed_methods(srv->http, 0xffff);
	/* A proxy must not invent a Content-Type for the origin's body. */
	evhttp_set_default_content_type(srv->http, NULL);
	apply_config(srv);
	if (worker_open_access_log(&srv->w) != 0 ||
	    listeners_open(&srv->listeners, base, srv->http, cfg,
	    &srv->w.stats.accept_pauses) != 0)
		goto fail;
	note_self(srv);
	return srv;
fail:
	server_free(srv);
	return NULL;
}

/*
 * shutdown_timeout is over: every exchange still running ends with a 503
 * (or, with its reply under way, is cut).  Those replies still have to be
 * written: the loop runs on until they are (maybe_exit), for at most one
 * more second for clients that do not read.
 */
static void
server_on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { 1, 0 };
	struct exchange *ex;
	struct tunnel *t;

	if (srv->draining) {
		log_notice("%d replies still unsent: exiting",
		    srv->w.replies_in_flight);
		event_base_loopexit(srv->w.base, NULL);
		return;
	}
	log_notice("shutdown_timeout reached: ending %d exchanges and %d "
	    "tunnels", srv->w.stats.exchanges_active,
	    srv->w.stats.tunnels_active);
	srv->draining = true;
	evtimer_add(srv->shutdown_timer, &tv);
	while ((ex = TAILQ_FIRST(&srv->w.exchanges)) != NULL)
		exchange_abort(ex);
	while ((t = tunnel_first(&srv->w.tunnels)) != NULL)
		tunnel_abort(t);
}

/* Nothing left to finish: no exchange, no tunnel, no reply being written. */
static bool
server_idle(const struct server *srv)
{
	return TAILQ_EMPTY(&srv->w.exchanges) && TAILQ_EMPTY(&srv->w.tunnels) &&
	    srv->w.replies_in_flight == 0;
}

void
server_shutdown(struct server *srv)
{
	struct timeval tv = clock_to_timeval(srv->w.cfg->shutdown_timeout);

	if (srv->w.stopping)
		return;
	srv->w.stopping = true;
	update_room(srv);
	pool_evict_all(srv->pool, clock_now());
	if (server_idle(srv)) {
		event_base_loopexit(srv->w.base, NULL);
		return;
	}
	log_notice("waiting for %d exchanges and %d tunnels to finish",
	    srv->w.stats.exchanges_active, srv->w.stats.tunnels_active);
	srv->shutdown_timer = evtimer_new(srv->w.base, server_on_shutdown_timeout,
	    srv);
	if (srv->shutdown_timer == NULL ||
	    evtimer_add(srv->shutdown_timer, &tv) != 0)
		event_base_loopexit(srv->w.base, NULL);
}

/* A shutdown ends once every reply has been written out, not just sent off. */
static void
maybe_exit(struct server *srv)
{
	if (srv->w.stopping && server_idle(srv))
		event_base_loopexit(srv->w.base, NULL);
}

static void
server_on_done(void *arg)
{
	maybe_exit(arg);
}

static const struct worker_hooks server_hooks = {
	.client_opened = server_on_client_opened,
	.client_added = server_on_client_added,
	.client_closed = server_on_client_closed,
	.reply_done = server_on_done,
	.exchange_done = server_on_done,
};

int
server_reload(struct server *srv, const struct ferryd_config *cfg)
{
	struct auth *auth = NULL;
	struct tls *tls;

	/* A password file or CA file that does not load is a bad configuration. */
	if (cfg->auth_file != NULL && (auth = load_auth(cfg)) == NULL)
		return -1;
	if ((tls = load_tls(cfg)) == NULL || listeners_rebind(&srv->listeners, cfg) != 0) {
		if (auth != NULL)
			auth_free(auth);
		tls_unref(tls);
		return -1;
	}
	/* Exchanges and connections that hold the old context keep it. */
	tls_unref(srv->w.tls);
	srv->w.tls = tls;
	if (srv->w.auth != NULL)
		auth_free(srv->w.auth);
	srv->w.auth = auth;
	config_free(srv->w.cfg);
	srv->w.cfg = config_ref(cfg);
	apply_config(srv);
	note_self(srv);
	/* A max_clients raised past the clients open resumes accepting. */
	update_room(srv);
	worker_open_access_log(&srv->w);
	pool_evict_all(srv->pool, clock_now());
	log_notice("configuration reloaded from %s",
	    cfg->path != NULL ? cfg->path : "?");
	return 0;
}

void
server_free(struct server *srv)
{
	struct exchange *ex;
	struct tunnel *t;

	while ((ex = TAILQ_FIRST(&srv->w.exchanges)) != NULL)
		exchange_abort(ex);
	while ((t = tunnel_first(&srv->w.tunnels)) != NULL)
		tunnel_abort(t);
	if (srv->w.connector != NULL)
		connector_free(srv->w.connector);
	if (srv->pool != NULL)
		pool_free(srv->pool);
	srv->pool = NULL;
	listeners_close(&srv->listeners);
	if (srv->http != NULL)
		evhttp_free(srv->http);
	/* Run the deferred frees of client connections while srv lives. */
	for (int i = 0; i < 16 && srv->w.stats.clients_active > 0; i++)
		event_base_loop(srv->w.base, EVLOOP_NONBLOCK);
	if (srv->dns != NULL)
		evdns_base_free(srv->dns, 1);
	dnscache_free(srv->dnscache);
	originver_free(srv->w.originver);
	if (srv->w.auth != NULL)
		auth_free(srv->w.auth);
	tls_unref(srv->w.tls);
	if (srv->shutdown_timer != NULL)
		event_free(srv->shutdown_timer);
	if (srv->w.access_log != NULL)
		fclose(srv->w.access_log);
	config_free(srv->w.cfg);
	free(srv->clients);
	free(srv);
}
