/*
 * reqscan.h - a strict scanner of the raw bytes a client sends, fed from
 * client.c before evhttp parses them.
 *
 * Why: libevent 2.1.12's evhttp accepts what a proxy must refuse (two
 * Content-Lengths, "+5", chunk sizes like "0x5", header values cut at a NUL,
 * "Content-Length : 3", bodies on HEAD that it then parses as the next
 * request, ...).  Some of that information is gone once evhttp has parsed
 * the request, so the scanner checks RFC 9112 syntax on the raw stream, each
 * byte once, as it arrives.  At the first violation it stops and says where
 * the offending request began (request_start), so that the caller can take
 * that request's bytes away before evhttp parses them, answer with status
 * and why, and close the connection.
 *
 * Owner: embedded in the client connection (client.c); no allocations.
 */
#ifndef FERRYD_REQSCAN_H
#define FERRYD_REQSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reqscan_limits {
	size_t max_header_size;		/* request line + fields + CRLFs; > it: 431 (414 for a long request line) */
	uint64_t max_body_size;		/* > it: 413 */
};

/* The longest Proxy-Authorization value kept for reqscan_set_body_check(). */
#define REQSCAN_CRED_MAX 4096

/*
 * Asked at the end of a head whose body is coming, before evhttp reads it
 * or answers 100-continue: cred is the request's first Proxy-Authorization
 * value (NULL: none; cut values are passed as they are, too long for any
 * user).  Returns 0 to go on, or a status to fail the request with.
 */
typedef int (*reqscan_body_check)(void *arg, const char *cred,
    const char **why);

/*
 * Told where the name of a Content-Length or Transfer-Encoding field
 * begins (its stream offset), while the name is still in the caller's
 * buffer: evhttp must not see it (client.c).  False: it could not be
 * hidden, and the request fails (500).
 */
typedef bool (*reqscan_mark_fn)(void *arg, uint64_t offset);

/* Heads with extension methods scanned but not yet dispatched, at most. */
#define REQSCAN_EXT_QUEUE 8

struct reqscan {
	/* results */
	int status;			/* 0 while clean, else the HTTP status to answer */
	const char *why;		/* static one-line reason, NULL while clean */
	uint64_t requests;		/* requests scanned completely */
	uint64_t offset;		/* bytes of the stream scanned */
	uint64_t request_start;		/* offset of the request being scanned */

	/* private: the state machine */
	struct reqscan_limits limits;
	int refuse_status;		/* reqscan_refuse(): fail each new request */
	const char *refuse_why;
	int state;
	size_t head_len;		/* bytes of the current head so far */
	int method;			/* enum in reqscan.c */
	int major;			/* HTTP/major.minor */
	int minor;
	int sub;			/* sub-state of the request-target or of a value */
	int digits;			/* digits of a number, or bytes of the version */
	unsigned int port;		/* CONNECT: the port so far */
	int n_host;
	int n_content_length;
	int n_transfer_encoding;
	bool host_empty;
	bool chunked;
	bool expect_bad;
	uint64_t content_length;
	uint64_t body_left;		/* CL body or current chunk: bytes still to come */
	uint64_t body_total;		/* chunked: bytes of data so far */
	char token[20];			/* the method, or a field name lower-cased */
	char ext_method[19];		/* the extension method being scanned */
	char ext_queue[REQSCAN_EXT_QUEUE][19];	/* clean heads' extension methods */
	unsigned int ext_first, ext_n;
	char v6[48];			/* an IPv6 literal of the target */
	size_t v6_len;
	size_t token_len;
	int field;			/* the field whose value is being scanned */
	int match;			/* bytes of the expected word matched, -1: not it */
	int elements;			/* Transfer-Encoding: list elements so far */
	bool chunked_last;		/* Transfer-Encoding: the last element was chunked */
	reqscan_body_check body_check;	/* NULL: none */
	void *body_check_arg;
	char *cred;			/* the Proxy-Authorization value, malloc'd when checked */
	size_t cred_len;
	int n_cred;			/* Proxy-Authorization fields in this head */
	reqscan_mark_fn mark;		/* NULL: none */
	void *mark_arg;
};

void reqscan_init(struct reqscan *s, const struct reqscan_limits *limits);

/*
 * Scans the next n bytes of the stream.  Returns 0 while the stream is
 * clean, -1 from the first violation on (status and why set; later bytes
 * are not looked at).  After a CONNECT head the bytes belong to the tunnel
 * and are not scanned.
 */
int reqscan_feed(struct reqscan *s, const char *p, size_t n);

/* Fails the stream from outside (the client header timeout: 408). */
int reqscan_fail(struct reqscan *s, int status, const char *why);

/*
 * From now on, until called again with status 0, a request fails at its
 * first byte with status and why (the client's address is refused): so a
 * refused client costs no more than the bytes it sent before the check,
 * and nothing of its request reaches evhttp.  A request already begun is
 * scanned as before.
 */
void reqscan_refuse(struct reqscan *s, int status, const char *why);

/*
 * check (NULL: none) decides on every head with a body before the body
 * is read (proxy authentication: a client without credentials must not
 * make ferryd read 64 MiB first).  Only then are Proxy-Authorization
 * values kept.  Returns -1 when out of memory.
 */
int reqscan_set_body_check(struct reqscan *s, reqscan_body_check check,
    void *arg);

/* mark (NULL: none) is told of every framing field name (see above). */
void reqscan_set_mark(struct reqscan *s, reqscan_mark_fn mark, void *arg);

/* Frees what the scanner holds (the kept credentials). */
void reqscan_clear(struct reqscan *s);

/*
 * evhttp 2.1.12 knows nine methods and passes any other as "unknown",
 * without its name.  The scanner keeps the names of extension methods
 * (bodiless: evhttp would not read a body for them) in the order their
 * heads were scanned; the caller takes one for each unknown-method
 * request evhttp dispatches.  False when none is waiting.
 */
bool reqscan_take_method(struct reqscan *s, char *name, size_t size);

/* True while part of a request head has arrived but not all of it. */
bool reqscan_in_head(const struct reqscan *s);

#endif
