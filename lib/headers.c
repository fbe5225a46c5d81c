/*
 * headers.c - decides which header fields are hop-by-hop (RFC 9110 section
 * 7.6.1) so that the exchange forwards only end-to-end fields, in either
 * direction.  Pure string logic over an evkeyvalq; nothing is modified.
 */
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "headers.h"

/*
 * Always hop-by-hop, whatever Connection says; Content-Length is re-framed.
 * Indexed by name length, so that each field of every message costs one
 * comparison or two, not ten.
 */
static const char *const hop_by_len[20][2] = {
	[2] = { "TE" },
	[7] = { "Trailer", "Upgrade" },
	[10] = { "Connection", "Keep-Alive" },
	[14] = { "Content-Length" },
	[16] = { "Proxy-Connection" },
	[17] = { "Transfer-Encoding" },
	[18] = { "Proxy-Authenticate" },
	[19] = { "Proxy-Authorization" },
};

/* Optional whitespace in field values (RFC 9110 section 5.6.3). */
static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Empty elements are returned with *len == 0. */
bool
headers_list_next(const char **p, const char **start, size_t *len)
{
	const char *s = *p, *e;

	if (*s == '\0')
		return false;
	while (is_ows(*s))
		s++;
	e = s + strcspn(s, ",");
	*p = (*e == ',') ? e + 1 : e;
	while (e > s && is_ows(e[-1]))
		e--;
	*start = s;
	*len = (size_t)(e - s);
	return true;
}

/* Adds one lower-cased token to tok unless it is already there. */
static void
tokens_add(struct headers_conn_tokens *tok, const char *s, size_t len)
{
	char name[64];
	size_t i;

	if (len >= sizeof(name)) {
		tok->overflow = true;
		return;
	}
	for (i = 0; i < len; i++) {
		name[i] = (s[i] >= 'A' && s[i] <= 'Z') ?
		    s[i] - 'A' + 'a' : s[i];
	}
	name[len] = '\0';

	if (strcmp(name, "close") == 0)
		tok->close = true;
	else if (strcmp(name, "keep-alive") == 0)
		tok->keep_alive = true;

	for (i = 0; i < tok->n; i++) {
		if (strcmp(tok->names[i], name) == 0)
			return;
	}
	if (tok->n == HEADERS_MAX_TOKENS) {
		tok->overflow = true;
		return;
	}
	memcpy(tok->names[tok->n++], name, len + 1);
}

/* Resets tok and fills it from every Connection field of h, in order. */
void
headers_conn_tokens(const struct evkeyvalq *h,
    struct headers_conn_tokens *tok)
{
	const struct evkeyval *kv;

	headers_conn_tokens_reset(tok);
	TAILQ_FOREACH(kv, h, next)
		if (strcasecmp(kv->key, "Connection") == 0)
			headers_conn_tokens_add(tok, kv->value);
}

void
headers_conn_tokens_reset(struct headers_conn_tokens *tok)
{
	/* Not memset: the name table is large and only n entries are read. */
	tok->n = 0;
	tok->close = tok->keep_alive = tok->overflow = false;
}

void
headers_conn_tokens_add(struct headers_conn_tokens *tok, const char *value)
{
	const char *p = value, *s;
	size_t len;

	while (headers_list_next(&p, &s, &len)) {
		if (len > 0)
			tokens_add(tok, s, len);
	}
}

/*
 * True when name must not be forwarded.  Host never is hop-by-hop, even
 * when a Connection header lists it.  tok may be NULL (no Connection
 * header).  On overflow the names that did fit still count and every
 * other unknown name is forwarded: dropping all unknown fields would strip
 * Content-Type and the like from a message, which hurts more than passing
 * on a field that a peer with 33 Connection tokens wanted dropped.
 */
bool
headers_is_hop_by_hop(const char *name,
    const struct headers_conn_tokens *tok)
{
	return headers_is_hop_by_hop_len(name, strlen(name), tok);
}

bool
headers_is_hop_by_hop_len(const char *name, size_t len,
    const struct headers_conn_tokens *tok)
{
	size_t i;

	if (len < sizeof(hop_by_len) / sizeof(hop_by_len[0])) {
		for (i = 0; i < 2 && hop_by_len[len][i] != NULL; i++)
			if (strncasecmp(name, hop_by_len[len][i], len) == 0)
				return true;
	}
	if (len == 4 && strncasecmp(name, "Host", 4) == 0)
		return false;
	if (tok == NULL)
		return false;
	/* A token is shorter than its slot: a longer name is none of them. */
	if (len >= sizeof(tok->names[0]))
		return false;
	for (i = 0; i < tok->n; i++) {
		if (strncasecmp(name, tok->names[i], len) == 0 &&
		    tok->names[i][len] == '\0')
			return true;
	}
	return false;
}

/* Comma-list membership, as for Connection or Transfer-Encoding values. */
/* True when the list value has the element token (tlen bytes). */
static bool
list_has_len(const char *value, const char *token, size_t tlen)
{
	const char *p = value, *s;
	size_t len;

	while (headers_list_next(&p, &s, &len)) {
		if (len == tlen && strncasecmp(s, token, len) == 0)
			return true;
	}
	return false;
}

bool
headers_list_has(const char *value, const char *token)
{
	return value != NULL && token != NULL &&
	    list_has_len(value, token, strlen(token));
}

/*
 * Steps *p past a Via comment at *p ("(" ... ")", nested, with
 * quoted-pairs).  One never closed ends at its first comma: otherwise a
 * client's "(" would hide every hop a proxy that merges Via fields
 * appends after it, and with them a loop.
 */
static void
skip_comment(const char **p)
{
	const char *s = *p, *comma = NULL;
	int depth = 0;

	do {
		if (*s == '\\' && s[1] != '\0') {
			/* A quoted-pair; its comma too ends one never closed. */
			if (*++s == ',' && comma == NULL)
				comma = s;
		} else if (*s == ',' && comma == NULL)
			comma = s;
		else if (*s == '(')
			depth++;
		else if (*s == ')')
			depth--;
		s++;
	} while (*s != '\0' && depth > 0);
	*p = depth > 0 && comma != NULL ? comma : s;
}

unsigned
headers_via_count(const char *value, const char *received_by)
{
	const char *p = value, *tok[2];
	size_t len[2], n;
	unsigned count = 0;
	int i;

	if (value == NULL || received_by == NULL || *received_by == '\0')
		return 0;
	n = strlen(received_by);
	while (*p != '\0') {
		/* One element: received-protocol RWS received-by [RWS comment]. */
		for (i = 0; i < 2; i++) {
			while (is_ows(*p))
				p++;
			tok[i] = p;
			while (*p != '\0' && *p != ',' && *p != '(' && !is_ows(*p))
				p++;
			len[i] = (size_t)(p - tok[i]);
		}
		if (len[0] > 0 && len[1] == n &&
		    strncasecmp(tok[1], received_by, n) == 0)
			count++;
		/* The rest of the element, its comment included. */
		while (*p != '\0' && *p != ',') {
			if (*p == '(')
				skip_comment(&p);
			else
				p++;
		}
		if (*p == ',')
			p++;
	}
	return count;
}

bool
headers_list_within(const char *value, const char *list)
{
	const char *p = value, *s;
	size_t len, n = 0;

	if (value == NULL || list == NULL)
		return false;
	while (headers_list_next(&p, &s, &len)) {
		if (len == 0)
			continue;
		if (!list_has_len(list, s, len))
			return false;
		n++;
	}
	return n > 0;
}

/* True when protocol (len bytes of an Upgrade list) is in protocols. */
static bool
protocol_allowed(char *const *protocols, const char *protocol, size_t len)
{
	for (; *protocols != NULL; protocols++) {
		size_t n = strlen(*protocols);

		/* "websocket" allows every version of it ("websocket/13"). */
		if ((n == len || (strchr(*protocols, '/') == NULL && n < len &&
		    protocol[n] == '/')) && strncasecmp(*protocols, protocol, n) == 0)
			return true;
	}
	return false;
}

size_t
headers_upgrade_filter(const char *value, char *const *protocols, char *out,
    size_t outlen)
{
	const char *p = value, *s;
	size_t len, used = 0;

	if (outlen > 0)
		out[0] = '\0';
	while (headers_list_next(&p, &s, &len)) {
		if (len == 0 || !protocol_allowed(protocols, s, len) ||
		    used + len + 3 > outlen)
			continue;
		if (used > 0) {
			memcpy(out + used, ", ", 2);
			used += 2;
		}
		memcpy(out + used, s, len);
		used += len;
		out[used] = '\0';
	}
	return used;
}

void
headers_writer_init(struct headers_writer *w, struct evbuffer *out)
{
	w->out = out;
	w->len = 0;
}

void
headers_writer_flush(struct headers_writer *w)
{
	if (w->len > 0)
		evbuffer_add(w->out, w->buf, w->len);
	w->len = 0;
}

void
headers_write(struct headers_writer *w, const char *p, size_t n)
{
	if (w->len + n > sizeof(w->buf)) {
		headers_writer_flush(w);
		/* Longer than the whole buffer: straight to out. */
		if (n > sizeof(w->buf)) {
			evbuffer_add(w->out, p, n);
			return;
		}
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void
headers_write_str(struct headers_writer *w, const char *s)
{
	headers_write(w, s, strlen(s));
}

size_t
headers_format_u64(char *buf, uint64_t v)
{
	char digits[HEADERS_U64_MAX];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(buf, digits + i, sizeof(digits) - i);
	return sizeof(digits) - i;
}

void
headers_write_u64(struct headers_writer *w, uint64_t v)
{
	char digits[HEADERS_U64_MAX];

	headers_write(w, digits, headers_format_u64(digits, v));
}

void
headers_write_field(struct headers_writer *w, const char *name,
    const char *value)
{
	headers_write_field_len(w, name, strlen(name), value, strlen(value));
}

void
headers_write_field_u64(struct headers_writer *w, const char *name,
    uint64_t v)
{
	char digits[HEADERS_U64_MAX];

	headers_write_field_len(w, name, strlen(name), digits,
	    headers_format_u64(digits, v));
}

void
headers_write_field_len(struct headers_writer *w, const char *name,
    size_t name_len, const char *value, size_t value_len)
{
	char *p;

	/* One capacity check per field: a head is mostly fields. */
	if (w->len + name_len + value_len + 4 > sizeof(w->buf)) {
		headers_write(w, name, name_len);
		headers_write(w, ": ", 2);
		headers_write(w, value, value_len);
		headers_write(w, "\r\n", 2);
		return;
	}
	p = w->buf + w->len;
	memcpy(p, name, name_len);
	p += name_len;
	*p++ = ':';
	*p++ = ' ';
	memcpy(p, value, value_len);
	p += value_len;
	*p++ = '\r';
	*p++ = '\n';
	w->len = (size_t)(p - w->buf);
}

/* RFC 9110 5.6.2: token characters. */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/* Fields that steer how a message is framed, routed or trusted. */
static bool
trailer_forbidden(const char *name, size_t len)
{
	static const char *const names[] = {
		"Host", "Authorization", "Cookie", "Set-Cookie", "Expect",
		"Max-Forwards", "Content-Encoding", "Content-Type",
		"Content-Range", "Cache-Control", "WWW-Authenticate", "Age",
		"Date", "Location", "Retry-After", "Vary", "Warning", NULL
	};

	for (size_t i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(name, names[i], len) == 0)
			return true;
	return headers_is_hop_by_hop_len(name, len, NULL);
}

size_t
headers_write_trailers(struct headers_writer *w, struct evbuffer *raw)
{
	size_t len = evbuffer_get_length(raw), n = 0, name_len;
	const char *p, *end, *eol, *colon, *v;

	if (len == 0 || (p = (const char *)evbuffer_pullup(raw, -1)) == NULL)
		return 0;
	end = p + len;
	while (p < end) {
		if ((eol = memchr(p, '\r', (size_t)(end - p))) == NULL)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		name_len = colon != NULL ? (size_t)(colon - p) : 0;
		for (size_t i = 0; i < name_len; i++)
			if (!is_tchar((unsigned char)p[i]))
				name_len = 0;
		if (name_len > 0 && !trailer_forbidden(p, name_len)) {
			for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
				;
			headers_write_field_len(w, p, name_len, v,
			    (size_t)(eol - v));
			n++;
		}
		p = eol + 2;
	}
	return n;
}
