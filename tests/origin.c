/*
 * origin.c - the test HTTP/1.1 origin server of ferryd's integration tests.
 *
 * It speaks HTTP/1.1 on raw bufferevents (not evhttp) so that it can answer
 * well or misbehave exactly, as the request path chooses: bodies of any
 * size with Content-Length, chunked or close-delimited framing, resets,
 * stalls, garbage, conflicting lengths and hop-by-hop headers, bytes
 * after the end of a response, odd transfer codings and interim responses,
 * and the broken responses of /fault/NAME (send_fault);
 * query options (see parse_query) work on every path.  A second listener,
 * the control port, answers "GET /stats" with the counts a test compares
 * with ferryd's own: connections accepted, requests received, connections
 * open on the main port, and requests that came on a connection after it
 * had sent ?extra= bytes (a proxy must have closed it: after_extra).
 *
 * Usage: origin [-l ADDR:PORT] [-r READYFILE] [-i IDLE_SECONDS] [-q]
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/evp.h>

#define HEAD_MAX	(64 * 1024)	/* request head, CRLFCRLF included */
#define CHUNK_LINE_MAX	4096		/* a chunk-size line with extensions */
#define CONTROL_MAX	8192		/* a control request head */
#define OUT_FILL	(192 * 1024)	/* generated body kept queued at most */
#define OUT_LOW		(64 * 1024)	/* refill below this much queued */
#define PIECE		16384		/* body bytes per evbuffer add */
#define CHUNK_PIECE	4096		/* largest chunk of /chunked/N */
#define LINGER_SECS	5		/* wait for the client's FIN */
#define DELAY_MAX_MS	3600000UL	/* a longer ?delay= is a typo */
#define ID_MAX		64		/* the longest ?id= token */
#define SLOW_PIECE	(64 * 1024)	/* ?slow=: body bytes between pauses */
#define TRAILERS_MAX	4096		/* /upload: trailer bytes reported */

/* The server: listeners, counters, live connections; lives in main(). */
struct origin {
	struct event_base	*base;
	struct evconnlistener	*listener;	/* the main port */
	struct evconnlistener	*control;	/* the control port */
	struct event		*ev_term;
	struct event		*ev_int;
	struct timeval		 idle;		/* -i: our keep-alive timeout */
	int			 idle_set;
	int			 quiet;		/* -q: no per-request log */
	unsigned long long	 accepted;	/* main-port connections */
	unsigned long long	 requests;	/* main-port request heads */
	unsigned long long	 open;		/* main-port sockets now */
	unsigned long long	 after_extra;	/* heads on a conn that sent extra */
	TAILQ_HEAD(, conn)	 conns;
	TAILQ_HEAD(, ctl)	 ctls;
};

/* Where a main-port connection is; each state says what its timer means. */
enum conn_state {
	CONN_HEAD,	/* reading a request head; timer: idle timeout */
	CONN_BODY,	/* reading the request body */
	CONN_DELAY,	/* request read; timer: ?delay= before the head */
	CONN_SEND,	/* writing the response; pipelined input waits */
	CONN_STALL,	/* never answering again until the client goes */
	CONN_LINGER	/* our FIN sent; timer: give up on the client's FIN */
};

/* How a request body is delimited. */
enum framing {
	FRAME_NONE,	/* no body */
	FRAME_LENGTH,	/* body_left more bytes */
	FRAME_CHUNKED	/* chunked transfer coding, see enum chunk_state */
};

/* Where the chunked request body decoder is. */
enum chunk_state {
	CHUNK_SIZE,	/* expecting a chunk-size line */
	CHUNK_DATA,	/* body_left bytes of chunk data to go */
	CHUNK_END,	/* expecting the CRLF after chunk data */
	CHUNK_TRAILER	/* trailer fields until an empty line */
};

/* What ?extra= writes right behind the end of a complete response. */
enum extra {
	EXTRA_NONE,
	EXTRA_CRLF,	/* a stray CRLF */
	EXTRA_RESPONSE	/* a second, unsolicited response ("STALE-RESPONSE") */
};

/* What a connection does once its response is written. */
enum after {
	AFTER_KEEP,	/* read the next request */
	AFTER_CLOSE,	/* send FIN, linger, close */
	AFTER_STALL,	/* go quiet until the client leaves */
	AFTER_RESET	/* send RST (SO_LINGER 0) */
};

/*
 * One main-port connection.  Owned by the origin's list from accept until
 * conn_free(), the only place its socket is closed; a function that may
 * call conn_free() returns -1 when it did, so its caller stops at once.
 */
struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct origin		*o;
	struct bufferevent	*bev;
	struct event		*timer;
	enum conn_state		 state;
	unsigned long long	 serial;	/* X-Origin-Conn */
	unsigned long long	 nreq;		/* X-Origin-Req now */
	int			 peer_eof;	/* the client sent FIN */
	int			 drop_next;	/* close on the next request */
	int			 sent_extra;	/* ?extra= bytes went out on it */

	/* The request being read or answered; reset by request_clear(). */
	char			*head;		/* head, cut into strings */
	const char		*method;
	const char		*target;
	char			*path;		/* target path, no query */
	int			 minor;		/* HTTP/1.minor */
	int			 keep;		/* client allows keep-alive */
	int			 is_head;
	int			 bad;		/* status for a bad request */
	unsigned long		 delay_ms;
	int			 then_drop;	/* ?drop-next: arm drop_next */
	enum extra		 extra;		/* ?extra=, not yet queued */
	char			 id[ID_MAX + 1];	/* ?id=, "" if none */
	size_t			 id_len;
	enum framing		 framing;
	enum chunk_state	 chunk;
	uint64_t		 body_left;
	struct evbuffer		*raw;		/* /echo: the request as sent */
	struct evbuffer		*raw_head;	/* /headers, "*": the head */

	/* /upload: what the body was, and when it came. */
	EVP_MD_CTX		*sha;		/* SHA-256 of the body's data */
	uint64_t		 up_bytes;
	uint64_t		 t_head;	/* usec, monotonic: the head read */
	uint64_t		 t_first;	/* the first data byte (0: none) */
	uint64_t		 first_at;	/* the same, usec since the epoch */
	int			 saw_expect;	/* Expect: 100-continue came */
	int			 early;		/* ?early=N: N before the body */
	int			 late;		/* ?late=N: 100 Continue, then N */
	int			 expect_fail;	/* ?expect-fail: 417 to an Expect */
	int			 http10;	/* ?http10: an HTTP/1.0 server */
	unsigned long		 slow_ms;	/* ?slow=MS: pause after SLOW_PIECE */
	uint64_t		 slow_count;
	char			 trailers[TRAILERS_MAX];
	size_t			 trailers_len;

	/* The response being written. */
	enum after		 after;
	int			 streaming;	/* generated body to queue */
	int			 chunked_out;
	int			 trailers_out;	/* /chunked-trailers/N */
	uint64_t		 out_left;
	uint64_t		 out_off;
	char			*tag;		/* /tagged: id repeated, or NULL */
};

/* One control-port connection: one request, one answer, closed. */
struct ctl {
	TAILQ_ENTRY(ctl)	 entry;
	struct origin		*o;
	struct bufferevent	*bev;
	int			 answered;
};

/* Body bytes: byte i of every generated body is 'a' + i % 26. */
static char pattern[PIECE + 26];

/* printf 'hello gzip\n' | gzip -n: the body of the /te/ paths. */
static const unsigned char hello_gz[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48,
	0xcd, 0xc9, 0xc9, 0x57, 0x48, 0xaf, 0xca, 0x2c, 0xe0, 0x02, 0x00, 0x39,
	0x7c, 0x63, 0x56, 0x0b, 0x00, 0x00, 0x00
};

/* Names the reason phrase of a status code for the status line. */
static const char *
reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 205: return "Reset Content";
	case 206: return "Partial Content";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

/* Parses a plain decimal number (digits only) into *out; 0 or -1. */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 19)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Says whether c may appear in a token (RFC 9110 section 5.6.2). */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Matches "PREFIX<decimal>" against the request path; 1 with *n set, or 0. */
static int
path_number(const char *path, const char *prefix, uint64_t *n)
{
	size_t plen = strlen(prefix);

	if (strncmp(path, prefix, plen) != 0)
		return 0;
	return parse_u64(path + plen, strlen(path + plen), n) == 0;
}

/*
 * Reads the query options of a request into c; 0, or -1 when one is
 * malformed (the request is then answered 400).  Unknown names are ignored.
 *   delay=MS     wait MS milliseconds before the response head.
 *   drop-next    after answering, close this connection when the next
 *                request head arrives (with a body and no Expect: when
 *                some of the body has), without answering it (an origin
 *                whose idle timeout fires just as a reused connection
 *                carries a request).
 *   extra=crlf   after the complete response, a stray CRLF;
 *   extra=response  after it, a second complete response nobody asked
 *                for ("X-Req-Id: stale", body "STALE-RESPONSE").  Both
 *                are bytes a proxy must never hand to the next request.
 *   id=TOKEN     ([A-Za-z0-9_-]{1,64}) the response says "X-Req-Id: TOKEN",
 *                and /tagged/N makes its body of it, so a client can tell
 *                whose response it got.
 *   early=N      /upload: answer N (200..599) at once, before the body,
 *                which is never read; then close.
 *   expect-fail  /upload: answer 417 at once to an Expect: 100-continue.
 *   late=N       /upload: send 100 Continue, then answer N (200..599)
 *                at once, before the body, which is never read.
 *                (early= and expect-fail wait out delay= first.)
 *   http10       /upload: be an HTTP/1.0 server: no 100 Continue,
 *                "HTTP/1.0" responses, close after each.
 *   slow=MS      /upload: after each 64 KiB of body, stop reading for MS.
 */
static int
parse_query(struct conn *c, const char *q)
{
	const char *p = q, *end;
	uint64_t v;
	size_t len, i;

	while (*p != '\0') {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (strncmp(p, "delay=", 6) == 0) {
			if (parse_u64(p + 6, len - 6, &v) != 0 ||
			    v > DELAY_MAX_MS)
				return -1;
			c->delay_ms = (unsigned long)v;
		} else if (len == 9 && strncmp(p, "drop-next", 9) == 0) {
			c->then_drop = 1;
		} else if (len == 10 && strncmp(p, "extra=crlf", 10) == 0) {
			c->extra = EXTRA_CRLF;
		} else if (len == 14 && strncmp(p, "extra=response", 14) == 0) {
			c->extra = EXTRA_RESPONSE;
		} else if (strncmp(p, "extra=", 6) == 0) {
			return -1;
		} else if (strncmp(p, "early=", 6) == 0) {
			if (parse_u64(p + 6, len - 6, &v) != 0 || v < 200 ||
			    v > 599)
				return -1;
			c->early = (int)v;
		} else if (strncmp(p, "late=", 5) == 0) {
			if (parse_u64(p + 5, len - 5, &v) != 0 || v < 200 ||
			    v > 599)
				return -1;
			c->late = (int)v;
		} else if (len == 11 && strncmp(p, "expect-fail", 11) == 0) {
			c->expect_fail = 1;
		} else if (len == 6 && strncmp(p, "http10", 6) == 0) {
			c->http10 = 1;
		} else if (strncmp(p, "slow=", 5) == 0) {
			if (parse_u64(p + 5, len - 5, &v) != 0 || v > 1000)
				return -1;
			c->slow_ms = (unsigned long)v;
		} else if (strncmp(p, "id=", 3) == 0) {
			/* The token goes into a header as is: keep it tame. */
			if (len - 3 < 1 || len - 3 > ID_MAX)
				return -1;
			for (i = 3; i < len; i++)
				if (strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
				    p[i]) == NULL)
					return -1;
			memcpy(c->id, p + 3, len - 3);
			c->id[len - 3] = '\0';
			c->id_len = len - 3;
		}
		p = *end == '&' ? end + 1 : end;
	}
	return 0;
}

/* Sets the path and the query options of the request from its target. */
static int
request_split_target(struct conn *c)
{
	const char *t = c->target, *q;
	size_t len;

	/* Servers must accept absolute-form too (RFC 9112 section 3.2.2). */
	if (strncasecmp(t, "http://", 7) == 0 ||
	    strncasecmp(t, "https://", 8) == 0) {
		t = strstr(t, "://") + 3;
		t += strcspn(t, "/?");
	}
	q = strchr(t, '?');
	len = q != NULL ? (size_t)(q - t) : strlen(t);
	if (len == 0) {
		c->path = strdup("/");
	} else {
		c->path = malloc(len + 1);
		if (c->path != NULL) {
			memcpy(c->path, t, len);
			c->path[len] = '\0';
		}
	}
	if (c->path == NULL)
		return -1;
	if (q != NULL && parse_query(c, q + 1) != 0)
		return -1;
	return 0;
}

/* Takes a Connection header value apart into the close/keep-alive tokens. */
static void
connection_tokens(const char *v, int *want_close, int *keepalive)
{
	size_t n;

	while (*v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, " \t,");
		if (n == 5 && strncasecmp(v, "close", 5) == 0)
			*want_close = 1;
		if (n == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			*keepalive = 1;
		v += n;
	}
}

/*
 * Parses the request head copied into c->head (len bytes, CRLFCRLF last):
 * request line, fields, framing and persistence.  Returns 0, or the status
 * to answer a request we cannot take.
 */
static int
request_parse(struct conn *c, size_t len)
{
	char *p = c->head, *end = c->head + len, *eol, *name, *v, *ve;
	int want_close = 0, keepalive = 0, hosts = 0, te = 0, cl = 0;
	uint64_t length = 0, n;
	size_t i;

	/* Bare CR, bare LF and NUL have no place in a head. */
	for (i = 0; i < len; i++) {
		if (p[i] == '\0')
			return 400;
		if (p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n'))
			return 400;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 400;
	}

	/*
	 * Request line: method SP request-target SP HTTP-version.  Any token
	 * is a method (extension methods such as MOOO included), and any
	 * method may carry a body framed as for POST.
	 */
	eol = strstr(p, "\r\n");
	*eol = '\0';
	c->method = p;
	while (is_tchar((unsigned char)*p))
		p++;
	if (p == c->method || *p != ' ')
		return 400;
	*p++ = '\0';
	c->target = p;
	while ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
		p++;
	if (p == c->target || *p != ' ')
		return 400;
	*p++ = '\0';
	if (strncmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' ||
	    p[8] != '\0')
		return strncmp(p, "HTTP/", 5) == 0 ? 505 : 400;
	c->minor = p[7] - '0';
	c->is_head = strcmp(c->method, "HEAD") == 0;

	/* Fields, up to the empty line. */
	for (p = eol + 2; p < end; p = eol + 2) {
		eol = strstr(p, "\r\n");
		if (eol == p)
			break;
		*eol = '\0';
		name = p;
		while (is_tchar((unsigned char)*p))
			p++;
		if (p == name || *p != ':')	/* obs-fold lands here too */
			return 400;
		*p++ = '\0';
		v = p + strspn(p, " \t");
		for (ve = v + strlen(v); ve > v && (ve[-1] == ' ' ||
		    ve[-1] == '\t'); ve--)
			;
		*ve = '\0';
		for (p = v; p < ve; p++) {
			if ((unsigned char)*p < 0x20 && *p != '\t')
				return 400;
			if (*p == 0x7f)
				return 400;
		}
		if (strcasecmp(name, "Content-Length") == 0) {
			if (parse_u64(v, strlen(v), &n) != 0)
				return 400;
			if (cl && n != length)
				return 400;
			cl = 1;
			length = n;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			if (te)
				return 400;
			if (strcasecmp(v, "chunked") != 0)
				return 501;
			te = 1;
		} else if (strcasecmp(name, "Connection") == 0) {
			connection_tokens(v, &want_close, &keepalive);
		} else if (strcasecmp(name, "Host") == 0) {
			hosts++;
		} else if (strcasecmp(name, "Expect") == 0) {
			c->saw_expect = 1;
		}
	}

	/* Both framings at once is how requests get smuggled. */
	if (te && cl)
		return 400;
	if (hosts > 1 || (c->minor >= 1 && hosts == 0))
		return 400;
	c->keep = c->minor >= 1 ? !want_close : keepalive && !want_close;
	if (te) {
		c->framing = FRAME_CHUNKED;
		c->chunk = CHUNK_SIZE;
	} else if (cl && length > 0) {
		c->framing = FRAME_LENGTH;
		c->body_left = length;
	} else {
		c->framing = FRAME_NONE;
	}
	if (request_split_target(c) != 0)
		return 400;
	return 0;
}

/* Forgets the request just answered, so the next one starts clean. */
static void
request_clear(struct conn *c)
{
	free(c->head);
	free(c->path);
	if (c->raw != NULL)
		evbuffer_free(c->raw);
	if (c->raw_head != NULL)
		evbuffer_free(c->raw_head);
	free(c->tag);
	if (c->sha != NULL)
		EVP_MD_CTX_free(c->sha);
	c->sha = NULL;
	c->up_bytes = c->t_head = c->t_first = c->first_at = c->slow_count = 0;
	c->saw_expect = c->early = c->late = c->expect_fail = c->http10 = 0;
	c->slow_ms = 0;
	c->trailers_len = 0;
	c->head = NULL;
	c->path = NULL;
	c->raw = NULL;
	c->raw_head = NULL;
	c->tag = NULL;
	c->method = c->target = NULL;
	c->minor = 1;
	c->keep = 0;
	c->is_head = 0;
	c->bad = 0;
	c->delay_ms = 0;
	c->then_drop = 0;
	c->extra = EXTRA_NONE;
	c->id[0] = '\0';
	c->id_len = 0;
	c->framing = FRAME_NONE;
	c->chunk = CHUNK_SIZE;
	c->body_left = 0;
	c->after = AFTER_KEEP;
	c->streaming = 0;
	c->chunked_out = 0;
	c->trailers_out = 0;
	c->out_left = 0;
	c->out_off = 0;
}

/* Closes the socket and frees the connection; the only teardown path. */
static void
conn_free(struct conn *c)
{
	struct origin *o = c->o;

	TAILQ_REMOVE(&o->conns, c, entry);
	o->open--;
	request_clear(c);
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
}

/* Ends the connection with an RST: SO_LINGER 0, then close.  Returns -1. */
static int
conn_reset(struct conn *c)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l));
	conn_free(c);
	return -1;
}

/*
 * Closes gracefully: our FIN now, then unread input is discarded until the
 * client's FIN (or LINGER_SECS), so that late bytes from the client do not
 * turn our close into an RST that could destroy the response in flight.
 * Returns -1 when the connection was freed at once.
 */
static int
conn_shutdown(struct conn *c)
{
	struct timeval tv = { LINGER_SECS, 0 };

	if (c->peer_eof) {
		conn_free(c);
		return -1;
	}
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_disable(c->bev, EV_WRITE);
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	bufferevent_enable(c->bev, EV_READ);
	c->state = CONN_LINGER;
	evtimer_add(c->timer, &tv);
	return 0;
}

/* Removes n request bytes from the input, keeping them for /echo. */
static void
conn_consume(struct conn *c, size_t n)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (c->raw != NULL)
		evbuffer_remove_buffer(in, c->raw, n);
	else
		evbuffer_drain(in, n);
}

/*
 * Takes a request head off the input: 1 when one was read (c->bad may say
 * it is malformed), 0 when more bytes are needed.
 */
static int
conn_read_head(struct conn *c)
{
	struct origin *o = c->o;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr pos;
	unsigned char *lead;
	size_t len;

	/* Empty lines before a request line are ignored (RFC 9112 2.2). */
	while (evbuffer_get_length(in) >= 2) {
		lead = evbuffer_pullup(in, 2);
		if (lead[0] != '\r' || lead[1] != '\n')
			break;
		evbuffer_drain(in, 2);
	}
	pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (pos.pos < 0 && evbuffer_get_length(in) <= HEAD_MAX)
		return 0;
	c->nreq++;
	o->requests++;
	/* The proxy reused a connection it should have found dirty. */
	if (c->sent_extra)
		o->after_extra++;
	if (pos.pos < 0 || (size_t)pos.pos + 4 > HEAD_MAX) {
		c->bad = 431;
		if (!o->quiet)
			fprintf(stderr, "origin: conn %llu req %llu head too "
			    "large\n", c->serial, c->nreq);
		return 1;
	}
	len = (size_t)pos.pos + 4;
	c->head = malloc(len + 1);
	if (c->head == NULL) {
		c->bad = 500;
		return 1;
	}
	evbuffer_copyout(in, c->head, len);
	c->head[len] = '\0';
	c->bad = request_parse(c, len);
	if (c->bad == 0 && strcmp(c->path, "/echo") == 0)
		c->raw = evbuffer_new();
	/* /headers and "*" answer with the head as it came, not as parsed. */
	if (c->bad == 0 && (strcmp(c->path, "/headers") == 0 ||
	    strcmp(c->target, "*") == 0)) {
		c->raw_head = evbuffer_new();
		if (c->raw_head == NULL ||
		    evbuffer_add(c->raw_head, evbuffer_pullup(in, len), len) != 0)
			c->bad = 500;
	}
	conn_consume(c, len);
	if (!o->quiet) {
		if (c->bad == 0)
			fprintf(stderr, "origin: conn %llu req %llu %s %s\n",
			    c->serial, c->nreq, c->method, c->target);
		else
			fprintf(stderr, "origin: conn %llu req %llu bad "
			    "request (%d)\n", c->serial, c->nreq, c->bad);
	}
	return 1;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* /upload: the next n body data bytes at the front of the input, digested. */
static void
upload_data(struct conn *c, size_t n)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec v[16];
	struct evbuffer_ptr pos;
	size_t left = n;
	int k, i;

	if (c->sha == NULL || n == 0)
		return;
	if (c->t_first == 0) {
		struct timespec ts;

		c->t_first = now_us();
		clock_gettime(CLOCK_REALTIME, &ts);
		c->first_at = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
	}
	c->up_bytes += n;
	c->slow_count += n;
	evbuffer_ptr_set(in, &pos, 0, EVBUFFER_PTR_SET);
	while (left > 0) {
		k = evbuffer_peek(in, (ev_ssize_t)left, &pos, v, 16);
		for (i = 0; i < k && i < 16 && left > 0; i++) {
			size_t m = v[i].iov_len < left ? v[i].iov_len : left;

			EVP_DigestUpdate(c->sha, v[i].iov_base, m);
			left -= m;
		}
		evbuffer_ptr_set(in, &pos, n - left, EVBUFFER_PTR_SET);
	}
}

/*
 * ?slow=: after each SLOW_PIECE of body, stop reading for slow_ms (the
 * timer reads on).  Returns 1 when paused.
 */
static int
upload_pause(struct conn *c)
{
	struct timeval tv;

	if (c->slow_ms == 0 || c->slow_count < SLOW_PIECE)
		return 0;
	c->slow_count = 0;
	bufferevent_disable(c->bev, EV_READ);
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)(c->slow_ms * 1000);
	evtimer_add(c->timer, &tv);
	return 1;
}

/* Parses a chunk-size line (hex size, optional extensions); 0 or -1. */
static int
parse_chunk_size(const char *line, uint64_t *size)
{
	const char *p = line;
	uint64_t v = 0;
	int digit;

	for (; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digit = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			digit = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			digit = *p - 'A' + 10;
		else
			break;
		if (v >> 56)
			return -1;
		v = v << 4 | (uint64_t)digit;
	}
	if (p == line)
		return -1;
	p += strspn(p, " \t");
	if (*p != '\0' && *p != ';')
		return -1;
	*size = v;
	return 0;
}

/*
 * Reads the request body off the input: 1 when it is complete, 0 when more
 * bytes are needed, -1 when its chunked framing is broken.
 */
static int
conn_read_body(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr eol;
	char line[CHUNK_LINE_MAX + 1];
	unsigned char *crlf;
	size_t avail, n;

	for (;;) {
		avail = evbuffer_get_length(in);
		if (c->framing == FRAME_NONE)
			return 1;
		if (c->framing == FRAME_LENGTH ||
		    (c->framing == FRAME_CHUNKED && c->chunk == CHUNK_DATA)) {
			n = avail < c->body_left ? avail : (size_t)c->body_left;
			upload_data(c, n);
			conn_consume(c, n);
			c->body_left -= n;
			if (c->body_left > 0 && upload_pause(c))
				return 0;
			if (c->body_left > 0)
				return 0;
			if (c->framing == FRAME_LENGTH)
				return 1;
			c->chunk = CHUNK_END;
			continue;
		}
		if (c->chunk == CHUNK_END) {
			if (avail < 2)
				return 0;
			crlf = evbuffer_pullup(in, 2);
			if (crlf[0] != '\r' || crlf[1] != '\n')
				return -1;
			conn_consume(c, 2);
			c->chunk = CHUNK_SIZE;
			continue;
		}
		eol = evbuffer_search_eol(in, NULL, NULL,
		    EVBUFFER_EOL_CRLF_STRICT);
		if (eol.pos < 0)
			return avail > (c->chunk == CHUNK_SIZE ?
			    CHUNK_LINE_MAX : HEAD_MAX) ? -1 : 0;
		n = (size_t)eol.pos;
		if (c->chunk == CHUNK_TRAILER) {
			if (n > 0 && c->sha != NULL &&
			    c->trailers_len + n + 1 < sizeof(c->trailers)) {
				if (c->trailers_len > 0)
					c->trailers[c->trailers_len++] = ';';
				evbuffer_copyout(in, c->trailers + c->trailers_len, n);
				c->trailers_len += n;
			}
			conn_consume(c, n + 2);
			if (n == 0)
				return 1;
			continue;
		}
		if (n > CHUNK_LINE_MAX)
			return -1;
		evbuffer_copyout(in, line, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL ||
		    parse_chunk_size(line, &c->body_left) != 0)
			return -1;
		conn_consume(c, n + 2);
		c->chunk = c->body_left == 0 ? CHUNK_TRAILER : CHUNK_DATA;
	}
}

/* Writes "X-Req-Id: TOKEN" when the request asked for it with ?id=. */
static void
add_req_id(struct conn *c)
{
	if (c->id_len > 0)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "X-Req-Id: %s\r\n", c->id);
}

/* Writes the status line and the fields every normal response carries. */
static void
head_start(struct conn *c, int status)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.%d %d %s\r\n", c->http10 ? 0 : 1,
	    status, reason(status));
	evbuffer_add_printf(out, "X-Origin-Conn: %llu\r\n"
	    "X-Origin-Req: %llu\r\n", c->serial, c->nreq);
	add_req_id(c);
}

/*
 * Ends a response head, saying "Connection: close" when we will close
 * because of the request or announce is set, and "keep-alive" to an
 * HTTP/1.0 client we keep.
 */
static void
head_end(struct conn *c, int announce)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->after == AFTER_CLOSE && (announce || !c->keep))
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (c->after == AFTER_KEEP && c->minor == 0)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
	evbuffer_add(out, "\r\n", 2);
}

/* Answers with a whole body already in memory (none for HEAD). */
static void
send_text(struct conn *c, int status, const char *fields, const void *body,
    size_t len, int announce)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	head_start(c, status);
	evbuffer_add_printf(out, "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n%s", len, fields);
	head_end(c, announce);
	if (!c->is_head)
		evbuffer_add(out, body, len);
}

/*
 * Queues the ?extra= bytes once the response is complete, in the same
 * buffer as its last body bytes, so that they reach the proxy right behind
 * them (often in the same segment) and are there before it can reuse the
 * connection.  Queued once; a no-op without ?extra=.
 */
static void
queue_extra(struct conn *c)
{
	static const char stale[] = "STALE-RESPONSE";
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->extra == EXTRA_NONE)
		return;
	/*
	 * libevent writes at most 16 KiB per write(): let the rest of the
	 * body and the extra bytes go out in one (conn_response_done puts
	 * the default back).
	 */
	bufferevent_set_max_single_write(c->bev,
	    evbuffer_get_length(out) + 256);
	c->sent_extra = 1;
	switch (c->extra) {
	case EXTRA_NONE:
		break;
	case EXTRA_CRLF:
		evbuffer_add(out, "\r\n", 2);
		break;
	case EXTRA_RESPONSE:
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %zu\r\nX-Req-Id: stale\r\n\r\n%s",
		    sizeof(stale) - 1, stale);
		break;
	}
	c->extra = EXTRA_NONE;
}

/*
 * Queues generated body bytes until OUT_FILL is buffered or the body is
 * all queued, so that a body of any size costs at most about OUT_FILL.
 * The bytes are the pattern, or for /tagged the ?id= token repeated
 * (copied, as c->tag goes with the request, maybe before the buffer).
 */
static void
conn_pump(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t n;

	if (!c->streaming)
		return;
	while (c->out_left > 0 && evbuffer_get_length(out) < OUT_FILL) {
		n = c->chunked_out ? CHUNK_PIECE : PIECE;
		if (n > c->out_left)
			n = (size_t)c->out_left;
		if (c->chunked_out)
			evbuffer_add_printf(out, "%zx\r\n", n);
		if (c->tag != NULL)
			evbuffer_add(out, c->tag + c->out_off % c->id_len, n);
		else
			evbuffer_add_reference(out, pattern + c->out_off % 26,
			    n, NULL, NULL);
		if (c->chunked_out)
			evbuffer_add(out, "\r\n", 2);
		c->out_off += n;
		c->out_left -= n;
	}
	if (c->out_left == 0) {
		if (c->chunked_out && c->trailers_out)
			/* One that may pass, one that must not. */
			evbuffer_add_printf(out, "0\r\nX-Body-Length: %llu\r\n"
			    "Content-Length: 1\r\n\r\n",
			    (unsigned long long)c->out_off);
		else if (c->chunked_out)
			evbuffer_add(out, "0\r\n\r\n", 5);
		c->streaming = 0;
		queue_extra(c);
	}
}

/*
 * Answers with a generated body of n bytes: framing is FRAME_LENGTH
 * (Content-Length: length), FRAME_CHUNKED, or FRAME_NONE (close-delimited).
 */
static void
send_pattern(struct conn *c, enum framing framing, uint64_t length, uint64_t n)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	head_start(c, 200);
	evbuffer_add_printf(out, "Content-Type: text/plain\r\n");
	if (framing == FRAME_LENGTH)
		evbuffer_add_printf(out, "Content-Length: %llu\r\n",
		    (unsigned long long)length);
	else if (framing == FRAME_CHUNKED)
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
	head_end(c, 0);
	if (c->is_head)
		return;
	c->streaming = 1;
	c->chunked_out = framing == FRAME_CHUNKED;
	c->out_left = n;
	c->out_off = 0;
	conn_pump(c);
}

/*
 * Answers /tagged/N and /tagged-chunked/N: n body bytes that are the ?id=
 * token repeated, so that every byte says which request it answers.
 */
static void
send_tagged(struct conn *c, enum framing framing, uint64_t n)
{
	size_t i;

	if (c->id_len == 0) {
		send_text(c, 400, "", "tagged needs ?id=\n", 18, 0);
		return;
	}
	/* PIECE bytes from any offset into one period of the token. */
	c->tag = malloc(PIECE + c->id_len);
	if (c->tag == NULL) {
		c->after = AFTER_CLOSE;
		send_text(c, 500, "", "out of memory\n", 14, 1);
		return;
	}
	for (i = 0; i < PIECE + c->id_len; i++)
		c->tag[i] = c->id[i % c->id_len];
	send_pattern(c, framing, n, n);
}

/* Adds n body bytes: the ?id= token repeated, or the pattern. */
static void
add_body(struct conn *c, size_t n)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	for (size_t i = 0; i < n; i++)
		evbuffer_add(out, c->id_len > 0 ? &c->id[i % c->id_len] :
		    &pattern[i % 26], 1);
}

/*
 * Answers /fault/NAME: a response broken in one way, each tagged with the
 * ?id= token where it has a head or a body.  Bytes after the end of a
 * response count as extra (after_extra), as ?extra= does.  Returns 0, or
 * 404 for a name not in the list.
 */
static int
send_fault(struct conn *c, const char *name)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const char *bad_length = NULL;

	c->after = AFTER_CLOSE;
	if (strcmp(name, "http09") == 0) {
		/* A body without a status line, ended by our close. */
		evbuffer_add_printf(out, "%s no status line\n", c->id);
		return 0;
	}
	if (strcmp(name, "truncated-head") == 0 ||
	    strcmp(name, "reset-head") == 0) {
		head_start(c, 200);
		evbuffer_add_printf(out, "Content-Length: 10\r\nX-Cut: ");
		if (name[0] == 'r')
			c->after = AFTER_RESET;
		return 0;
	}
	if (strcmp(name, "cut-length") == 0 || strcmp(name, "reset-body") == 0) {
		head_start(c, 200);
		evbuffer_add_printf(out, "Content-Length: 100000\r\n\r\n");
		add_body(c, 5000);
		if (name[0] == 'r')
			c->after = AFTER_RESET;
		return 0;
	}
	if (strcmp(name, "cut-chunked") == 0 ||
	    strcmp(name, "cut-chunk-mid") == 0) {
		head_start(c, 200);
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n\r\n"
		    "1388\r\n");
		/* A whole chunk and no last one, or a chunk cut short. */
		if (strcmp(name, "cut-chunked") == 0) {
			add_body(c, 5000);
			evbuffer_add(out, "\r\n", 2);
		} else {
			add_body(c, 2000);
		}
		return 0;
	}
	if (strcmp(name, "length-abc") == 0)
		bad_length = "abc";
	else if (strcmp(name, "length-neg") == 0)
		bad_length = "-1";
	else if (strcmp(name, "length-plus") == 0)
		bad_length = "+5";
	else if (strcmp(name, "length-two") == 0)
		bad_length = "5, 6";
	if (bad_length != NULL) {
		head_start(c, 200);
		evbuffer_add_printf(out, "Content-Length: %s\r\n\r\n",
		    bad_length);
		add_body(c, 5);
		return 0;
	}
	c->after = c->keep ? AFTER_KEEP : AFTER_CLOSE;
	if (strcmp(name, "cl-te") == 0) {
		head_start(c, 200);
		evbuffer_add_printf(out, "Content-Length: 3\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n5\r\n");
		add_body(c, 5);
		evbuffer_add_printf(out, "\r\n0\r\n\r\n");
		return 0;
	}
	if (strcmp(name, "body-204") == 0 || strcmp(name, "body-304") == 0 ||
	    strcmp(name, "head-body") == 0) {
		/* Whatever follows the head is not this response's body. */
		head_start(c, name[0] == 'h' ? 200 : name[5] == '2' ? 204 : 304);
		evbuffer_add_printf(out, "Content-Length: 5\r\n\r\n");
		add_body(c, 5);
		c->sent_extra = 1;
		return 0;
	}
	if (strcmp(name, "interim-cut") == 0) {
		evbuffer_add_printf(out, "HTTP/1.1 103 Early Hints\r\n"
		    "X-Req-Id: %s\r\n\r\n", c->id);
		c->after = AFTER_CLOSE;
		return 0;
	}
	return 404;
}

/*
 * Answers /te/...: the hello_gz bytes under an unusual Transfer-Encoding,
 * a head exactly as given (plus X-Req-Id on request).  chunked says
 * whether the body is chunked; if not, it is delimited by our close.
 */
static void
send_coded(struct conn *c, const char *te, int chunked)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t half = sizeof(hello_gz) / 2;

	if (!chunked)
		c->after = AFTER_CLOSE;
	evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\n");
	add_req_id(c);
	evbuffer_add_printf(out, "Transfer-Encoding: %s\r\n", te);
	head_end(c, 0);
	if (c->is_head)
		return;
	if (!chunked) {
		evbuffer_add(out, hello_gz, sizeof(hello_gz));
		return;
	}
	/* Two chunks, so that the gzip stream is split across chunks. */
	evbuffer_add_printf(out, "%zx\r\n", half);
	evbuffer_add(out, hello_gz, half);
	evbuffer_add_printf(out, "\r\n%zx\r\n", sizeof(hello_gz) - half);
	evbuffer_add(out, hello_gz + half, sizeof(hello_gz) - half);
	evbuffer_add(out, "\r\n0\r\n\r\n", 7);
}

/* Answers /status/NNN: 204 and 304 bare, others with a short body. */
static void
send_status(struct conn *c, uint64_t code)
{
	char body[32];
	int len;

	if (code < 200 || code > 599) {
		len = snprintf(body, sizeof(body), "status not allowed\n");
		send_text(c, 400, "", body, (size_t)len, 0);
		return;
	}
	if (code == 204 || code == 304) {
		head_start(c, (int)code);
		head_end(c, 0);
		return;
	}
	len = snprintf(body, sizeof(body), "status %d\n", (int)code);
	send_text(c, (int)code, "", body, (size_t)len, 0);
}

/*
 * /upload: what came, as one line: "bytes=N sha256=HEX first_byte_us=T
 * first_byte_at=EPOCH_USEC expect=0|1 framing=length|chunked|none
 * trailers=NAME: V;..." (T: from the head to the first body byte).  With
 * ?early= or ?expect-fail, sent before the body, which is never read
 * (the connection closes after).
 */
static void
send_upload(struct conn *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char text[TRAILERS_MAX + 512], hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0, i;
	int len;

	if (c->early || c->late || (c->expect_fail && c->saw_expect)) {
		c->after = AFTER_CLOSE;
		len = snprintf(text, sizeof(text), "answered before the body\n");
		send_text(c, c->early ? c->early : c->late ? c->late : 417, "",
		    text, (size_t)len, 1);
		return;
	}
	if (c->sha != NULL)
		EVP_DigestFinal_ex(c->sha, md, &mdlen);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * mdlen] = '\0';
	if (c->http10)
		c->after = AFTER_CLOSE;
	len = snprintf(text, sizeof(text), "bytes=%llu sha256=%s "
	    "first_byte_us=%llu first_byte_at=%llu expect=%d framing=%s "
	    "trailers=%.*s\n",
	    (unsigned long long)c->up_bytes, hex,
	    (unsigned long long)(c->t_first ? c->t_first - c->t_head : 0),
	    (unsigned long long)c->first_at,
	    c->saw_expect, c->framing == FRAME_CHUNKED ? "chunked" :
	    c->framing == FRAME_LENGTH ? "length" : "none",
	    (int)c->trailers_len, c->trailers);
	send_text(c, 200, "", text, (size_t)len, c->http10);
}

/*
 * Answers the request now (its body read, its delay over), as the path
 * says.  Returns -1 when the connection is gone.
 */
static int
conn_respond(struct conn *c)
{
	static const char hop[] =
	    "Connection: close-me, X-Drop-Me\r\n"
	    "X-Drop-Me: 1\r\n"
	    "Close-Me: 1\r\n"
	    "Keep-Alive: timeout=5\r\n"
	    "Proxy-Authenticate: Basic\r\n"
	    "Trailer: X\r\n"
	    "Upgrade: h2c\r\n"
	    "X-Keep-Me: 1\r\n";
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const char *path = c->path;
	uint64_t n;

	c->state = CONN_SEND;
	c->after = c->keep ? AFTER_KEEP : AFTER_CLOSE;
	if (c->bad) {
		c->after = AFTER_CLOSE;
		c->extra = EXTRA_NONE;
		send_text(c, c->bad, "", "bad request\n", 12, 1);
	} else if (strcmp(c->target, "*") == 0) {
		/* OPTIONS * and the like: the request line, as received. */
		n = evbuffer_search(c->raw_head, "\r\n", 2, NULL).pos;
		send_text(c, 200, "", evbuffer_pullup(c->raw_head, -1), n, 0);
	} else if (strcmp(path, "/headers") == 0) {
		/* The head the proxy forwarded, empty line included. */
		n = evbuffer_get_length(c->raw_head);
		send_text(c, 200, "", evbuffer_pullup(c->raw_head, -1), n, 0);
	} else if (path_number(path, "/tagged/", &n)) {
		send_tagged(c, FRAME_LENGTH, n);
	} else if (path_number(path, "/tagged-chunked/", &n)) {
		send_tagged(c, FRAME_CHUNKED, n);
	} else if (strcmp(path, "/te/gzip-chunked") == 0) {
		send_coded(c, "gzip, chunked", 1);
	} else if (strcmp(path, "/te/gzip") == 0) {
		send_coded(c, "gzip", 0);
	} else if (strcmp(path, "/te/chunked-gzip") == 0) {
		/* chunked not last: the body is delimited by our close. */
		send_coded(c, "chunked, gzip", 0);
	} else if (strcmp(path, "/interim") == 0) {
		/* HTTP/1.0 clients must not see 1xx (RFC 9110 15.2). */
		if (c->minor >= 1)
			evbuffer_add_printf(out, "HTTP/1.1 103 Early Hints\r\n"
			    "Link: </style.css>; rel=preload\r\n\r\n"
			    "HTTP/1.1 102 Processing\r\n\r\n");
		send_text(c, 200, "", "final\n", 6, 0);
	} else if (path_number(path, "/size/", &n) ||
	    path_number(path, "/big/", &n)) {
		send_pattern(c, FRAME_LENGTH, n, n);
	} else if (path_number(path, "/chunked/", &n)) {
		send_pattern(c, FRAME_CHUNKED, 0, n);
	} else if (path_number(path, "/chunked-trailers/", &n)) {
		c->trailers_out = 1;
		send_pattern(c, FRAME_CHUNKED, 0, n);
	} else if (path_number(path, "/close/", &n)) {
		c->after = AFTER_CLOSE;
		send_pattern(c, FRAME_NONE, 0, n);
	} else if (path_number(path, "/stall-body/", &n)) {
		c->after = AFTER_STALL;
		send_pattern(c, FRAME_LENGTH, n, n / 2);
	} else if (strcmp(path, "/upload") == 0) {
		send_upload(c);
	} else if (strcmp(path, "/echo") == 0) {
		n = evbuffer_get_length(c->raw);
		head_start(c, 200);
		evbuffer_add_printf(out, "Content-Type: text/plain\r\n"
		    "Content-Length: %llu\r\n", (unsigned long long)n);
		head_end(c, 0);
		if (!c->is_head)
			evbuffer_add_buffer(out, c->raw);
	} else if (strncmp(path, "/status/", 8) == 0 &&
	    strlen(path) == 11 && path_number(path, "/status/", &n)) {
		send_status(c, n);
	} else if (strcmp(path, "/continue") == 0) {
		send_text(c, 200, "", "ok\n", 3, 0);
	} else if (strcmp(path, "/connection-close") == 0) {
		c->after = AFTER_CLOSE;
		send_text(c, 200, "", "ok\n", 3, 1);
	} else if (strcmp(path, "/reset") == 0) {
		return conn_reset(c);
	} else if (strcmp(path, "/stall") == 0) {
		c->state = CONN_STALL;
		return 0;
	} else if (strcmp(path, "/garbage") == 0) {
		c->after = AFTER_CLOSE;
		evbuffer_add_printf(out, "this is not HTTP\r\n\r\n");
	} else if (strcmp(path, "/bad-length") == 0) {
		c->after = AFTER_CLOSE;
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 5\r\nContent-Length: 6\r\n"
		    "X-Origin-Conn: %llu\r\nX-Origin-Req: %llu\r\n",
		    c->serial, c->nreq);
		add_req_id(c);
		evbuffer_add(out, "\r\n", 2);
		if (!c->is_head)
			evbuffer_add(out, "abcdef", 6);
	} else if (strcmp(path, "/bad-status") == 0) {
		c->after = AFTER_CLOSE;
		evbuffer_add_printf(out, "HTTP/1.1 abc Oops\r\n\r\n");
	} else if (strcmp(path, "/hop") == 0) {
		send_text(c, 200, hop, "ok\n", 3, 0);
	} else if (strncmp(path, "/fault/", 7) == 0 &&
	    send_fault(c, path + 7) == 0) {
		/* As sent. */
	} else {
		send_text(c, 404, "", "not found\n", 10, 0);
	}
	/* A streamed body gets its extra bytes when it is all queued. */
	if (!c->streaming)
		queue_extra(c);
	return 0;
}

/* Starts answering a request whose body has been read, after its delay. */
static int
conn_request_ready(struct conn *c)
{
	struct timeval tv;

	if (c->delay_ms == 0 || c->bad)
		return conn_respond(c);
	tv.tv_sec = (time_t)(c->delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(c->delay_ms % 1000 * 1000);
	c->state = CONN_DELAY;
	evtimer_add(c->timer, &tv);
	return 0;
}

/*
 * Reads as much of the next request as the input holds and answers it
 * once complete.  Returns -1 when the connection is gone.
 */
static int
conn_advance(struct conn *c)
{
	struct origin *o = c->o;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int r;

	if (c->state == CONN_HEAD) {
		if (conn_read_head(c) == 0) {
			if (c->peer_eof) {
				conn_free(c);
				return -1;
			}
			if (o->idle_set && evbuffer_get_length(in) == 0)
				evtimer_add(c->timer, &o->idle);
			return 0;
		}
		/*
		 * ?drop-next: a request with a body is dropped once some of
		 * the body is here, so that the proxy surely began to send it;
		 * one that waits for our 100 Continue, at its head.
		 */
		if (c->drop_next && (c->framing == FRAME_NONE || c->saw_expect)) {
			conn_free(c);
			return -1;
		}
		if (c->bad)
			return conn_respond(c);
		/* /fault/deaf: never reads again, never answers. */
		if (strcmp(c->path, "/fault/deaf") == 0) {
			bufferevent_disable(c->bev, EV_READ);
			c->state = CONN_STALL;
			return 0;
		}
		/* HTTP/1.0 clients must not see 1xx (RFC 9110 15.2). */
		if (strcmp(c->path, "/continue") == 0 && c->minor >= 1)
			bufferevent_write(c->bev,
			    "HTTP/1.1 100 Continue\r\n\r\n", 25);
		if (strcmp(c->path, "/upload") == 0) {
			c->t_head = now_us();
			if ((c->sha = EVP_MD_CTX_new()) == NULL ||
			    EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL) != 1) {
				c->bad = 500;
				return conn_respond(c);
			}
			/* An answer before the body (after ?delay=), never read. */
			if (c->early || (c->expect_fail && c->saw_expect))
				return conn_request_ready(c);
			/* An HTTP/1.0 server knows no Expect. */
			if (c->saw_expect && c->minor >= 1 && !c->http10)
				bufferevent_write(c->bev,
				    "HTTP/1.1 100 Continue\r\n\r\n", 25);
			if (c->late)
				return conn_respond(c);
		}
		c->state = CONN_BODY;
	}
	if (c->state != CONN_BODY)
		return 0;
	if (c->drop_next) {
		if (evbuffer_get_length(in) == 0)
			return 0;
		conn_free(c);
		return -1;
	}
	r = conn_read_body(c);
	if (r == 0 && c->peer_eof) {
		conn_free(c);
		return -1;
	}
	if (r == 0)
		return 0;
	if (r < 0) {
		c->bad = 400;
		if (!o->quiet)
			fprintf(stderr, "origin: conn %llu req %llu bad body\n",
			    c->serial, c->nreq);
	}
	return conn_request_ready(c);
}

/* Moves on once a response is written: next request, close or stall. */
static int
conn_response_done(struct conn *c)
{
	enum after after = c->after;

	c->drop_next = c->then_drop;
	bufferevent_set_max_single_write(c->bev, 0);	/* the default */
	request_clear(c);
	switch (after) {
	case AFTER_KEEP:
		c->state = CONN_HEAD;
		return conn_advance(c);
	case AFTER_CLOSE:
		return conn_shutdown(c);
	case AFTER_RESET:
		return conn_reset(c);
	case AFTER_STALL:
		if (c->peer_eof) {
			conn_free(c);
			return -1;
		}
		c->state = CONN_STALL;
		evbuffer_drain(bufferevent_get_input(c->bev),
		    evbuffer_get_length(bufferevent_get_input(c->bev)));
		break;
	}
	return 0;
}

/* Feeds newly read bytes to the request reader, or throws them away. */
static void
conn_on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	switch (c->state) {
	case CONN_HEAD:
		evtimer_del(c->timer);
		conn_advance(c);
		break;
	case CONN_BODY:
		conn_advance(c);
		break;
	case CONN_STALL:
	case CONN_LINGER:
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	case CONN_DELAY:
	case CONN_SEND:
		/* Pipelined requests wait until this response is written. */
		break;
	}
}

/* Refills a generated body, and moves on once the response is all sent. */
static void
conn_on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(bev);

	if (c->state != CONN_SEND)
		return;
	conn_pump(c);
	if (!c->streaming && evbuffer_get_length(out) == 0)
		conn_response_done(c);
}

/*
 * Handles the client's FIN or a socket error.  A response being written is
 * still finished after a FIN (the client may only have half-closed); in
 * any other state, a delayed answer included, the client is gone.
 */
static void
conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    c->state == CONN_SEND) {
		c->peer_eof = 1;
		return;
	}
	conn_free(c);
}

/* Fires the state's timer: idle timeout, response delay or linger limit. */
static void
conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	switch (c->state) {
	case CONN_HEAD:
		if (!c->o->quiet)
			fprintf(stderr, "origin: conn %llu idle, closing\n",
			    c->serial);
		conn_shutdown(c);
		break;
	case CONN_DELAY:
		conn_respond(c);
		break;
	case CONN_BODY:
		/* ?slow=: the pause is over. */
		bufferevent_enable(c->bev, EV_READ);
		conn_advance(c);
		break;
	case CONN_LINGER:
		conn_free(c);
		break;
	default:
		break;
	}
}

/* Takes a new main-port connection into service. */
static void
origin_on_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct origin *o = arg;
	struct conn *c;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->bev = bufferevent_socket_new(o->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(o->base, conn_on_timer, c);
	if (c->bev == NULL || c->timer == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd);
		if (c->timer != NULL)
			event_free(c->timer);
		free(c);
		return;
	}
	c->o = o;
	c->serial = ++o->accepted;
	c->state = CONN_HEAD;
	request_clear(c);
	o->open++;
	TAILQ_INSERT_TAIL(&o->conns, c, entry);
	bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event,
	    c);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (o->idle_set)
		evtimer_add(c->timer, &o->idle);
}

/* Closes a control connection. */
static void
ctl_free(struct ctl *k)
{
	TAILQ_REMOVE(&k->o->ctls, k, entry);
	bufferevent_free(k->bev);
	free(k);
}

/* Answers the control request once its head is in: /stats or 404. */
static void
ctl_on_read(struct bufferevent *bev, void *arg)
{
	struct ctl *k = arg;
	struct origin *o = k->o;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	struct evbuffer_ptr pos;
	char line[64], body[256];
	ev_ssize_t got;
	int len;

	if (k->answered) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (pos.pos < 0) {
		if (evbuffer_get_length(in) > CONTROL_MAX)
			ctl_free(k);
		return;
	}
	got = evbuffer_copyout(in, line, sizeof(line) - 1);
	line[got < 0 ? 0 : got] = '\0';
	line[strcspn(line, "\r")] = '\0';
	evbuffer_drain(in, evbuffer_get_length(in));
	k->answered = 1;
	if (strncmp(line, "GET /stats ", 11) == 0 ||
	    strncmp(line, "GET /stats?", 11) == 0) {
		len = snprintf(body, sizeof(body),
		    "accepted %llu\nrequests %llu\nopen %llu\n"
		    "after_extra %llu\n",
		    o->accepted, o->requests, o->open, o->after_extra);
		evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %d\r\n"
		    "Connection: close\r\n\r\n%s", len, body);
	} else {
		evbuffer_add_printf(out, "HTTP/1.1 404 Not Found\r\n"
		    "Content-Type: text/plain\r\nContent-Length: 10\r\n"
		    "Connection: close\r\n\r\nnot found\n");
	}
}

/* Closes the control connection once its answer is written. */
static void
ctl_on_write(struct bufferevent *bev, void *arg)
{
	struct ctl *k = arg;
	struct evbuffer *out = bufferevent_get_output(bev);

	if (k->answered && evbuffer_get_length(out) == 0)
		ctl_free(k);
}

/* Closes the control connection when its client leaves or errs. */
static void
ctl_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl *k = arg;

	ctl_free(k);
}

/* Takes a new control connection; it is not counted in the stats. */
static void
origin_on_control(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct origin *o = arg;
	struct ctl *k;

	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		evutil_closesocket(fd);
		return;
	}
	k->bev = bufferevent_socket_new(o->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (k->bev == NULL) {
		evutil_closesocket(fd);
		free(k);
		return;
	}
	k->o = o;
	TAILQ_INSERT_TAIL(&o->ctls, k, entry);
	bufferevent_setcb(k->bev, ctl_on_read, ctl_on_write, ctl_on_event, k);
	bufferevent_enable(k->bev, EV_READ | EV_WRITE);
}

/* Reports accept() failures (EMFILE and the like) and keeps listening. */
static void
origin_on_accept_error(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	fprintf(stderr, "origin: accept: %s\n",
	    evutil_socket_error_to_string(err));
}

/* Stops the loop on SIGTERM or SIGINT; main() then frees everything. */
static void
origin_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct origin *o = arg;

	event_base_loopexit(o->base, NULL);
}

/* Opens a listener on addr ("host:port"); its port goes to *port. */
static struct evconnlistener *
listen_on(struct origin *o, const char *addr, evconnlistener_cb cb, int *port)
{
	struct sockaddr_storage ss;
	struct evconnlistener *l;
	const char *colon;
	char host[256];
	uint64_t pnum;
	socklen_t sslen;
	int len = (int)sizeof(ss);

	/* evutil_parse_sockaddr_port() refuses port 0, so split it off. */
	colon = strrchr(addr, ':');
	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host) ||
	    parse_u64(colon + 1, strlen(colon + 1), &pnum) != 0 ||
	    pnum > 65535)
		goto bad;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(host, (struct sockaddr *)&ss,
	    &len) != 0)
		goto bad;
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)pnum);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)pnum);
	l = evconnlistener_new_bind(o->base, cb, o, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
	    (struct sockaddr *)&ss, len);
	if (l == NULL) {
		fprintf(stderr, "origin: listen on %s: %s\n", addr,
		    strerror(errno));
		return NULL;
	}
	evconnlistener_set_error_cb(l, origin_on_accept_error);
	sslen = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss,
	    &sslen) != 0) {
		evconnlistener_free(l);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return l;

bad:
	fprintf(stderr, "origin: bad listen address %s\n", addr);
	return NULL;
}

/* Publishes both ports atomically: write READYFILE.tmp, rename it. */
static int
write_ready(const char *path, int port, int control_port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%d %d\n", port, control_port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Prints the command line and fails. */
static void
usage(void)
{
	fprintf(stderr, "usage: origin [-l addr:port] [-r readyfile] "
	    "[-i idle_seconds] [-q]\n");
	exit(2);
}

/* Parses options, opens both ports, serves until SIGTERM/SIGINT, frees. */
int
main(int argc, char **argv)
{
	struct origin o;
	struct conn *c;
	struct ctl *k;
	const char *addr = "127.0.0.1:0", *ready = NULL;
	char *end;
	double idle;
	int ch, port = 0, control_port = 0, status = 1;
	size_t i;

	memset(&o, 0, sizeof(o));
	TAILQ_INIT(&o.conns);
	TAILQ_INIT(&o.ctls);
	while ((ch = getopt(argc, argv, "l:r:i:q")) != -1) {
		switch (ch) {
		case 'l':
			addr = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		case 'i':
			idle = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(idle > 0) ||
			    idle > 86400)
				usage();
			o.idle.tv_sec = (time_t)idle;
			o.idle.tv_usec = (suseconds_t)((idle -
			    (double)o.idle.tv_sec) * 1e6);
			o.idle_set = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)('a' + i % 26);
	signal(SIGPIPE, SIG_IGN);
	o.base = event_base_new();
	if (o.base == NULL)
		return 1;
	o.listener = listen_on(&o, addr, origin_on_accept, &port);
	if (o.listener == NULL)
		goto out;
	o.control = listen_on(&o, "127.0.0.1:0", origin_on_control,
	    &control_port);
	if (o.control == NULL)
		goto out;
	o.ev_term = evsignal_new(o.base, SIGTERM, origin_on_signal, &o);
	o.ev_int = evsignal_new(o.base, SIGINT, origin_on_signal, &o);
	if (o.ev_term == NULL || o.ev_int == NULL ||
	    evsignal_add(o.ev_term, NULL) != 0 ||
	    evsignal_add(o.ev_int, NULL) != 0)
		goto out;
	if (ready != NULL && write_ready(ready, port, control_port) != 0) {
		fprintf(stderr, "origin: cannot write %s: %s\n", ready,
		    strerror(errno));
		goto out;
	}
	if (!o.quiet)
		fprintf(stderr, "origin: listening on port %d, control port "
		    "%d\n", port, control_port);
	if (event_base_dispatch(o.base) == 0)
		status = 0;

out:
	while ((c = TAILQ_FIRST(&o.conns)) != NULL)
		conn_free(c);
	while ((k = TAILQ_FIRST(&o.ctls)) != NULL)
		ctl_free(k);
	if (o.listener != NULL)
		evconnlistener_free(o.listener);
	if (o.control != NULL)
		evconnlistener_free(o.control);
	if (o.ev_term != NULL)
		event_free(o.ev_term);
	if (o.ev_int != NULL)
		event_free(o.ev_int);
	event_base_free(o.base);
	libevent_global_shutdown();
	return status;
}
