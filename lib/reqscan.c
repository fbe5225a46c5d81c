/*
 * reqscan.c - the strict RFC 9112 scanner in front of evhttp.  It reads
 * each byte a client sends once, counts body bytes through without reading
 * them, and stops at the first byte it cannot prove clean.  See reqscan.h
 * for the contract.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "reqscan.h"

/* evhttp 2.1.12's shortest request line, without its CRLF. */
#define REQUEST_LINE_MIN 14

/* Where the scanner is; the order matters (see IN_HEAD). */
enum state {
	S_IDLE,			/* between requests */
	S_METHOD,		/* S_METHOD .. S_HEAD_LF: inside a head */
	S_TARGET,
	S_VERSION,
	S_FIELD,		/* start of a field line or of the final empty line */
	S_NAME,
	S_VALUE,
	S_VALUE_LF,
	S_HEAD_LF,
	S_BODY,			/* Content-Length body: counted, never read */
	S_SIZE,			/* chunk-size line */
	S_SIZE_LF,
	S_DATA,			/* chunk data: counted, never read */
	S_DATA_CR,
	S_DATA_LF,
	S_TRAILER,		/* after the last chunk: a trailer field or the empty line */
	S_TRAILER_LF,
	S_TNAME,		/* a trailer field's name */
	S_TVALUE,
	S_TVALUE_LF,
	S_TUNNEL,		/* after a CONNECT head: the bytes belong to the tunnel */
	S_FAILED
};

#define IN_HEAD(st)	((st) >= S_METHOD && (st) <= S_HEAD_LF)
#define IN_LINE1(st)	((st) >= S_METHOD && (st) <= S_VERSION)

/* Why scan() stopped. */
enum action {
	A_MORE,			/* every byte given was scanned */
	A_MOVE,			/* a head, chunk line or request ended: state changed */
	A_FAIL			/* status and why are set: the stream stops */
};

/* The methods evhttp 2.1.12 knows, in the order of the table below. */
enum method {
	M_NONE,
	M_GET,
	M_HEAD,
	M_POST,
	M_PUT,
	M_DELETE,
	M_OPTIONS,
	M_TRACE,
	M_CONNECT,
	M_PATCH,
	M_EXT			/* any other token: evhttp passes it as "unknown" */
};

static const char *const method_names[] = {
	[M_GET] = "GET", [M_HEAD] = "HEAD", [M_POST] = "POST", [M_PUT] = "PUT",
	[M_DELETE] = "DELETE", [M_OPTIONS] = "OPTIONS", [M_TRACE] = "TRACE",
	[M_CONNECT] = "CONNECT", [M_PATCH] = "PATCH",
};

/* The fields whose values the scanner reads; all others are only checked. */
enum field {
	F_OTHER,
	F_HOST,
	F_CONTENT_LENGTH,
	F_TRANSFER_ENCODING,
	F_EXPECT,
	F_PROXY_AUTH			/* kept only with a body check */
};

/* Sub-states of the request-target. */
enum target {
	T_START,		/* nothing yet */
	T_REST,			/* origin- or absolute-form proved: any VCHAR follows */
	T_STAR,			/* OPTIONS * */
	T_ORIGIN,		/* origin-form: after its first "/" */
	T_SCHEME,		/* absolute-form: scheme letters */
	T_COLON,		/* scheme ":" seen, first "/" expected */
	T_SLASH,		/* second "/" expected */
	T_HOST,			/* CONNECT: host name or address */
	T_V6,			/* CONNECT: inside "[...]" */
	T_V6_END,		/* CONNECT: after "]", ":" expected */
	T_PORT,			/* CONNECT: port digits */
	T_AUTH,			/* absolute-form: a reg-name host */
	T_AUTH_PCT,		/* absolute-form: after "%" in the host, digits: hex seen */
	T_AUTH_V6,		/* absolute-form: inside "[...]" */
	T_AUTH_V6_END,		/* absolute-form: after "]" */
	T_AUTH_PORT		/* absolute-form: port digits */
};

/* Sub-states of a field value we read; V_START is before any byte but OWS. */
enum value {
	V_START,		/* leading OWS of the value */
	V_LEAD,			/* leading OWS of a later list element */
	V_WORD,			/* inside a word or number */
	V_TRAIL			/* OWS after it */
};

/* Byte classes, so the hot loops do one table load per byte. */
#define C_VCHAR		0x01	/* 0x21..0x7E */
#define C_OBS		0x02	/* 0x80..0xFF (obs-text, allowed in values) */
#define C_WS		0x04	/* SP, HTAB */
#define C_TCHAR		0x08	/* token character */
#define C_DIGIT		0x10
#define C_HEX		0x20
#define C_ALPHA		0x40
#define C_SCHEME	0x80	/* ALPHA / DIGIT / "+" / "-" / "." */
#define C_REGNAME	0x100	/* a reg-name byte but "%": unreserved / sub-delims */
#define C_VALUE		(C_VCHAR | C_OBS | C_WS)

#define VT	(C_VCHAR | C_TCHAR)
#define VTS	(C_VCHAR | C_TCHAR | C_SCHEME)
#define VR	(C_VCHAR | C_REGNAME)
#define VTR	(C_VCHAR | C_TCHAR | C_REGNAME)
#define VTSR	(C_VCHAR | C_TCHAR | C_SCHEME | C_REGNAME)
static const unsigned short cls[256] = {
	['\t'] = C_WS,
	[' '] = C_WS,
	['!'] = VTR,
	['"'] = C_VCHAR,
	['#'] = VT,
	['$'] = VTR,
	['%'] = VT,
	['&' ... '\''] = VTR,
	['(' ... ')'] = VR,
	['*'] = VTR,
	['+'] = VTSR,
	[','] = VR,
	['-' ... '.'] = VTSR,
	['/'] = C_VCHAR,
	['0' ... '9'] = VTSR | C_DIGIT | C_HEX,
	[':'] = C_VCHAR,
	[';'] = VR,
	['<'] = C_VCHAR,
	['='] = VR,
	['>' ... '@'] = C_VCHAR,
	['A' ... 'F'] = VTSR | C_ALPHA | C_HEX,
	['G' ... 'Z'] = VTSR | C_ALPHA,
	['[' ... ']'] = C_VCHAR,
	['^'] = VT,
	['_'] = VTR,
	['`'] = VT,
	['a' ... 'f'] = VTSR | C_ALPHA | C_HEX,
	['g' ... 'z'] = VTSR | C_ALPHA,
	['{'] = C_VCHAR,
	['|'] = VT,
	['}'] = C_VCHAR,
	['~'] = VTR,
	[0x80 ... 0xff] = C_OBS,
};
#undef VT
#undef VTS
#undef VR
#undef VTR
#undef VTSR

#define MAX_CL_DIGITS		18	/* < 10^18 fits any uint64_t sum below */
#define MAX_CHUNK_DIGITS	15	/* < 2^60 */
#define MAX_PORT_DIGITS		5

/* Records the first violation; the caller stops the stream. */
static int
bad(struct reqscan *s, int status, const char *why)
{
	s->status = status;
	s->why = why;
	return A_FAIL;
}

/* Forgets everything of the request just completed and counts it. */
static void
next_request(struct reqscan *s)
{
	s->requests++;
	s->state = S_IDLE;
	s->head_len = 0;
	s->method = M_NONE;
	s->major = s->minor = 0;
	s->sub = 0;
	s->digits = 0;
	s->port = 0;
	s->n_host = s->n_content_length = s->n_transfer_encoding = 0;
	s->host_empty = s->chunked = s->expect_bad = false;
	s->n_cred = 0;
	s->cred_len = 0;
	s->content_length = s->body_left = s->body_total = 0;
	s->token_len = 0;
	s->field = F_OTHER;
	s->match = 0;
	s->elements = 0;
	s->chunked_last = false;
}

/*
 * True for the methods whose body evhttp 2.1.12 reads
 * (evhttp_method_may_have_body); a HEAD or TRACE body it would parse as
 * the next request, so those must not carry one.
 */
static bool
may_have_body(int method)
{
	return method != M_HEAD && method != M_TRACE;
}

/* Maps the method token to M_*, 0 when unknown, -1 for a known one in the wrong case. */
static int
method_lookup(const char *tok, size_t len)
{
	size_t i, j;

	for (i = 1; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
		if (strlen(method_names[i]) != len)
			continue;
		if (memcmp(method_names[i], tok, len) == 0)
			return (int)i;
		for (j = 0; j < len; j++) {
			if ((tok[j] & ~0x20) != method_names[i][j])
				break;
		}
		if (j == len)
			return -1;
	}
	return M_NONE;
}

/* Ends the method at its SP: only the methods evhttp knows go further. */
static int
method_end(struct reqscan *s)
{
	int m;

	if (s->token_len == 0)
		return bad(s, 400, "empty method");
	if (s->token_len > sizeof(s->ext_method) - 1)
		return bad(s, 501, "method name too long");
	m = method_lookup(s->token, s->token_len);
	if (m < 0)
		return bad(s, 400, "method name must be upper case");
	/* evhttp cannot name it: keep the name for the exchange. */
	if (m == M_NONE) {
		m = M_EXT;
		memcpy(s->ext_method, s->token, s->token_len);
		s->ext_method[s->token_len] = '\0';
	}
	s->method = m;
	s->sub = T_START;
	s->digits = 0;
	s->port = 0;
	return A_MORE;
}

/*
 * The authority of an absolute-form target, checked as evhttp's URI parser
 * would (2.1.12, parse_authority), so that what it would refuse with a page
 * of its own gets ferryd's one-line 400 instead: a reg-name host
 * (unreserved, sub-delims, %HH) or an IPv6 literal in brackets, then an
 * optional port of at most 65535.  No user info.  The authority ends at
 * "/", "?" or "#".
 */
static int
authority_byte(struct reqscan *s, unsigned char c)
{
	struct in6_addr a6;

	if ((c == '/' || c == '?' || c == '#') && s->sub != T_AUTH_PCT &&
	    s->sub != T_AUTH_V6) {
		s->sub = T_REST;
		return A_MORE;
	}
	switch (s->sub) {
	case T_AUTH:
		if (c == '[' && s->digits == 0) {
			s->sub = T_AUTH_V6;
			s->v6_len = 0;
		} else if (c == ':') {
			s->sub = T_AUTH_PORT;
			s->digits = 0;
			s->port = 0;
		} else if (c == '%') {
			s->sub = T_AUTH_PCT;
			s->digits = 0;
		}
		else if (c == '@')
			return bad(s, 400, "user info in request target");
		else if (!(cls[c] & C_REGNAME))
			return bad(s, 400, "invalid character in target host");
		else
			s->digits = 1;
		return A_MORE;
	case T_AUTH_PCT:
		if (!(cls[c] & C_HEX))
			return bad(s, 400, "bad percent-encoding in target host");
		if (++s->digits == 2) {
			s->sub = T_AUTH;
			s->digits = 1;
		}
		return A_MORE;
	case T_AUTH_V6:
		if (c == ']') {
			s->v6[s->v6_len] = '\0';
			if (inet_pton(AF_INET6, s->v6, &a6) != 1)
				return bad(s, 400, "bad IPv6 address in target");
			s->sub = T_AUTH_V6_END;
		} else if (s->v6_len + 1 < sizeof(s->v6) &&
		    ((cls[c] & C_HEX) || c == ':' || c == '.'))
			s->v6[s->v6_len++] = (char)c;
		else
			return bad(s, 400, "bad IPv6 address in target");
		return A_MORE;
	case T_AUTH_V6_END:
		if (c != ':')
			return bad(s, 400, "invalid character after IPv6 address");
		s->sub = T_AUTH_PORT;
		s->digits = 0;
		s->port = 0;
		return A_MORE;
	default:	/* T_AUTH_PORT */
		if (!(cls[c] & C_DIGIT))
			return bad(s, 400, "invalid port in request target");
		s->port = s->port * 10 + (unsigned int)(c - '0');
		if (s->port > 65535)
			return bad(s, 400, "port out of range in request target");
		return A_MORE;
	}
}

/* Checks one request-target byte against the form the method needs. */
static int
target_byte(struct reqscan *s, unsigned char c)
{
	switch (s->sub) {
	case T_START:
		if (s->method == M_CONNECT) {
			if (c == '[')
				s->sub = T_V6;
			else if (c == ':')
				return bad(s, 400, "CONNECT target must be host:port");
			else
				s->sub = T_HOST;
		} else if (c == '*') {
			if (s->method != M_OPTIONS)
				return bad(s, 400,
				    "'*' target is only allowed with OPTIONS");
			s->sub = T_STAR;
		} else if (c == '/')
			s->sub = T_ORIGIN;
		else if (cls[c] & C_ALPHA)
			s->sub = T_SCHEME;
		else
			return bad(s, 400, "request target must be "
			    "origin-form or absolute-form");
		return A_MORE;
	case T_REST:
		return A_MORE;
	case T_ORIGIN:
		/* evhttp parses "//authority" even in origin-form. */
		if (c == '/') {
			s->sub = T_AUTH;
			s->digits = 0;
		} else
			s->sub = T_REST;
		return A_MORE;
	case T_STAR:
		return bad(s, 400, "'*' target is only allowed alone");
	case T_SCHEME:
		if (c == ':')
			s->sub = T_COLON;
		else if (!(cls[c] & C_SCHEME))
			return bad(s, 400, "request target must be "
			    "origin-form or absolute-form");
		return A_MORE;
	case T_COLON:
	case T_SLASH:
		if (c != '/')
			return bad(s, 400, "request target must be "
			    "origin-form or absolute-form");
		s->sub = s->sub == T_COLON ? T_SLASH : T_AUTH;
		s->digits = 0;
		return A_MORE;
	case T_AUTH:
	case T_AUTH_PCT:
	case T_AUTH_V6:
	case T_AUTH_V6_END:
	case T_AUTH_PORT:
		return authority_byte(s, c);
	case T_HOST:
		if (c == ':')
			s->sub = T_PORT;
		return A_MORE;
	case T_V6:
		if (c == ']')
			s->sub = T_V6_END;
		return A_MORE;
	case T_V6_END:
		if (c != ':')
			return bad(s, 400, "CONNECT target must be host:port");
		s->sub = T_PORT;
		return A_MORE;
	case T_PORT:
		if (!(cls[c] & C_DIGIT) || ++s->digits > MAX_PORT_DIGITS)
			return bad(s, 400, "CONNECT target must be host:port");
		s->port = s->port * 10 + (unsigned int)(c - '0');
		return A_MORE;
	}
	return bad(s, 400, "invalid request target");
}

/* Ends the request-target at its SP. */
static int
target_end(struct reqscan *s)
{
	if (s->sub == T_START)
		return bad(s, 400, "empty request target");
	if (s->method == M_CONNECT) {
		if (s->sub != T_PORT || s->digits == 0 || s->port == 0 ||
		    s->port > 65535)
			return bad(s, 400, "CONNECT target must be host:port");
	} else if (s->sub == T_AUTH_V6 || s->sub == T_AUTH_PCT)
		return bad(s, 400, s->sub == T_AUTH_V6 ?
		    "bad IPv6 address in target" :
		    "bad percent-encoding in target host");
	else if (s->sub >= T_AUTH)
		s->sub = T_REST;	/* an authority with no path */
	else if (s->sub != T_REST && s->sub != T_STAR && s->sub != T_ORIGIN)
		return bad(s, 400,
		    "request target must be origin-form or absolute-form");
	s->digits = 0;
	return A_MORE;
}

/* Checks one byte of "HTTP/x.y" CRLF; a well-formed version other than 1.0 and 1.1 is 505. */
static int
version_byte(struct reqscan *s, unsigned char c)
{
	int pos = s->digits++;

	if (pos < 5) {
		if (c != "HTTP/"[pos])
			return bad(s, 400, "malformed HTTP version");
	} else if (pos == 5 || pos == 7) {
		if (!(cls[c] & C_DIGIT))
			return bad(s, 400, "malformed HTTP version");
		if (pos == 5)
			s->major = c - '0';
		else
			s->minor = c - '0';
	} else if (pos == 6) {
		if (c != '.')
			return bad(s, 400, "malformed HTTP version");
	} else if (pos == 8) {
		if (c == '\n')
			return bad(s, 400, "line ends in a bare LF");
		if (c != '\r')
			return bad(s, 400, "malformed HTTP version");
	} else {
		if (c != '\n')
			return bad(s, 400, "CR not followed by LF");
		if (s->major != 1 || s->minor > 1)
			return bad(s, 505, "HTTP version not supported");
		/* evhttp refuses lines shorter than "GET / HTTP/1.0". */
		if (s->head_len < REQUEST_LINE_MIN + 2)
			return bad(s, 400, "request line too short");
		s->state = S_FIELD;
	}
	return A_MORE;
}

/* Ends a field name at its colon: recognises the fields we read and rejects repeats. */
static int
name_end(struct reqscan *s, uint64_t colon)
{
	const char *t = s->token;
	size_t len = s->token_len;

	if (len == 4 && memcmp(t, "host", 4) == 0) {
		if (++s->n_host > 1)
			return bad(s, 400, "duplicate Host header");
		s->field = F_HOST;
	} else if (len == 14 && memcmp(t, "content-length", 14) == 0) {
		if (++s->n_content_length > 1)
			return bad(s, 400, "duplicate Content-Length header");
		if (s->n_transfer_encoding > 0)
			goto both;
		s->field = F_CONTENT_LENGTH;
		if (s->mark != NULL && !s->mark(s->mark_arg, colon - len))
			return bad(s, 500, "framing field out of reach");
	} else if (len == 17 && memcmp(t, "transfer-encoding", 17) == 0) {
		if (s->minor == 0)
			return bad(s, 400,
			    "Transfer-Encoding in an HTTP/1.0 request");
		if (++s->n_transfer_encoding > 1)
			return bad(s, 400,
			    "duplicate Transfer-Encoding header");
		if (s->n_content_length > 0)
			goto both;
		if (!may_have_body(s->method))
			return bad(s, 400,
			    "request body not allowed for this method");
		s->field = F_TRANSFER_ENCODING;
		if (s->mark != NULL && !s->mark(s->mark_arg, colon - len))
			return bad(s, 500, "framing field out of reach");
	} else if (len == 6 && memcmp(t, "expect", 6) == 0)
		s->field = F_EXPECT;
	else if (len == 19 && s->body_check != NULL &&
	    memcmp(t, "proxy-authorization", 19) == 0 && s->n_cred++ == 0)
		s->field = F_PROXY_AUTH;
	else
		s->field = F_OTHER;
	s->sub = V_START;
	s->match = 0;
	s->digits = 0;
	return A_MORE;

both:
	return bad(s, 400, "both Content-Length and Transfer-Encoding");
}

/* Ends one Transfer-Encoding list element: chunked may only be the last. */
static int
element_end(struct reqscan *s)
{
	if (s->chunked_last)
		return bad(s, 400, "chunked must be the last transfer coding");
	s->chunked_last = s->match == 7 && s->sub != V_START &&
	    s->sub != V_LEAD;
	s->elements++;
	return A_MORE;
}

/*
 * Reads one value byte (not CR, LF or a control) of a field we care about.
 * evhttp strips only SP before a value and then compares Transfer-Encoding,
 * Expect and Host exactly, so a HTAB there would make it disagree with us.
 */
static int
value_byte(struct reqscan *s, unsigned char c)
{
	const char *word;
	bool ws = (cls[c] & C_WS) != 0;

	/* Credentials are ours to read, and auth_check() skips a tab. */
	if (s->sub == V_START && c == '\t' && s->field != F_PROXY_AUTH)
		return bad(s, 400, "tab before a header value");
	if (ws && (s->sub == V_START || s->sub == V_LEAD))
		return A_MORE;

	switch (s->field) {
	case F_HOST:
		s->sub = V_WORD;
		return A_MORE;
	case F_PROXY_AUTH:
		/* One past the limit says "cut": no user has such a value. */
		if (s->cred_len <= REQSCAN_CRED_MAX)
			s->cred[s->cred_len++] = (char)c;
		s->sub = V_WORD;
		return A_MORE;
	case F_CONTENT_LENGTH:
		if (ws) {
			s->sub = V_TRAIL;
			return A_MORE;
		}
		if (!(cls[c] & C_DIGIT) || s->sub == V_TRAIL)
			return bad(s, 400, "invalid Content-Length value");
		if (++s->digits > MAX_CL_DIGITS)
			return bad(s, 400, "Content-Length value too long");
		s->content_length = s->content_length * 10 + (c - '0');
		s->sub = V_WORD;
		return A_MORE;
	case F_TRANSFER_ENCODING:
		if (c == ',') {
			if (element_end(s) != A_MORE)
				return A_FAIL;
			s->sub = V_LEAD;
			s->match = 0;
			return A_MORE;
		}
		word = "chunked";
		break;
	default:
		word = "100-continue";
		break;
	}

	/* Transfer-Encoding element or Expect: match word, OWS trimmed. */
	if (ws) {
		if (s->sub == V_WORD)
			s->sub = V_TRAIL;
		return A_MORE;
	}
	if (s->sub == V_TRAIL)
		s->match = -1;
	s->sub = V_WORD;
	if (s->match >= 0) {
		if (word[s->match] != '\0' &&
		    (c >= 'A' && c <= 'Z' ? c | 0x20 : c) == word[s->match])
			s->match++;
		else
			s->match = -1;
	}
	return A_MORE;
}

/* Ends a field line: gives the verdict on the value of a field we read. */
static int
value_end(struct reqscan *s)
{
	switch (s->field) {
	case F_HOST:
		s->host_empty = s->sub != V_WORD && s->sub != V_TRAIL;
		break;
	case F_CONTENT_LENGTH:
		if (s->digits == 0)
			return bad(s, 400, "invalid Content-Length value");
		break;
	case F_TRANSFER_ENCODING:
		if (element_end(s) != A_MORE)
			return A_FAIL;
		if (!s->chunked_last || s->elements != 1)
			return bad(s, 501, "unsupported transfer coding");
		s->chunked = true;
		break;
	case F_EXPECT:
		if (s->match != 12)
			s->expect_bad = true;
		break;
	}
	s->field = F_OTHER;
	s->state = S_FIELD;
	return A_MORE;
}

/* The head is complete and its lines are valid: checks the request as a whole. */
static int
head_end(struct reqscan *s)
{
	if (s->minor == 1 && s->n_host == 0)
		return bad(s, 400, "missing Host header");
	if (s->minor == 1 && s->host_empty)
		return bad(s, 400, "empty Host header");
	if (!may_have_body(s->method) && (s->chunked || s->content_length > 0))
		return bad(s, 400, "request body not allowed for this method");
	if (s->content_length > s->limits.max_body_size)
		return bad(s, 413, "request body too large");
	if (s->expect_bad)
		return bad(s, 417, "unsupported expectation");
	if (s->body_check != NULL && (s->chunked || s->content_length > 0)) {
		const char *why = NULL;
		int status;

		s->cred[s->cred_len] = '\0';
		if ((status = s->body_check(s->body_check_arg, s->n_cred > 0 ?
		    s->cred : NULL, &why)) != 0)
			return bad(s, status, why);
	}

	if (s->method == M_EXT) {
		if (s->ext_n == REQSCAN_EXT_QUEUE)
			return bad(s, 501, "too many pipelined requests with "
			    "extension methods");
		memcpy(s->ext_queue[(s->ext_first + s->ext_n++) %
		    REQSCAN_EXT_QUEUE], s->ext_method, sizeof(s->ext_method));
	}
	if (s->method == M_CONNECT) {
		/* evhttp would wait for the body, and the tunnel never get it. */
		if (s->chunked || s->content_length > 0)
			return bad(s, 400, "CONNECT with a body");
		s->requests++;
		s->state = S_TUNNEL;
	} else if (s->chunked) {
		s->state = S_SIZE;
		s->digits = 0;
		s->body_left = 0;
		s->body_total = 0;
	} else if (s->content_length > 0) {
		s->state = S_BODY;
		s->body_left = s->content_length;
	} else
		next_request(s);
	return A_MOVE;
}

/* Ends a chunk-size line: the size is checked against the body limit before any data passes. */
static int
size_end(struct reqscan *s)
{
	if (s->body_left == 0) {
		s->state = S_TRAILER;
		s->head_len = 0;	/* now counts the trailer section */
		return A_MOVE;
	}
	if (s->body_left > s->limits.max_body_size - s->body_total)
		return bad(s, 413, "request body too large");
	s->body_total += s->body_left;
	s->state = S_DATA;
	return A_MOVE;
}

/*
 * How many bytes from p[i] on, up to p[n], are of class mask: at most as
 * many as the head still has room for.  The runs below take them without
 * a state step each, so they must be bytes whose step would change
 * nothing but the count.
 */
static size_t
head_run(const struct reqscan *s, const unsigned char *p, size_t i,
    size_t n, unsigned int mask)
{
	size_t room = s->limits.max_header_size - s->head_len;
	size_t end = n - i > room ? i + room : n;
	size_t j;

	for (j = i; j < end && (cls[p[j]] & mask); j++)
		;
	return j - i;
}

/* Appends the token bytes p[0..len) (a method, or a name lower-cased). */
static void
token_add(struct reqscan *s, const unsigned char *p, size_t len, bool lower)
{
	size_t k;

	for (k = 0; k < len && s->token_len < sizeof(s->token); k++)
		s->token[s->token_len++] = (char)(lower && p[k] >= 'A' &&
		    p[k] <= 'Z' ? p[k] | 0x20 : p[k]);
	/* One past the end says "too long". */
	if (k < len)
		s->token_len = sizeof(s->token) + 1;
}

/*
 * After a target byte: the bytes from p[i] on that keep the target in its
 * sub-state, taken at once (those of an absolute-form target, mostly).
 * Returns how many.
 */
static size_t
target_run(struct reqscan *s, const unsigned char *p, size_t i, size_t n)
{
	size_t r = 0, end;
	unsigned int port;

	switch (s->sub) {
	case T_REST:
		r = head_run(s, p, i, n, C_VCHAR);
		break;
	case T_SCHEME:
		r = head_run(s, p, i, n, C_SCHEME);
		break;
	case T_AUTH:
		if ((r = head_run(s, p, i, n, C_REGNAME)) > 0)
			s->digits = 1;
		break;
	case T_AUTH_PORT:
		/* Up to the digit that would overflow: that one fails by itself. */
		end = head_run(s, p, i, n, C_DIGIT);
		for (port = s->port; r < end; r++) {
			if (port * 10 + (unsigned int)(p[i + r] - '0') > 65535)
				break;
			port = port * 10 + (unsigned int)(p[i + r] - '0');
		}
		s->port = port;
		break;
	}
	s->head_len += r;
	return r;
}

/*
 * "HTTP/1.0" or "HTTP/1.1" and CRLF whole at p[0..n): takes it at once
 * when version_byte() would take it byte by byte without a complaint (the
 * first byte is counted).  Returns the bytes taken, 0 or 10.
 */
static size_t
version_line(struct reqscan *s, const unsigned char *p, size_t n)
{
	if (s->digits != 0 || n < 10 ||
	    s->limits.max_header_size - s->head_len < 9 ||
	    s->head_len + 9 < REQUEST_LINE_MIN + 2 ||
	    memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != '\r' || p[9] != '\n')
		return 0;
	s->major = 1;
	s->minor = p[7] - '0';
	s->digits = 10;
	s->head_len += 9;
	s->state = S_FIELD;
	return 10;
}

/*
 * Scans n bytes, one state step per byte except
 * for runs of plain target or value bytes.  Stops after the byte that asks
 * for an action; *used is the number of bytes scanned.
 */
static int
scan(struct reqscan *s, const unsigned char *p, size_t n, size_t *used)
{
	size_t i = 0, j;
	int a = A_MORE;
	unsigned char c;

	while (i < n && a == A_MORE) {
		c = p[i];
		if (IN_HEAD(s->state)) {
			if (s->head_len >= s->limits.max_header_size) {
				if (IN_LINE1(s->state))
					a = bad(s, 414, "request line too long");
				else
					a = bad(s, 431, "request header too large");
				break;
			}
			s->head_len++;
		} else if (s->state >= S_TRAILER && s->state <= S_TVALUE_LF) {
			if (s->head_len >= s->limits.max_header_size) {
				a = bad(s, 431, "request trailers too large");
				break;
			}
			s->head_len++;
		}

		switch (s->state) {
		case S_IDLE:
			/* evhttp fails on an empty line where a request line belongs. */
			if (c == '\r' || c == '\n') {
				a = bad(s, 400, "empty line before the request line");
				break;
			}
			if (s->refuse_status != 0) {
				a = bad(s, s->refuse_status, s->refuse_why);
				break;
			}
			/* The first byte of a head: scan it as such. */
			s->state = S_METHOD;
			s->token_len = 0;
			continue;

		case S_METHOD:
			if (cls[c] & C_TCHAR) {
				/* c is counted; take the run that follows. */
				j = head_run(s, p, i + 1, n, C_TCHAR);
				token_add(s, p + i, j + 1, false);
				s->head_len += j;
				i += j + 1;
				continue;
			} else if (c == ' ') {
				a = method_end(s);
				s->state = S_TARGET;
			} else
				a = bad(s, 400, "invalid character in method");
			break;
		case S_TARGET:
			if (c == ' ') {
				a = target_end(s);
				s->state = S_VERSION;
			} else if (!(cls[c] & C_VCHAR))
				a = bad(s, 400,
				    "invalid character in request target");
			else if ((a = target_byte(s, c)) == A_MORE) {
				i++;
				i += target_run(s, p, i, n);
				continue;
			}
			break;
		case S_VERSION:
			if ((j = version_line(s, p + i, n - i)) > 0) {
				i += j;
				continue;
			}
			a = version_byte(s, c);
			break;

		case S_FIELD:
			if (c == '\r')
				s->state = S_HEAD_LF;
			else if (c == '\n')
				a = bad(s, 400, "line ends in a bare LF");
			else if (cls[c] & C_WS)
				a = bad(s, 400, "folded header line (obs-fold)");
			else if (c == ':')
				a = bad(s, 400, "empty header name");
			else if (cls[c] & C_TCHAR) {
				s->token_len = 0;
				s->state = S_NAME;
				/* c is counted; take the run that follows. */
				j = head_run(s, p, i + 1, n, C_TCHAR);
				token_add(s, p + i, j + 1, true);
				s->head_len += j;
				i += j + 1;
				continue;
			} else
				a = bad(s, 400, "invalid character in header name");
			break;
		case S_NAME:
			if (cls[c] & C_TCHAR) {
				j = head_run(s, p, i + 1, n, C_TCHAR);
				token_add(s, p + i, j + 1, true);
				s->head_len += j;
				i += j + 1;
				continue;
			} else if (c == ':') {
				a = name_end(s, s->offset + i);
				s->state = S_VALUE;
			} else if (cls[c] & C_WS)
				a = bad(s, 400, "whitespace before colon");
			else if (c == '\r' || c == '\n')
				a = bad(s, 400, "header line without colon");
			else
				a = bad(s, 400, "invalid character in header name");
			break;
		case S_VALUE:
			/*
			 * Of a Host value only emptiness matters: once a word
			 * began, every value byte leaves it as it is.
			 */
			if ((s->field == F_OTHER ||
			    (s->field == F_HOST && s->sub == V_WORD)) &&
			    (cls[c] & C_VALUE)) {
				/* c is counted; take the run that follows. */
				j = head_run(s, p, i + 1, n, C_VALUE);
				s->head_len += j;
				i += j + 1;
				continue;
			}
			if (c == '\r')
				s->state = S_VALUE_LF;
			else if (c == '\n')
				a = bad(s, 400, "line ends in a bare LF");
			else if (!(cls[c] & C_VALUE))
				a = bad(s, 400,
				    "header value contains a control character");
			else
				a = value_byte(s, c);
			break;
		case S_VALUE_LF:
			if (c != '\n')
				a = bad(s, 400, "CR not followed by LF");
			else
				a = value_end(s);
			break;
		case S_HEAD_LF:
			if (c != '\n')
				a = bad(s, 400, "CR not followed by LF");
			else
				a = head_end(s);
			break;

		case S_SIZE:
			if (cls[c] & C_HEX) {
				if (++s->digits > MAX_CHUNK_DIGITS) {
					a = bad(s, 400, "chunk size too long");
					break;
				}
				s->body_left = s->body_left << 4 |
				    (uint64_t)(c <= '9' ? c - '0' :
				    (c | 0x20) - 'a' + 10);
			} else if (c == '\r' && s->digits > 0)
				s->state = S_SIZE_LF;
			else if (c == '\n' && s->digits > 0)
				a = bad(s, 400, "line ends in a bare LF");
			else if (c == ';' && s->digits > 0)
				a = bad(s, 400, "chunk extensions are not supported");
			else
				a = bad(s, 400, "invalid chunk size");
			break;
		case S_SIZE_LF:
			if (c != '\n')
				a = bad(s, 400, "CR not followed by LF");
			else
				a = size_end(s);
			break;
		case S_DATA_CR:
			if (c != '\r')
				a = bad(s, 400, "chunk data not followed by CRLF");
			else
				s->state = S_DATA_LF;
			break;
		case S_DATA_LF:
			if (c != '\n')
				a = bad(s, 400, "chunk data not followed by CRLF");
			else {
				s->state = S_SIZE;
				s->digits = 0;
				s->body_left = 0;
				a = A_MOVE;
			}
			break;
		/*
		 * Trailer fields (RFC 9112 7.1.2): checked as head fields are,
		 * within max_header_size in all.  ferryd passes them on or
		 * drops them; none of them is ever read for framing.
		 */
		case S_TRAILER:
			if (c == '\r')
				s->state = S_TRAILER_LF;
			else if (c == '\n')
				a = bad(s, 400, "line ends in a bare LF");
			else if (cls[c] & C_WS)
				a = bad(s, 400, "folded trailer line (obs-fold)");
			else if (cls[c] & C_TCHAR)
				s->state = S_TNAME;
			else
				a = bad(s, 400, "invalid character in trailer name");
			break;
		case S_TNAME:
			if (c == ':')
				s->state = S_TVALUE;
			else if (!(cls[c] & C_TCHAR))
				a = bad(s, 400, c == ' ' || c == '\t' ?
				    "whitespace before colon" : c == '\r' ||
				    c == '\n' ? "trailer line without colon" :
				    "invalid character in trailer name");
			break;
		case S_TVALUE:
			if (c == '\r')
				s->state = S_TVALUE_LF;
			else if (!(cls[c] & C_VALUE))
				a = bad(s, 400, c == '\n' ? "line ends in a bare LF" :
				    "trailer value contains a control character");
			break;
		case S_TVALUE_LF:
			if (c != '\n')
				a = bad(s, 400, "CR not followed by LF");
			else
				s->state = S_TRAILER;
			break;
		case S_TRAILER_LF:
			if (c != '\n')
				a = bad(s, 400, "CR not followed by LF");
			else {
				next_request(s);
				a = A_MOVE;
			}
			break;

		default:
			/* S_BODY, S_DATA, S_TUNNEL, S_FAILED: not scanned. */
			*used = i;
			return A_MORE;
		}
		i++;
	}
	*used = i;
	return a;
}

/* Starts a scanner on a new connection, before its first byte. */
void
reqscan_init(struct reqscan *s, const struct reqscan_limits *limits)
{
	memset(s, 0, sizeof(*s));
	s->limits = *limits;
	s->state = S_IDLE;
	s->field = F_OTHER;
}

/* Counts body bytes through without looking at them. */
static size_t
skip_body(struct reqscan *s, size_t n)
{
	size_t take = (uint64_t)n < s->body_left ? n : (size_t)s->body_left;

	s->body_left -= take;
	s->offset += take;
	if (s->body_left == 0) {
		if (s->state == S_BODY) {
			next_request(s);
			s->request_start = s->offset;
		} else
			s->state = S_DATA_CR;
	}
	return take;
}

/* Scans n more bytes of the stream, each once, in order. */
int
reqscan_feed(struct reqscan *s, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	uint64_t requests;
	size_t used;
	int a;

	while (n > 0 && s->state != S_FAILED) {
		if (s->state == S_BODY || s->state == S_DATA) {
			used = skip_body(s, n);
		} else if (s->state == S_TUNNEL) {
			s->offset += n;
			return 0;
		} else {
			requests = s->requests;
			a = scan(s, u, n, &used);
			s->offset += used;
			if (a == A_FAIL) {
				s->state = S_FAILED;
				break;
			}
			if (s->requests != requests && s->state == S_IDLE)
				s->request_start = s->offset;
		}
		u += used;
		n -= used;
	}
	return s->state == S_FAILED ? -1 : 0;
}

bool
reqscan_take_method(struct reqscan *s, char *name, size_t size)
{
	if (s->ext_n == 0 || size == 0)
		return false;
	snprintf(name, size, "%s", s->ext_queue[s->ext_first]);
	s->ext_first = (s->ext_first + 1) % REQSCAN_EXT_QUEUE;
	s->ext_n--;
	return true;
}

int
reqscan_set_body_check(struct reqscan *s, reqscan_body_check check,
    void *arg)
{
	if (check != NULL && s->cred == NULL &&
	    (s->cred = malloc(REQSCAN_CRED_MAX + 2)) == NULL)
		return -1;
	s->body_check = check;
	s->body_check_arg = arg;
	return 0;
}

void
reqscan_clear(struct reqscan *s)
{
	free(s->cred);
	s->cred = NULL;
	s->body_check = NULL;
}

void
reqscan_refuse(struct reqscan *s, int status, const char *why)
{
	s->refuse_status = status;
	s->refuse_why = why;
}

/* Fails the stream from outside; a first status set by the scanner is kept. */
int
reqscan_fail(struct reqscan *s, int status, const char *why)
{
	if (s->state != S_FAILED) {
		s->status = status;
		s->why = why;
		s->state = S_FAILED;
	}
	return -1;
}

void
reqscan_set_mark(struct reqscan *s, reqscan_mark_fn mark, void *arg)
{
	s->mark = mark;
	s->mark_arg = arg;
}

/* True from the first head byte to its final LF. */
bool
reqscan_in_head(const struct reqscan *s)
{
	return IN_HEAD(s->state);
}
