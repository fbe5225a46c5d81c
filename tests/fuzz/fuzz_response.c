/*
 * fuzz_response.c - libFuzzer harness for the upstream response parser
 * and the chunked decoder (lib/http1.c): what an origin sends.  The input
 * is parsed whole and in pieces (sizes from its first byte): one head,
 * then the chunked decoder on what follows.  Both ways must agree on the
 * verdict, the head's fields and framing, and the decoded body and
 * trailers; nothing may be read past the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct result {
	enum http1_result head;
	int status;
	enum http1_body body;
	uint64_t content_length;
	size_t n_fields;
	enum http1_result chunked;
	struct evbuffer *data;
	struct evbuffer *trailers;
};

static void
run(struct result *res, const uint8_t *p, size_t n, size_t piece)
{
	struct evbuffer *in = evbuffer_new();
	struct http1_response r;
	struct http1_chunked c;
	const char *why;
	size_t off = 0, k;

	res->data = evbuffer_new();
	res->trailers = evbuffer_new();
	if (in == NULL || res->data == NULL || res->trailers == NULL)
		abort();
	http1_response_init(&r);
	res->head = HTTP1_MORE;
	while (res->head == HTTP1_MORE && off < n) {
		k = piece == 0 || n - off < piece ? n - off : piece;
		evbuffer_add(in, p + off, k);
		off += k;
		res->head = http1_parse_response(in, &r, false, 1024, &why);
	}
	res->status = res->head == HTTP1_OK ? r.status : 0;
	res->body = res->head == HTTP1_OK ? r.body : HTTP1_BODY_NONE;
	res->content_length = res->head == HTTP1_OK ? r.content_length : 0;
	res->n_fields = res->head == HTTP1_OK ? r.n_fields : 0;
	res->chunked = HTTP1_MORE;
	if (res->head == HTTP1_OK && r.body == HTTP1_BODY_CHUNKED) {
		memset(&c, 0, sizeof(c));
		c.trailers = res->trailers;
		for (;;) {
			res->chunked = http1_chunked_decode(&c, in, res->data,
			    &why);
			if (res->chunked != HTTP1_MORE || off >= n)
				break;
			k = piece == 0 || n - off < piece ? n - off : piece;
			evbuffer_add(in, p + off, k);
			off += k;
		}
	}
	http1_response_clear(&r);
	evbuffer_free(in);
}

static bool
same_buffer(struct evbuffer *a, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(a);

	return n == evbuffer_get_length(b) && (n == 0 ||
	    memcmp(evbuffer_pullup(a, -1), evbuffer_pullup(b, -1), n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, cut;
	size_t piece;

	if (size == 0 || size > 65536)
		return 0;
	piece = (size_t)(data[0] % 13) + 1;
	run(&whole, data + 1, size - 1, 0);
	run(&cut, data + 1, size - 1, piece);
	if (whole.head != cut.head || whole.status != cut.status ||
	    whole.body != cut.body ||
	    whole.content_length != cut.content_length ||
	    whole.n_fields != cut.n_fields)
		abort();
	/* The decoder sees the rest whole or in pieces: same bytes out. */
	if (whole.chunked != cut.chunked || (whole.chunked == HTTP1_OK &&
	    (!same_buffer(whole.data, cut.data) ||
	    !same_buffer(whole.trailers, cut.trailers))))
		abort();
	evbuffer_free(whole.data);
	evbuffer_free(whole.trailers);
	evbuffer_free(cut.data);
	evbuffer_free(cut.trailers);
	return 0;
}
