/*
 * http1.c - reads what an origin sends back: the response head (status
 * line and fields), the body framing that follows from it (RFC 9112
 * section 6.3) and chunked bodies.  Strict where a lax reading would let
 * two parties disagree on where a message ends.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "headers.h"
#include "http1.h"

#define CHUNK_LINE_MAX		4096
#define CHUNK_SIZE_DIGITS	15
/* Largest slice handed to evbuffer_remove_buffer(), whose result is an int. */
#define CHUNK_MOVE_MAX		(1U << 30)

/* States of struct http1_chunked; 0 must be the start. */
enum chunk_state {
	CS_SIZE = 0,			/* hex digits of a chunk size */
	CS_SIZE_WS,			/* BWS between the size and ';' */
	CS_EXT,				/* a chunk extension, ignored */
	CS_SIZE_LF,			/* CR seen, LF must follow */
	CS_DATA,			/* c->left data bytes to move */
	CS_DATA_CR,			/* the CRLF after chunk data */
	CS_DATA_LF,
	CS_TRAILER,			/* a trailer line, or the final empty line */
	CS_TRAILER_LF,
	CS_DONE,
	CS_ERROR
};

/* Sets r empty, with no fields, ready for parsing. */
void
http1_response_init(struct http1_response *r)
{
	memset(r, 0, sizeof(*r));
}

/* Frees r's head and leaves r as http1_response_init() does. */
void
http1_response_clear(struct http1_response *r)
{
	free(r->fields);
	http1_response_init(r);
}

void
http1_conn_tokens(const struct http1_response *r,
    struct headers_conn_tokens *tok)
{
	headers_conn_tokens_reset(tok);
	for (size_t i = 0; i < r->n_fields; i++)
		if (HTTP1_FIELD_IS(&r->fields[i], "Connection", 10))
			headers_conn_tokens_add(tok, r->fields[i].value);
}

const char *
http1_find(const struct http1_response *r, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < r->n_fields; i++)
		if (HTTP1_FIELD_IS(&r->fields[i], name, len))
			return r->fields[i].value;
	return NULL;
}

/* tchar of RFC 9110 section 5.6.2. */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A field value or reason byte: HTAB, SP, VCHAR or obs-text. */
static bool
is_text(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* DIGIT, without the locale that isdigit() consults. */
static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parses "HTTP/1.x SP 3DIGIT [SP reason]" (NUL-terminated, no CRLF). */
static int
parse_status_line(const char *line, size_t len, struct http1_response *r,
    const char **why)
{
	const char *reason;
	size_t i, rlen;

	if (len < 12 || memcmp(line, "HTTP/", 5) != 0 || !is_digit(line[5]) ||
	    line[6] != '.' || !is_digit(line[7]) || line[8] != ' ') {
		*why = "malformed status line";
		return -1;
	}
	r->major = line[5] - '0';
	r->minor = line[7] - '0';
	if (r->major != 1 || r->minor > 1) {
		*why = "unsupported HTTP version";
		return -1;
	}
	if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
	    (len > 12 && line[12] != ' ')) {
		*why = "malformed status line";
		return -1;
	}
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 +
	    (line[11] - '0');
	if (r->status < 100 || r->status > 599) {
		*why = "status code out of range";
		return -1;
	}

	reason = len > 12 ? line + 13 : line + len;
	rlen = (size_t)(line + len - reason);
	for (i = 0; i < rlen; i++) {
		if (!is_text((unsigned char)reason[i])) {
			*why = "bad byte in reason phrase";
			return -1;
		}
	}
	if (rlen >= sizeof(r->reason))
		rlen = sizeof(r->reason) - 1;
	memcpy(r->reason, reason, rlen);
	r->reason[rlen] = '\0';
	return 0;
}

/* Parses one "name: value" line in place (line[len] is writable) into r. */
static int
parse_field(char *line, size_t len, struct http1_response *r,
    const char **why)
{
	char *v, *e = line + len;
	size_t i, name_len;

	if (line[0] == ' ' || line[0] == '\t') {
		*why = "obsolete line folding";
		return -1;
	}
	for (i = 0; i < len && is_tchar((unsigned char)line[i]); i++)
		continue;
	if (i == len || line[i] != ':' || i == 0) {
		if (i < len && (line[i] == ' ' || line[i] == '\t'))
			*why = "whitespace before colon";
		else
			*why = "malformed header line";
		return -1;
	}
	line[i] = '\0';
	name_len = i;

	v = line + i + 1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (i = 0; v + i < e; i++) {
		if (!is_text((unsigned char)v[i])) {
			*why = "bad byte in header value";
			return -1;
		}
	}
	*e = '\0';
	r->fields[r->n_fields].name = line;
	r->fields[r->n_fields].name_len = name_len;
	r->fields[r->n_fields].value = v;
	r->n_fields++;
	return 0;
}

/*
 * Folds one Content-Length value (maybe a list of repeats) into *cl;
 * every element must be digits and equal to any value seen before.  Unlike
 * other lists, an empty element ("5,") is an error here.
 */
static int
add_content_length(const char *value, uint64_t *cl, bool *seen,
    const char **why)
{
	const char *s = value, *e, *comma;
	uint64_t v;

	for (;;) {
		comma = strchr(s, ',');
		e = comma != NULL ? comma : s + strlen(s);
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s == e) {
			*why = "malformed Content-Length";
			return -1;
		}
		for (v = 0; s < e; s++) {
			if (!is_digit(*s)) {
				*why = "malformed Content-Length";
				return -1;
			}
			if (v > ((uint64_t)INT64_MAX - (uint64_t)(*s - '0')) /
			    10) {
				*why = "Content-Length too large";
				return -1;
			}
			v = v * 10 + (uint64_t)(*s - '0');
		}
		if (*seen && v != *cl) {
			*why = "conflicting Content-Length";
			return -1;
		}
		*cl = v;
		*seen = true;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

/*
 * Reads one Transfer-Encoding value: whether its last coding is chunked,
 * how many times chunked appears (counted across fields by the caller),
 * and appends every coding but identity to r->codings.
 */
static int
scan_transfer_encoding(struct http1_response *r, const char *value,
    bool *last_chunked, int *n_chunked, bool *any, const char **why)
{
	const char *p = value, *s;
	size_t len, have;

	while (headers_list_next(&p, &s, &len)) {
		if (len == 0)
			continue;
		*any = true;
		*last_chunked = (len == 7 && strncasecmp(s, "chunked", 7) == 0);
		if (*last_chunked)
			(*n_chunked)++;
		if (len == 8 && strncasecmp(s, "identity", 8) == 0)
			continue;
		have = strlen(r->codings);
		if (have + len + 3 > sizeof(r->codings)) {
			*why = "Transfer-Encoding too long";
			return -1;
		}
		snprintf(r->codings + have, sizeof(r->codings) - have, "%s%.*s",
		    have > 0 ? ", " : "", (int)len, s);
	}
	return 0;
}

/* Takes a final chunked off r->codings: ferryd decodes that one. */
static void
drop_final_chunked(struct http1_response *r)
{
	size_t n = strlen(r->codings);
	char *last;

	if (n < 7 || strcasecmp(r->codings + n - 7, "chunked") != 0)
		return;
	last = r->codings + n - 7;
	while (last > r->codings && (last[-1] == ' ' || last[-1] == ','))
		last--;
	*last = '\0';
}

/* Sets r->body, content_length and keep_alive from the parsed head. */
static int
frame_response(struct http1_response *r, bool head_request,
    const char **why)
{
	struct headers_conn_tokens tok;
	const struct http1_field *f;
	bool has_te = false, te_any = false, last_chunked = false;
	bool has_cl = false;
	int n_chunked = 0;
	uint64_t cl = 0;

	headers_conn_tokens_reset(&tok);
	for (f = r->fields; f < r->fields + r->n_fields; f++) {
		if (HTTP1_FIELD_IS(f, "Transfer-Encoding", 17)) {
			has_te = true;
			if (scan_transfer_encoding(r, f->value, &last_chunked,
			    &n_chunked, &te_any, why) != 0)
				return -1;
		} else if (HTTP1_FIELD_IS(f, "Content-Length", 14)) {
			if (add_content_length(f->value, &cl, &has_cl,
			    why) != 0)
				return -1;
		} else if (HTTP1_FIELD_IS(f, "Connection", 10))
			headers_conn_tokens_add(&tok, f->value);
	}
	if (has_te && !te_any) {
		*why = "empty Transfer-Encoding";
		return -1;
	}
	if (n_chunked > 1) {
		*why = "chunked applied twice";
		return -1;
	}
	/* RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding is faulty. */
	if (has_te && r->minor == 0) {
		*why = "Transfer-Encoding in an HTTP/1.0 response";
		return -1;
	}

	if (r->minor >= 1)
		r->keep_alive = !tok.close;
	else
		r->keep_alive = tok.keep_alive && !tok.close;
	/* Both framings present: a smuggling attempt or a broken origin. */
	if (has_te && has_cl)
		r->keep_alive = false;

	r->content_length = has_cl ? cl : 0;
	if (head_request || r->status < 200 || r->status == 204 ||
	    r->status == 304)
		r->body = HTTP1_BODY_NONE;
	else if (has_te) {
		r->content_length = 0;
		r->body = last_chunked ? HTTP1_BODY_CHUNKED : HTTP1_BODY_CLOSE;
		if (last_chunked)
			drop_final_chunked(r);
		r->codings_chunked = n_chunked > 0 && !last_chunked;
	} else if (has_cl)
		r->body = cl == 0 ? HTTP1_BODY_NONE : HTTP1_BODY_LENGTH;
	else
		r->body = HTTP1_BODY_CLOSE;

	if (r->body == HTTP1_BODY_CLOSE)
		r->keep_alive = false;
	return 0;
}

/*
 * Refuses at once what cannot become a status line, before its end has
 * arrived: "HTTP/" must be the start and 1 the major version.
 */
static int
check_prefix(struct evbuffer *buf, size_t len, const char **why)
{
	char pre[7];
	size_t n = len < sizeof(pre) ? len : sizeof(pre);

	evbuffer_copyout(buf, pre, n);
	if (memcmp(pre, "HTTP/", n < 5 ? n : 5) != 0) {
		*why = "not an HTTP response";
		return -1;
	}
	if (n == 7 && memcmp(pre + 5, "1.", 2) != 0) {
		*why = "unsupported HTTP version";
		return -1;
	}
	return 0;
}

/*
 * at holds the n (1 to 3) bytes from an LF at offset pos of the head:
 * notes the first line's end, and whether an empty line ends the head
 * there (LF LF, or LF CR LF).
 */
static bool
ends_head(const char *at, size_t n, size_t pos, size_t *first_eol,
    size_t *head_len)
{
	if (*first_eol == 0)
		*first_eol = pos + 1;
	if (n >= 2 && at[1] == '\n') {
		*head_len = pos + 2;
		return true;
	}
	if (n >= 3 && at[1] == '\r' && at[2] == '\n') {
		*head_len = pos + 3;
		return true;
	}
	return false;
}

/*
 * Looks for the empty line that ends the head within the first limit
 * bytes of buf, from byte from on (what an earlier call searched, less
 * the two bytes an end may straddle), without copying: *head_len is then
 * the head's length with that line.  *first_eol is the length of the
 * first line with its LF, or 0 while that line is incomplete (a value
 * found by an earlier call is kept).
 */
static bool
find_head_end(struct evbuffer *buf, size_t from, size_t limit,
    size_t *head_len, size_t *first_eol)
{
	struct evbuffer_ptr p, start, stop;
	struct evbuffer_iovec v;
	char next[3];
	size_t pos, n;

	/* Most heads arrive in one read: search that piece of memory itself. */
	if (evbuffer_peek(buf, -1, NULL, &v, 1) >= 1 && v.iov_len >= limit) {
		const char *b = v.iov_base, *lf;

		for (pos = from; pos < limit &&
		    (lf = memchr(b + pos, '\n', limit - pos)) != NULL; pos++) {
			pos = (size_t)(lf - b);
			n = limit - pos < 3 ? limit - pos : 3;
			if (ends_head(b + pos, n, pos, first_eol, head_len))
				return true;
		}
		return false;
	}
	if (evbuffer_ptr_set(buf, &stop, limit, EVBUFFER_PTR_SET) != 0 ||
	    evbuffer_ptr_set(buf, &start, from, EVBUFFER_PTR_SET) != 0)
		return false;
	p = evbuffer_search_range(buf, "\n", 1, &start, &stop);
	while (p.pos >= 0) {
		pos = (size_t)p.pos;
		n = (size_t)evbuffer_copyout_from(buf, &p, next, sizeof(next));
		if (n > limit - pos)
			n = limit - pos;
		if (ends_head(next, n, pos, first_eol, head_len))
			return true;
		if (evbuffer_ptr_set(buf, &p, 1, EVBUFFER_PTR_ADD) != 0)
			break;
		p = evbuffer_search_range(buf, "\n", 1, &p, &stop);
	}
	return false;
}

/* Checks the status line alone, while the rest of the head is still coming. */
static int
check_status_line(struct evbuffer *buf, size_t first_eol,
    struct http1_response *r, const char **why)
{
	char *line;
	size_t llen = first_eol - 1;
	int rc;

	line = malloc(first_eol);
	if (line == NULL) {
		*why = "out of memory";
		return -1;
	}
	evbuffer_copyout(buf, line, llen);
	if (llen > 0 && line[llen - 1] == '\r')
		llen--;
	line[llen] = '\0';
	rc = parse_status_line(line, llen, r, why);
	free(line);
	return rc;
}

/*
 * Parses a whole head of len bytes (it ends with an empty line) into r;
 * text is modified in place.
 */
static int
parse_head(char *text, size_t len, struct http1_response *r,
    const char **why)
{
	size_t pos = 0, eol, llen;
	char *lf;

	while ((lf = memchr(text + pos, '\n', len - pos)) != NULL) {
		eol = (size_t)(lf - text);
		llen = eol - pos;
		if (llen > 0 && text[eol - 1] == '\r')
			llen--;
		text[pos + llen] = '\0';
		if (pos == 0) {
			if (parse_status_line(text, llen, r, why) != 0)
				return -1;
		} else if (llen == 0)
			return 0;
		else if (parse_field(text + pos, llen, r, why) != 0)
			return -1;
		pos = eol + 1;
	}
	*why = "response head without an end";
	return -1;
}

/*
 * Parses the head at the front of buf into r (whose previous contents
 * are dropped); buf is drained only on HTTP1_OK.  Until the head is whole
 * only the status line is checked, so bytes that trickle in cost a scan,
 * not a parse.
 */
enum http1_result
http1_parse_response(struct evbuffer *buf, struct http1_response *r,
    bool head_request, size_t max_size, const char **why)
{
	size_t len = evbuffer_get_length(buf), limit, head_len, first_eol, from;
	size_t lines;
	struct evbuffer_ptr p;
	char small[2048], *text;
	int rc;

	/* A head that trickles in is searched once, not from its start each time. */
	from = r->scanned > 2 ? r->scanned - 2 : 0;
	first_eol = r->first_eol;
	http1_response_clear(r);
	if (len == 0)
		return HTTP1_MORE;
	if (check_prefix(buf, len, why) != 0)
		return HTTP1_ERROR;

	limit = len < max_size ? len : max_size;
	if (!find_head_end(buf, from, limit, &head_len, &first_eol)) {
		if (first_eol != 0 &&
		    check_status_line(buf, first_eol, r, why) != 0) {
			http1_response_clear(r);
			return HTTP1_ERROR;
		}
		http1_response_clear(r);
		if (len >= max_size) {
			*why = "response head too large";
			return HTTP1_ERROR;
		}
		r->scanned = limit;
		r->first_eol = first_eol;
		return HTTP1_MORE;
	}

	/*
	 * One allocation: the field array (at most a field per LF), then the
	 * text, which the fields point into.
	 */
	lines = 0;
	if (head_len <= sizeof(small)) {
		evbuffer_copyout(buf, small, head_len);
		for (char *q = small; (q = memchr(q, '\n',
		    head_len - (size_t)(q - small))) != NULL; q++)
			lines++;
	} else {
		for (p = evbuffer_search(buf, "\n", 1, NULL); p.pos >= 0 &&
		    (size_t)p.pos < head_len; lines++) {
			if (evbuffer_ptr_set(buf, &p, 1, EVBUFFER_PTR_ADD) != 0)
				break;
			p = evbuffer_search(buf, "\n", 1, &p);
		}
	}
	r->fields = malloc(lines * sizeof(*r->fields) + head_len);
	if (r->fields == NULL) {
		*why = "out of memory";
		return HTTP1_ERROR;
	}
	text = (char *)(r->fields + lines);
	if (head_len <= sizeof(small))
		memcpy(text, small, head_len);
	else
		evbuffer_copyout(buf, text, head_len);
	rc = parse_head(text, head_len, r, why);
	if (rc == 0)
		rc = frame_response(r, head_request, why);
	if (rc != 0) {
		http1_response_clear(r);
		return HTTP1_ERROR;
	}
	evbuffer_drain(buf, head_len);
	return HTTP1_OK;
}

/* The value of a hex digit, or -1. */
static int
hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* After a size line: data follows, or for size 0 the trailer section. */
static void
size_line_done(struct http1_chunked *c)
{
	c->line_len = 0;
	c->state = c->left == 0 ? CS_TRAILER : CS_DATA;
}

/* After a trailer line: an empty one ends the body. */
static void
trailer_line_done(struct http1_chunked *c)
{
	if (c->line_len > 0 && c->trailers != NULL)
		evbuffer_add(c->trailers, "\r\n", 2);
	c->state = c->line_len == 0 ? CS_DONE : CS_TRAILER;
	c->line_len = 0;
}

/* Feeds one framing byte (not chunk data) to the decoder. */
static int
chunk_step(struct http1_chunked *c, unsigned char ch, const char **why)
{
	int v;

	switch (c->state) {
	case CS_SIZE:
		if ((v = hex_value(ch)) >= 0) {
			if (c->line_len == CHUNK_SIZE_DIGITS) {
				*why = "chunk size too long";
				return -1;
			}
			c->left = c->left * 16 + (uint64_t)v;
			c->line_len++;
			return 0;
		}
		if (c->line_len == 0) {
			*why = "bad chunk size";
			return -1;
		}
		c->line_len++;
		if (ch == ';')
			c->state = CS_EXT;
		else if (ch == ' ' || ch == '\t')
			c->state = CS_SIZE_WS;
		else if (ch == '\r')
			c->state = CS_SIZE_LF;
		else if (ch == '\n')
			size_line_done(c);
		else {
			*why = "bad chunk size";
			return -1;
		}
		return 0;
	case CS_SIZE_WS:
		if (++c->line_len > CHUNK_LINE_MAX) {
			*why = "chunk line too long";
			return -1;
		}
		if (ch == ';')
			c->state = CS_EXT;
		else if (ch != ' ' && ch != '\t') {
			*why = "bad chunk size";
			return -1;
		}
		return 0;
	case CS_EXT:
		if (ch == '\r')
			c->state = CS_SIZE_LF;
		else if (ch == '\n')
			size_line_done(c);
		else if (!is_text(ch)) {
			*why = "bad chunk extension";
			return -1;
		} else if (++c->line_len > CHUNK_LINE_MAX) {
			*why = "chunk line too long";
			return -1;
		}
		return 0;
	case CS_SIZE_LF:
		if (ch != '\n') {
			*why = "bad chunk size line";
			return -1;
		}
		size_line_done(c);
		return 0;
	case CS_DATA_CR:
	case CS_DATA_LF:
		if (ch == '\r' && c->state == CS_DATA_CR)
			c->state = CS_DATA_LF;
		else if (ch == '\n') {
			c->state = CS_SIZE;
			c->left = 0;
			c->line_len = 0;
		} else {
			*why = "missing CRLF after chunk data";
			return -1;
		}
		return 0;
	case CS_TRAILER:
		if (ch == '\r')
			c->state = CS_TRAILER_LF;
		else if (ch == '\n')
			trailer_line_done(c);
		else if (!is_text(ch)) {
			*why = "bad byte in trailer";
			return -1;
		} else if (++c->line_len > CHUNK_LINE_MAX) {
			*why = "trailer line too long";
			return -1;
		} else if (c->trailers != NULL) {
			if (evbuffer_get_length(c->trailers) >= HTTP1_TRAILERS_MAX) {
				*why = "trailer section too large";
				return -1;
			}
			evbuffer_add(c->trailers, &ch, 1);
		}
		return 0;
	case CS_TRAILER_LF:
		if (ch != '\n') {
			*why = "bad trailer line";
			return -1;
		}
		trailer_line_done(c);
		return 0;
	default:
		*why = "chunked decoder in a bad state";
		return -1;
	}
}

/*
 * Points *p at the first contiguous bytes of a non-empty buf without
 * copying; only if the front chains are empty does it fall back to a pullup.
 */
static int
first_extent(struct evbuffer *buf, const unsigned char **p, size_t *n)
{
	struct evbuffer_iovec vec[4];
	int i, got;

	got = evbuffer_peek(buf, 1, NULL, vec, 4);
	for (i = 0; i < got && i < 4; i++) {
		if (vec[i].iov_len > 0) {
			*p = vec[i].iov_base;
			*n = vec[i].iov_len;
			return 0;
		}
	}
	*p = evbuffer_pullup(buf, 1);
	*n = 1;
	return *p == NULL ? -1 : 0;
}

/*
 * Decodes as much of src as there is: framing bytes are consumed one by
 * one, data moves to dst by evbuffer_remove_buffer().  Bytes after the
 * final empty line stay in src.  After HTTP1_ERROR, c stays failed.
 */
enum http1_result
http1_chunked_decode(struct http1_chunked *c, struct evbuffer *src,
    struct evbuffer *dst, const char **why)
{
	const unsigned char *p;
	size_t len, n, i;

	for (;;) {
		if (c->state == CS_DONE)
			return HTTP1_OK;
		if (c->state == CS_ERROR) {
			*why = "chunked body already failed";
			return HTTP1_ERROR;
		}
		len = evbuffer_get_length(src);
		if (len == 0)
			return HTTP1_MORE;

		if (c->state == CS_DATA) {
			n = c->left < len ? (size_t)c->left : len;
			if (n > CHUNK_MOVE_MAX)
				n = CHUNK_MOVE_MAX;
			if (evbuffer_remove_buffer(src, dst, n) != (int)n) {
				c->state = CS_ERROR;
				*why = "cannot move chunk data";
				return HTTP1_ERROR;
			}
			c->left -= n;
			if (c->left == 0)
				c->state = CS_DATA_CR;
			continue;
		}

		if (first_extent(src, &p, &n) != 0) {
			c->state = CS_ERROR;
			*why = "cannot read chunked body";
			return HTTP1_ERROR;
		}
		for (i = 0; i < n; i++) {
			if (chunk_step(c, p[i], why) != 0) {
				c->state = CS_ERROR;
				return HTTP1_ERROR;
			}
			if (c->state == CS_DATA || c->state == CS_DONE) {
				i++;
				break;
			}
		}
		evbuffer_drain(src, i);
	}
}
