/*
 * http1.h - the upstream side's HTTP/1.1 response parsing and framing
 * (RFC 9112): the status line and fields of a response head, which body
 * framing follows from them (section 6.3), and a strict chunked decoder.
 * Pure functions over evbuffers; no sockets.
 */
#ifndef FERRYD_HTTP1_H
#define FERRYD_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <sys/queue.h>

struct evbuffer;

enum http1_result {
	HTTP1_OK,			/* done: a head parsed, a body finished */
	HTTP1_MORE,			/* need more bytes */
	HTTP1_ERROR			/* malformed: *why says what; 502 and close */
};

enum http1_body {
	HTTP1_BODY_NONE,		/* HEAD, 1xx, 204, 304, or Content-Length: 0 */
	HTTP1_BODY_LENGTH,		/* content_length bytes */
	HTTP1_BODY_CHUNKED,		/* decode with http1_chunked_decode() */
	HTTP1_BODY_CLOSE		/* until the origin closes: not reusable */
};

/* One field of a parsed head; both strings point into the head's text. */
struct http1_field {
	const char *name;
	const char *value;		/* OWS trimmed */
	size_t name_len;		/* compared first: most names differ in it */
};

/* True when field f is called s (any case); n is strlen(s). */
#define HTTP1_FIELD_IS(f, s, n) \
	((f)->name_len == (n) && strncasecmp((f)->name, (s), (n)) == 0)

/*
 * A parsed response head: one copy of its text, NULs written in place, and
 * an array of fields pointing into it, in one allocation (no allocation
 * per field).  Owner: its user (the codec), cleared with
 * http1_response_clear().
 */
struct http1_response {
	int major, minor;
	int status;
	char reason[128];		/* may be empty */
	struct http1_field *fields;	/* as received, in order (duplicates kept) */
	size_t n_fields;
	enum http1_body body;
	uint64_t content_length;	/* for HTTP1_BODY_LENGTH */
	/*
	 * The transfer codings the body still carries once ferryd has taken
	 * off a final chunked ("gzip" for "gzip, chunked"), comma-joined, or
	 * "" (identity, a no-op, is left out).  A proxy passes them on.
	 */
	char codings[128];
	bool codings_chunked;		/* chunked among them: cannot be re-chunked */
	bool keep_alive;		/* the origin lets the connection be reused */
	/* private: how far an incomplete head was searched, for the next call */
	size_t scanned;
	size_t first_eol;
};

void http1_response_init(struct http1_response *r);
void http1_response_clear(struct http1_response *r);

/* The value of the first field called name (any case), or NULL. */
const char *http1_find(const struct http1_response *r, const char *name);

struct headers_conn_tokens;
/* The tokens of every Connection field of r (headers.h). */
void http1_conn_tokens(const struct http1_response *r,
    struct headers_conn_tokens *tok);

/*
 * Parses one response head at the front of buf.  HTTP1_OK: the head is
 * removed from buf and r filled (for a 1xx interim response too: the
 * caller checks r->status and parses again).  HTTP1_MORE: nothing removed;
 * call again with the same r and more bytes appended to buf (r remembers
 * how far it searched; HTTP1_ERROR once the head passes max_size).
 * HTTP1_ERROR: *why is a static reason.  head_request: the request was
 * HEAD, so the response has no body whatever it says.
 *
 * Strict: "HTTP/1.x" version, three-digit status, token field names, no
 * whitespace before the colon, no control bytes in values, no obs-fold,
 * Content-Length digits only and one value (identical repeats collapse),
 * Transfer-Encoding ending in chunked (otherwise close-delimited and not
 * reusable); the other codings are kept in r->codings.  Lines may end in CRLF or a bare LF.
 */
enum http1_result http1_parse_response(struct evbuffer *buf,
    struct http1_response *r, bool head_request, size_t max_size,
    const char **why);

/* Trailer bytes kept at most (http1_chunked.trailers). */
#define HTTP1_TRAILERS_MAX (16 * 1024)

/* The state of a chunked body being decoded; zero it to start. */
struct http1_chunked {
	int state;
	uint64_t left;			/* data bytes left in this chunk */
	size_t line_len;
	/*
	 * Where the trailer section goes, its lines as they came but each
	 * ended in CRLF, without the final empty line (NULL: dropped).  The
	 * caller's; checked only as text: headers_write_trailers() filters.
	 */
	struct evbuffer *trailers;
};

/*
 * Moves the decoded data of a chunked body from src to dst (without copying
 * where the data lies whole in src).  HTTP1_OK: the last chunk and trailers
 * were read (the trailers kept in c->trailers, if set).  HTTP1_MORE: src is used up.
 * HTTP1_ERROR: malformed chunk size (hex digits only, no 0x, no sign),
 * missing CRLF after data, or a line longer than 4 KiB.
 */
enum http1_result http1_chunked_decode(struct http1_chunked *c,
    struct evbuffer *src, struct evbuffer *dst, const char **why);

#endif
