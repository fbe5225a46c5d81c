/*
 * headers.h - which header fields a proxy forwards (RFC 9110 section 7.6.1).
 * Hop-by-hop fields are removed both ways: Connection and every field it
 * names (except Host and Content-Length, which no Connection header may
 * remove), Keep-Alive, Proxy-Connection, Proxy-Authorization,
 * Proxy-Authenticate, TE, Trailer, Transfer-Encoding (the body is
 * re-framed), Upgrade.  Content-Length is also left to the caller, which
 * frames the message itself.
 */
#ifndef FERRYD_HEADERS_H
#define FERRYD_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct evkeyvalq;

#define HEADERS_MAX_TOKENS 32

/* The field names a message's Connection headers list, lower case. */
struct headers_conn_tokens {
	char names[HEADERS_MAX_TOKENS][64];
	size_t n;
	bool close;			/* "close" was among them */
	bool keep_alive;		/* "keep-alive" was among them */
	bool overflow;			/* more tokens than fit: unlisted names are forwarded */
};

/* Collects the tokens of every Connection header in h. */
void headers_conn_tokens(const struct evkeyvalq *h,
    struct headers_conn_tokens *tok);
/* The same, one field value at a time: reset, then add each. */
void headers_conn_tokens_reset(struct headers_conn_tokens *tok);
void headers_conn_tokens_add(struct headers_conn_tokens *tok,
    const char *value);

/* True when a field with this name must not be forwarded (see above). */
bool headers_is_hop_by_hop(const char *name,
    const struct headers_conn_tokens *tok);
/* The same for a name whose length is known. */
bool headers_is_hop_by_hop_len(const char *name, size_t len,
    const struct headers_conn_tokens *tok);

/*
 * Finds the next element of a comma list at *p, OWS-trimmed, sets *start
 * and *len and steps *p past its comma.  False at the end of the string.
 */
bool headers_list_next(const char **p, const char **start, size_t *len);

/*
 * True when the comma-separated list value contains token
 * (case-insensitive, optional whitespace around elements).
 */
bool headers_list_has(const char *value, const char *token);

/*
 * How many hops of a Via value (RFC 9110 7.6.3: "1.0 fred, 1.1
 * p.example.net (a comment, even with commas)") are received_by
 * (case-insensitive).
 */
unsigned headers_via_count(const char *value, const char *received_by);

/*
 * True when value has at least one element and every element is in list
 * (case-insensitive): a 101's Upgrade against the offer made.
 */
bool headers_list_within(const char *value, const char *list);

/*
 * The elements of an Upgrade list value that protocols (NULL-terminated,
 * lower case; a name without "/version" allows every version of it)
 * allow, joined by ", " into out (outlen bytes; elements that would not
 * fit are left out).  Returns the length written ("" and 0: none).
 */
size_t headers_upgrade_filter(const char *value, char *const *protocols,
    char *out, size_t outlen);

/*
 * A message head written in one piece: bytes are gathered in the writer's
 * own buffer and handed to out in as few evbuffer_add() calls as its size
 * allows (one for a head under HEADERS_WRITER_BUF).  Owner: the caller's
 * stack; call headers_writer_flush() at the end.
 */
#define HEADERS_WRITER_BUF 4096

struct headers_writer {
	struct evbuffer *out;
	size_t len;
	char buf[HEADERS_WRITER_BUF];
};

void headers_writer_init(struct headers_writer *w, struct evbuffer *out);
void headers_write(struct headers_writer *w, const char *p, size_t n);
void headers_write_str(struct headers_writer *w, const char *s);
/* A decimal number, without printf. */
void headers_write_u64(struct headers_writer *w, uint64_t v);
/*
 * v in decimal into buf (HEADERS_U64_MAX bytes at least), not
 * terminated; returns the length.  For the numbers of every request.
 */
#define HEADERS_U64_MAX 20
size_t headers_format_u64(char *buf, uint64_t v);
/* "name: value" CRLF. */
void headers_write_field(struct headers_writer *w, const char *name,
    const char *value);
/* "name: v" CRLF, v in decimal. */
void headers_write_field_u64(struct headers_writer *w, const char *name,
    uint64_t v);
/* The same with the lengths known (a parsed head's spans). */
void headers_write_field_len(struct headers_writer *w, const char *name,
    size_t name_len, const char *value, size_t value_len);
/* Hands what is gathered to out. */
void headers_writer_flush(struct headers_writer *w);

/*
 * The trailer fields of raw (lines "name: value" CRLF, as
 * http1_chunked.trailers keeps them) that may be passed on, written to w:
 * a line whose name is not a token or that has no colon is dropped, and
 * so are fields a trailer must not carry (RFC 9110 6.5.1: framing,
 * routing, authentication, hop-by-hop).  Returns the fields written.
 */
size_t headers_write_trailers(struct headers_writer *w, struct evbuffer *raw);

#endif
