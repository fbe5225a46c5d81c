/*
 * fuzz_reqscan.c - libFuzzer harness for the request scanner (lib/reqscan.c),
 * the gate every client byte passes before evhttp parses it.
 *
 * The input is scanned twice: whole, and cut into pieces whose sizes come
 * from the input's first byte.  The scanner must not care how the stream
 * was cut (the same verdict, offsets and framing marks), must never
 * report a request start past what it scanned, and must stay failed
 * after a violation.  Any difference aborts: libFuzzer keeps the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reqscan.h"

#define MARKS_MAX 64

struct run {
	struct reqscan s;
	uint64_t marks[MARKS_MAX];
	int n_marks;
	int rc;
};

static bool
on_mark(void *arg, uint64_t offset)
{
	struct run *r = arg;

	if (r->n_marks < MARKS_MAX)
		r->marks[r->n_marks] = offset;
	r->n_marks++;
	return true;
}

static int
on_body_check(void *arg, const char *cred, const char **why)
{
	/* Deterministic: refuse a credential that starts with "x". */
	if (cred != NULL && cred[0] == 'x') {
		*why = "refused";
		return 407;
	}
	return 0;
}

static void
scan(struct run *r, const uint8_t *p, size_t n, size_t piece)
{
	static const struct reqscan_limits lim = {
		.max_header_size = 512,
		.max_body_size = 4096,
	};
	size_t off, k;

	memset(r, 0, sizeof(*r));
	reqscan_init(&r->s, &lim);
	reqscan_set_mark(&r->s, on_mark, r);
	if (reqscan_set_body_check(&r->s, on_body_check, NULL) != 0)
		abort();
	r->rc = 0;
	for (off = 0; off < n; off += k) {
		uint64_t before = r->s.offset;
		int failed = r->s.status != 0;

		k = piece == 0 || n - off < piece ? n - off : piece;
		r->rc = reqscan_feed(&r->s, (const char *)p + off, k);
		if (failed && (r->rc != -1 || r->s.offset != before))
			abort();	/* moved on after a violation */
		if (r->s.request_start > r->s.offset)
			abort();
		if ((r->rc == -1) != (r->s.status != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, cut;
	size_t piece;

	if (size == 0)
		return 0;
	piece = (size_t)(data[0] % 17) + 1;
	data++;
	size--;
	scan(&whole, data, size, 0);
	scan(&cut, data, size, piece);
	if (whole.s.status != cut.s.status || whole.s.offset != cut.s.offset ||
	    whole.s.requests != cut.s.requests ||
	    whole.s.request_start != cut.s.request_start ||
	    whole.n_marks != cut.n_marks ||
	    (whole.s.why == NULL) != (cut.s.why == NULL) ||
	    (whole.s.why != NULL && strcmp(whole.s.why, cut.s.why) != 0))
		abort();
	for (int i = 0; i < whole.n_marks && i < MARKS_MAX; i++) {
		uint64_t m = whole.marks[i];

		if (m != cut.marks[i] || m + 1 > size ||
		    (data[m] | 0x20) != (data[m] == 'C' || data[m] == 'c' ?
		    'c' : 't'))
			abort();	/* a mark not on a framing name's first byte */
	}
	reqscan_clear(&whole.s);
	reqscan_clear(&cut.s);
	return 0;
}
