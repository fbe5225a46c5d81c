/*
 * worker.c - the request path's shared state: error replies, pages,
 * the access log.  See worker.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "worker.h"

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 401, "Unauthorized" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 417, "Expectation Failed" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
	{ 508, "Loop Detected" },
};

const char *
worker_reason_phrase(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return NULL;
}

/*
 * evhttp_send_reply() sends the body of a reply to HEAD too (2.1.12): a
 * keep-alive client would read it as the next response.
 */
static void
send_reply(struct evhttp_request *req, int status, const char *reason,
    struct evbuffer *body)
{
	char len[32];

	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu",
		    body != NULL ? evbuffer_get_length(body) : 0);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", len);
		body = NULL;
	}
	evhttp_send_reply(req, status, reason, body);
}

/* The error reply, with one more header field when name is not NULL. */
static void
reply_error(struct worker *w, struct evhttp_request *req, int status,
    const char *why, bool close, const char *name, const char *value)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();

	evhttp_clear_headers(out);
	evhttp_add_header(out, "Content-Type", "text/plain; charset=utf-8");
	if (name != NULL)
		evhttp_add_header(out, name, value);
	if (close || w->stopping)
		evhttp_add_header(out, "Connection", "close");
	if (body != NULL)
		evbuffer_add_printf(body, "%s\n", why);
	stats_count_request(&w->stats, status);
	send_reply(req, status, worker_reason_phrase(status), body);
	if (body != NULL)
		evbuffer_free(body);
}

void
worker_reply_error(struct worker *w, struct evhttp_request *req,
    int status, const char *why, bool close)
{
	reply_error(w, req, status, why, close, NULL, NULL);
}

void
worker_reply_challenge(struct worker *w, struct evhttp_request *req,
    bool proxy, const char *why, bool close)
{
	reply_error(w, req, proxy ? 407 : 401, why, close,
	    proxy ? "Proxy-Authenticate" : "WWW-Authenticate",
	    WORKER_CHALLENGE);
}

void
worker_reply_page(struct worker *w, struct evhttp_request *req,
    const char *content_type, struct evbuffer *body)
{
	if (content_type != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", content_type);
	stats_count_request(&w->stats, 200);
	send_reply(req, 200, "OK", body);
}

void
worker_access_log(struct worker *w, const char *client_ip,
    const char *method, const char *target, int status, uint64_t bytes,
    int64_t duration, uint64_t conn_id, bool reused)
{
	char when[40];
	const char *log = w->cfg->access_log;

	if (log == NULL)
		return;
	clock_format_iso(clock_wall(), when, sizeof(when));
	if (strcmp(log, "syslog") == 0)
		log_info("access: %s %s %s %s %d %" PRIu64 " %" PRId64 " %" PRIu64
		    " %s", when, client_ip, method, target, status, bytes,
		    duration / 1000, conn_id, reused ? "reused" : "new");
	else if (w->access_log != NULL)
		fprintf(w->access_log, "%s %s %s %s %d %" PRIu64 " %" PRId64
		    " %" PRIu64 " %s\n", when, client_ip, method, target, status,
		    bytes, duration / 1000, conn_id, reused ? "reused" : "new");
}

/*
 * The port and the IPv4 or IPv6 address of sa, an IPv4-mapped IPv6
 * address as the IPv4 one it maps ("[::ffff:127.0.0.1]" is 127.0.0.1).
 */
static bool
sockaddr_parts(const struct sockaddr *sa, uint16_t *port, unsigned char addr[16],
    size_t *len)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		*port = sin->sin_port;
		memcpy(addr, &sin->sin_addr, 4);
		*len = 4;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		*port = sin6->sin6_port;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(addr, sin6->sin6_addr.s6_addr + 12, 4);
			*len = 4;
		} else {
			memcpy(addr, &sin6->sin6_addr, 16);
			*len = 16;
		}
		return true;
	}
	return false;
}

bool
worker_is_self(const struct worker *w, const struct sockaddr *peer,
    const struct sockaddr *local)
{
	unsigned char pa[16], sa[16], la[16];
	uint16_t pport, sport, lport;
	size_t plen, slen, llen;
	bool local_peer;

	if (!sockaddr_parts(peer, &pport, pa, &plen))
		return false;
	/*
	 * A connection to one of the host's own addresses has it as its
	 * source too (0.0.0.0 and :: land on loopback): with a listen port,
	 * that is ferryd, whatever the listener's address.
	 */
	local_peer = local != NULL && sockaddr_parts(local, &lport, la, &llen) &&
	    llen == plen && memcmp(la, pa, plen) == 0;
	for (size_t i = 0; i < w->n_self; i++) {
		if (!sockaddr_parts((const struct sockaddr *)&w->self[i],
		    &sport, sa, &slen) || sport != pport)
			continue;
		if (local_peer || (slen == plen && memcmp(sa, pa, plen) == 0))
			return true;
	}
	return false;
}

int
worker_open_access_log(struct worker *w)
{
	const char *path = w->cfg->access_log;

	if (w->access_log != NULL) {
		fclose(w->access_log);
		w->access_log = NULL;
	}
	if (path == NULL || strcmp(path, "syslog") == 0)
		return 0;
	if ((w->access_log = fopen(path, "a")) == NULL) {
		log_err("access_log %s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(w->access_log, NULL, _IOLBF, 0);
	return 0;
}

