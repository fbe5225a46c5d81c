/*
 * test_reqscan.c - unit tests of lib/reqscan.c: every smuggling vector is
 * sent after a clean pipelined request, in one piece, one byte at a time
 * and in 7-byte pieces; the results must be the same.  The scanner must
 * stop at the byte the vector is built around, and request_start must
 * leave evhttp exactly the clean requests before the bad one.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reqscan.h"

#define S(lit)		lit, sizeof(lit) - 1

/*
 * A bad request split at the byte the scanner must fail at: the bytes,
 * their length and the index of that byte (the first byte of rest).
 */
#define AT(ok, rest)	ok rest, sizeof(ok rest) - 1, sizeof(ok) - 1

#define CLEAN		"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
#define POST_CHUNKED	"POST / HTTP/1.1\r\nHost: x\r\n" \
			"Transfer-Encoding: chunked\r\n\r\n"

static const struct reqscan_limits limits = {
	.max_header_size = 256,
	.max_body_size = 64,
};

/* What a whole run must end with, however the input was cut. */
struct expect {
	int status;
	const char *why;	/* when set, the reason must be this */
	uint64_t requests;
	uint64_t offset;
	uint64_t request_start;
	bool in_head;
};

/*
 * The offset after a violation at the byte at index at: a byte that breaks
 * the syntax is scanned and counted, the first byte over a head size limit
 * (414, 431) is not looked at.
 */
static uint64_t
offset_at_fail(size_t at, int status)
{
	return status == 414 || status == 431 ? at : at + 1;
}

/* After a violation evhttp keeps in[0 .. request_start): clean requests. */
static void
check_kept(const char *in, const struct reqscan_limits *lim,
    const struct reqscan *failed)
{
	struct reqscan s;
	size_t len = (size_t)failed->request_start;

	reqscan_init(&s, lim);
	ck_assert_msg(reqscan_feed(&s, in, len) == 0,
	    "the %zu bytes kept are not clean: %d (%s)", len, s.status,
	    s.why ? s.why : "-");
	ck_assert_msg(s.requests == failed->requests,
	    "the bytes kept hold %llu requests, want %llu",
	    (unsigned long long)s.requests,
	    (unsigned long long)failed->requests);
	ck_assert_msg(!reqscan_in_head(&s) && s.request_start == len,
	    "the bytes kept end inside a request");
}

/* Feeds in to a fresh scanner in pieces of piece bytes (0: whole); checks e. */
static void
run_pieces(const char *in, size_t len, size_t piece,
    const struct reqscan_limits *lim, const struct expect *e)
{
	struct reqscan s, then;
	size_t off, k;
	bool failed = false;
	int rc;

	reqscan_init(&s, lim);
	ck_assert_msg(s.status == 0 && s.why == NULL && s.requests == 0 &&
	    s.offset == 0 && s.request_start == 0, "fresh scanner not zero");
	for (off = 0; off < len; off += k) {
		k = piece == 0 || len - off < piece ? len - off : piece;
		then = s;
		rc = reqscan_feed(&s, in + off, k);
		if (failed) {
			ck_assert_msg(rc == -1,
			    "piece %zu: clean again after a violation", piece);
			ck_assert_msg(s.offset == then.offset &&
			    s.status == then.status && s.why == then.why &&
			    s.requests == then.requests &&
			    s.request_start == then.request_start,
			    "piece %zu: bytes after a violation changed the "
			    "results", piece);
		} else if (rc == -1)
			failed = true;
		else {
			ck_assert_msg(rc == 0, "piece %zu: rc %d", piece, rc);
			ck_assert_msg(s.offset == off + k, "piece %zu: offset "
			    "%llu while clean, want %zu", piece,
			    (unsigned long long)s.offset, off + k);
		}
		ck_assert_msg(s.request_start <= s.offset &&
		    s.request_start >= then.request_start,
		    "piece %zu: request_start %llu out of order", piece,
		    (unsigned long long)s.request_start);
	}
	ck_assert_msg(s.status == e->status, "piece %zu: status %d (%s), "
	    "want %d", piece, s.status, s.why ? s.why : "-", e->status);
	ck_assert_msg((s.why != NULL) == (e->status != 0),
	    "piece %zu: why set iff status set", piece);
	ck_assert_msg(e->why == NULL || (s.why != NULL &&
	    strcmp(s.why, e->why) == 0), "piece %zu: why \"%s\", want \"%s\"",
	    piece, s.why ? s.why : "-", e->why);
	ck_assert_msg(failed == (e->status != 0),
	    "piece %zu: rc -1 iff a violation", piece);
	ck_assert_msg(s.requests == e->requests, "piece %zu: requests %llu, "
	    "want %llu", piece, (unsigned long long)s.requests,
	    (unsigned long long)e->requests);
	ck_assert_msg(s.offset == e->offset, "piece %zu: offset %llu, want "
	    "%llu", piece, (unsigned long long)s.offset,
	    (unsigned long long)e->offset);
	ck_assert_msg(s.request_start == e->request_start, "piece %zu: "
	    "request_start %llu, want %llu", piece,
	    (unsigned long long)s.request_start,
	    (unsigned long long)e->request_start);
	ck_assert_msg(reqscan_in_head(&s) == e->in_head,
	    "piece %zu: in_head %d, want %d", piece, reqscan_in_head(&s),
	    e->in_head);
	if (failed)
		check_kept(in, lim, &s);
}

/* Runs in whole, byte by byte and in 7-byte pieces: all must meet e. */
static void
check_lim(const char *in, size_t len, const struct reqscan_limits *lim,
    const struct expect *e)
{
	run_pieces(in, len, 0, lim, e);
	run_pieces(in, len, 1, lim, e);
	run_pieces(in, len, 7, lim, e);
}

/* check_lim() with the limits most tests use. */
static void
check(const char *in, size_t len, const struct expect *e)
{
	check_lim(in, len, &limits, e);
}

/* Concatenates a and b into a new buffer (the caller frees it). */
static char *
cat(const char *a, size_t alen, const char *b, size_t blen, size_t *len)
{
	char *p = malloc(alen + blen + 1);

	ck_assert_msg(p != NULL, "malloc");
	memcpy(p, a, alen);
	memcpy(p + alen, b, blen);
	p[alen + blen] = '\0';
	*len = alen + blen;
	return p;
}

/*
 * CLEAN, then the bad request (len bytes, failing at the byte at index at):
 * the scan stops there with status, and only CLEAN is left for evhttp.
 * why, when not NULL, is the reason expected.
 */
static void
reject_why(const char *bad, size_t len, size_t at, int status,
    const char *why)
{
	struct expect e = { .status = status, .why = why, .requests = 1,
	    .request_start = sizeof(CLEAN) - 1 };
	char *in;
	size_t all;

	ck_assert_msg(at < len, "test bug: failing byte %zu past the end", at);
	in = cat(S(CLEAN), bad, len, &all);
	e.offset = offset_at_fail(sizeof(CLEAN) - 1 + at, status);
	check(in, all, &e);
	free(in);
}

/* As reject_why(), whatever the reason. */
static void
reject(const char *bad, size_t len, size_t at, int status)
{
	reject_why(bad, len, at, status, NULL);
}

/* A clean stream of n whole requests: everything scanned. */
static void
pass(const char *in, size_t len, uint64_t n)
{
	struct expect e = { .requests = n, .offset = len,
	    .request_start = len };

	check(in, len, &e);
}

/* A clean request after CLEAN: both scanned whole. */
static void
pass_after(const char *in, size_t len)
{
	size_t all;
	char *p = cat(S(CLEAN), in, len, &all);

	pass(p, all, 2);
	free(p);
}

/* Content-Length */

START_TEST(cl_two_different)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
	    "Content-Length", ": 5\r\n\r\nabcde"), 400);
}
END_TEST

START_TEST(cl_duplicate_equal)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
	    "Content-Length", ": 3\r\n\r\nabc"), 400,
	    "duplicate Content-Length header");
}
END_TEST

START_TEST(cl_plus)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ",
	    "+5\r\n\r\nabcde"), 400, "invalid Content-Length value");
}
END_TEST

START_TEST(cl_minus)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ",
	    "-1\r\n\r\n"), 400);
}
END_TEST

START_TEST(cl_list)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5",
	    ",5\r\n\r\nabcde"), 400);
}
END_TEST

START_TEST(cl_hex)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0",
	    "x5\r\n\r\nabcde"), 400);
}
END_TEST

START_TEST(cl_inner_space)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 ",
	    "5\r\n\r\nabcde"), 400);
}
END_TEST

START_TEST(cl_empty)
{
	/* Only the end of the line shows that no digit came. */
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r",
	    "\n\r\n"), 400, "invalid Content-Length value");
}
END_TEST

START_TEST(cl_too_many_digits)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 000000000000000000", "5\r\n\r\nabcde"), 400,
	    "Content-Length value too long");
}
END_TEST

START_TEST(cl_tab_before_value)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:",
	    "\t3\r\n\r\nabc"), 400, "tab before a header value");
}
END_TEST

START_TEST(cl_ows_accepted)
{
	pass_after(S("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length:  3 \t\r\n\r\nabc"));
}
END_TEST

START_TEST(cl_over_max_body)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r",
	    "\n"), 413, "request body too large");
}
END_TEST

START_TEST(cl_at_max_body)
{
	pass_after(S("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n"
	    "01234567890123456789012345678901"
	    "23456789012345678901234567890123"));
}
END_TEST

/* Transfer-Encoding */

START_TEST(te_gzip)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r",
	    "\n\r\n"), 501, "unsupported transfer coding");
}
END_TEST

START_TEST(te_gzip_chunked)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: gzip, chunked\r", "\n\r\n0\r\n\r\n"), 501);
}
END_TEST

START_TEST(te_chunked_gzip)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked, gzip\r", "\n\r\n0\r\n\r\n"), 400,
	    "chunked must be the last transfer coding");
}
END_TEST

START_TEST(te_chunked_twice)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked, chunked\r", "\n\r\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(te_chunked_comma)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked,\r", "\n\r\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(te_identity)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: identity\r", "\n\r\n"), 501);
}
END_TEST

START_TEST(te_xchunked)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: xchunked\r", "\n\r\n"), 501);
}
END_TEST

START_TEST(te_and_cl)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding", ": chunked\r\n\r\n0\r\n\r\n"), 400,
	    "both Content-Length and Transfer-Encoding");
}
END_TEST

START_TEST(cl_and_te)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\nContent-Length",
	    ": 5\r\n\r\n0\r\n\r\n"), 400,
	    "both Content-Length and Transfer-Encoding");
}
END_TEST

START_TEST(te_http10)
{
	reject(AT("POST / HTTP/1.0\r\nTransfer-Encoding",
	    ": chunked\r\n\r\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(te_duplicate)
{
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding", ": chunked\r\n\r\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(te_tab_before_value)
{
	/* evhttp keeps the tab and would not see "chunked". */
	reject(AT("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:",
	    "\tchunked\r\n\r\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(te_case_and_ows_accepted)
{
	pass_after(S("POST / HTTP/1.1\r\nHost: x\r\n"
	    "transfer-encoding:  ChUnKeD \t\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
}
END_TEST

/* Chunked bodies */

START_TEST(chunk_size_0x)
{
	reject_why(AT(POST_CHUNKED "0", "x5\r\nabcde\r\n0\r\n\r\n"), 400,
	    "invalid chunk size");
}
END_TEST

START_TEST(chunk_size_plus)
{
	reject(AT(POST_CHUNKED, "+5\r\nabcde\r\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(chunk_size_space_before)
{
	reject(AT(POST_CHUNKED, " 5\r\nabcde\r\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(chunk_size_space_after)
{
	reject(AT(POST_CHUNKED "5", " \r\nabcde\r\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(chunk_extension)
{
	reject_why(AT(POST_CHUNKED "5", ";a=b\r\nabcde\r\n0\r\n\r\n"), 400,
	    "chunk extensions are not supported");
}
END_TEST

START_TEST(chunk_size_too_long)
{
	reject_why(AT(POST_CHUNKED "000000000000000", "5\r\nabcde\r\n"), 400,
	    "chunk size too long");
}
END_TEST

START_TEST(chunk_size_bare_lf)
{
	reject_why(AT(POST_CHUNKED "5", "\nabcde\r\n0\r\n\r\n"), 400,
	    "line ends in a bare LF");
}
END_TEST

START_TEST(chunk_missing_crlf)
{
	reject_why(AT(POST_CHUNKED "3\r\nabc", "de\r\n0\r\n\r\n"), 400,
	    "chunk data not followed by CRLF");
}
END_TEST

START_TEST(chunk_data_bare_lf)
{
	reject(AT(POST_CHUNKED "3\r\nabc", "\n0\r\n\r\n"), 400);
}
END_TEST

START_TEST(chunk_trailer)
{
	/* Trailer fields pass (ferryd forwards or drops them), checked. */
	pass_after(S(POST_CHUNKED "3\r\nabc\r\n0\r\nX-Sum: 1\r\n"
	    "X-Other:\tb c\r\n\r\n"));
	reject_why(AT(POST_CHUNKED "3\r\nabc\r\n0\r\nX-Evil", " : 1\r\n\r\n"),
	    400, "whitespace before colon");
	reject_why(AT(POST_CHUNKED "3\r\nabc\r\n0\r\nX-Evil", "\r\n\r\n"),
	    400, "trailer line without colon");
	reject_why(AT(POST_CHUNKED "3\r\nabc\r\n0\r\nX: a", "\x01\r\n\r\n"),
	    400, "trailer value contains a control character");
	reject_why(AT(POST_CHUNKED "3\r\nabc\r\n0\r\nX: a", "\n\r\n"),
	    400, "line ends in a bare LF");
	reject_why(AT(POST_CHUNKED "3\r\nabc\r\n0\r\nX: a\r\n", " b\r\n\r\n"),
	    400, "folded trailer line (obs-fold)");
	reject_why(AT(POST_CHUNKED "3\r\nabc\r\n0\r\n", "\"X\": 1\r\n\r\n"),
	    400, "invalid character in trailer name");
}
END_TEST

START_TEST(chunk_trailer_too_large)
{
	char in[600];
	size_t n;
	struct reqscan s;

	n = (size_t)snprintf(in, sizeof(in), "%s0\r\nX: ", POST_CHUNKED);
	memset(in + n, 'a', sizeof(in) - n);
	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, in, sizeof(in)), -1);
	ck_assert_int_eq(s.status, 431);
	ck_assert_str_eq(s.why, "request trailers too large");
}
END_TEST

/* The framing fields' names are marked where they begin. */
static uint64_t marks[4];
static int n_marks;

static bool
on_mark(void *arg, uint64_t offset)
{
	(void)arg;
	if (n_marks < 4)
		marks[n_marks] = offset;
	n_marks++;
	return true;
}

static bool
refuse_mark(void *arg, uint64_t offset)
{
	return false;
}

START_TEST(framing_marked)
{
	static const char in[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\n\r\nabc" POST_CHUNKED "0\r\n\r\n" CLEAN;
	size_t piece;

	for (piece = 1; piece <= sizeof(in); piece += 5) {
		struct reqscan s;
		size_t off, k;

		n_marks = 0;
		reqscan_init(&s, &limits);
		reqscan_set_mark(&s, on_mark, NULL);
		for (off = 0; off < sizeof(in) - 1; off += k) {
			k = sizeof(in) - 1 - off < piece ? sizeof(in) - 1 - off :
			    piece;
			ck_assert_int_eq(reqscan_feed(&s, in + off, k), 0);
		}
		ck_assert_int_eq(n_marks, 2);
		ck_assert_msg(memcmp(in + marks[0], "Content-Length:", 15) == 0,
		    "piece %zu: first mark at %llu", piece,
		    (unsigned long long)marks[0]);
		ck_assert_msg(memcmp(in + marks[1], "Transfer-Encoding:", 18) == 0,
		    "piece %zu: second mark at %llu", piece,
		    (unsigned long long)marks[1]);
		ck_assert_int_eq(s.requests, 3);
	}
}
END_TEST

/* A name that cannot be hidden fails the request: evhttp must not read it. */
START_TEST(framing_mark_refused)
{
	static const char in[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\n\r\nabc";
	struct reqscan s;

	reqscan_init(&s, &limits);
	reqscan_set_mark(&s, refuse_mark, NULL);
	ck_assert_int_eq(reqscan_feed(&s, in, sizeof(in) - 1), -1);
	ck_assert_int_eq(s.status, 500);
	ck_assert_int_eq(s.requests, 0);
	ck_assert_uint_eq(s.request_start, 0);
}
END_TEST


START_TEST(chunk_over_max_body)
{
	/* 0x20 + 0x21 = 65 > 64: refused at the end of the size line. */
	reject_why(AT(POST_CHUNKED "20\r\n0123456789abcdef0123456789abcdef\r\n"
	    "21\r", "\n"), 413, "request body too large");
}
END_TEST

START_TEST(chunk_at_max_body)
{
	pass_after(S(POST_CHUNKED "20\r\n0123456789abcdef0123456789abcdef\r\n"
	    "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n"));
}
END_TEST

/* Field lines */

START_TEST(value_nul)
{
	reject_why(AT("GET / HTTP/1.1\r\nHost: x\r\nX-A: a", "\0b\r\n\r\n"),
	    400, "header value contains a control character");
}
END_TEST

START_TEST(value_del)
{
	reject(AT("GET / HTTP/1.1\r\nHost: x\r\nX-A: a", "\x7f\r\n\r\n"), 400);
}
END_TEST

START_TEST(value_control)
{
	reject(AT("GET / HTTP/1.1\r\nHost: x\r\nX-A: a", "\x01\r\n\r\n"), 400);
}
END_TEST

START_TEST(value_tab_and_obs_text_accepted)
{
	pass_after(S("GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-A: a\tb \xe9\xff\r\n\r\n"));
}
END_TEST

START_TEST(value_cr_without_lf)
{
	reject_why(AT("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r", "b\r\n\r\n"),
	    400, "CR not followed by LF");
}
END_TEST

START_TEST(space_before_colon)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nContent-Length",
	    " : 3\r\n\r\nabc"), 400, "whitespace before colon");
}
END_TEST

START_TEST(empty_name)
{
	reject(AT("GET / HTTP/1.1\r\nHost: x\r\n", ": x\r\n\r\n"), 400);
}
END_TEST

START_TEST(obs_fold)
{
	reject_why(AT("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n", " b\r\n\r\n"),
	    400, "folded header line (obs-fold)");
}
END_TEST

START_TEST(obs_fold_tab)
{
	reject(AT("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n", "\tb\r\n\r\n"),
	    400);
}
END_TEST

START_TEST(name_without_colon)
{
	reject(AT("GET / HTTP/1.1\r\nHost: x\r\nX-A", "\r\n\r\n"), 400);
}
END_TEST

START_TEST(name_bad_char)
{
	reject(AT("GET / HTTP/1.1\r\nHost: x\r\nX", "(A): 1\r\n\r\n"), 400);
}
END_TEST

START_TEST(field_bare_lf)
{
	reject_why(AT("GET / HTTP/1.1\r\nHost: x", "\nX-A: 1\r\n\r\n"), 400,
	    "line ends in a bare LF");
}
END_TEST

START_TEST(head_end_bare_lf)
{
	reject(AT("GET / HTTP/1.1\r\nHost: x\r\n", "\n"), 400);
}
END_TEST

START_TEST(host_missing)
{
	reject_why(AT("GET / HTTP/1.1\r\nX-A: 1\r\n\r", "\n"), 400,
	    "missing Host header");
}
END_TEST

START_TEST(host_duplicate)
{
	reject_why(AT("GET / HTTP/1.1\r\nHost: x\r\nhost", ": y\r\n\r\n"),
	    400, "duplicate Host header");
}
END_TEST

START_TEST(host_empty)
{
	reject_why(AT("GET / HTTP/1.1\r\nHost:  \r\n\r", "\n"), 400,
	    "empty Host header");
}
END_TEST

START_TEST(host_http10)
{
	pass_after(S("GET / HTTP/1.0\r\n\r\n"));
	reject(AT("GET / HTTP/1.0\r\nHost: x\r\nHost", ": x\r\n\r\n"), 400);
}
END_TEST

START_TEST(expect_bad)
{
	reject_why(AT("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continuex\r\n"
	    "Content-Length: 1\r\n\r", "\na"), 417, "unsupported expectation");
}
END_TEST

START_TEST(expect_continue_accepted)
{
	pass_after(S("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue \r\n"
	    "Content-Length: 1\r\n\r\na"));
}
END_TEST

/* Request line */

START_TEST(connect_without_port)
{
	reject(AT("CONNECT example.com",
	    " HTTP/1.1\r\nHost: example.com\r\n\r\n"), 400);
}
END_TEST

START_TEST(connect_bad_ports)
{
	reject(AT("CONNECT example.com:", " HTTP/1.1\r\nHost: e\r\n\r\n"), 400);
	reject(AT("CONNECT example.com:0", " HTTP/1.1\r\nHost: e\r\n\r\n"),
	    400);
	reject(AT("CONNECT example.com:65536", " HTTP/1.1\r\nHost: e\r\n\r\n"),
	    400);
	reject(AT("CONNECT example.com:443", "x HTTP/1.1\r\nHost: e\r\n\r\n"),
	    400);
	reject(AT("CONNECT a:", "b:443 HTTP/1.1\r\nHost: e\r\n\r\n"), 400);
	reject(AT("CONNECT ", ":443 HTTP/1.1\r\nHost: e\r\n\r\n"), 400);
	reject(AT("CONNECT [::1]", " HTTP/1.1\r\nHost: e\r\n\r\n"), 400);
}
END_TEST

/* evhttp would wait for a body the tunnel then never gets. */
START_TEST(connect_with_body)
{
	reject_why(AT("CONNECT e:443 HTTP/1.1\r\nHost: e\r\n"
	    "Content-Length: 3\r\n\r", "\nabc"), 400, "CONNECT with a body");
	reject_why(AT("CONNECT e:443 HTTP/1.1\r\nHost: e\r\n"
	    "Transfer-Encoding: chunked\r\n\r", "\n0\r\n\r\n"), 400,
	    "CONNECT with a body");
	{
		static const char in[] = CLEAN "CONNECT e:443 HTTP/1.1\r\n"
		    "Host: e\r\nContent-Length: 0\r\n\r\n";
		struct expect e = { .requests = 2, .offset = sizeof(in) - 1,
		    .request_start = sizeof(CLEAN) - 1 };

		check(S(in), &e);
	}
}
END_TEST

/* What the body check saw, and what it answers. */
static struct {
	int calls;
	char cred[64];
	bool had_cred;
	int answer;
} bc;

static int
body_check(void *arg, const char *cred, const char **why)
{
	bc.calls++;
	bc.had_cred = cred != NULL;
	snprintf(bc.cred, sizeof(bc.cred), "%s", cred != NULL ? cred : "");
	*why = "authentication required";
	return bc.answer;
}

/* Feeds in whole, and in 1- and 7-byte pieces, to a scanner with the check. */
static int
feed_checked(const char *in, size_t len, size_t piece)
{
	struct reqscan s;
	int rc = 0;

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_set_body_check(&s, body_check, NULL), 0);
	for (size_t off = 0; off < len && rc == 0; off += piece)
		rc = reqscan_feed(&s, in + off, len - off < piece ? len - off :
		    piece);
	ck_assert_msg(rc == 0 || s.status == 407, "fails with the check's 407");
	reqscan_clear(&s);
	return rc;
}

/*
 * Proxy authentication before a body: the check sees the first
 * Proxy-Authorization value of a head with a body, only then, and its
 * answer fails the request before any body byte.
 */
START_TEST(body_check_credentials)
{
	static const char post[] = "POST http://o/ HTTP/1.1\r\nHost: o\r\n"
	    "Proxy-Authorization:  Basic YTpi\r\n"
	    "proxy-authorization: Basic second\r\n"
	    "Content-Length: 3\r\n\r\nabc";
	static const char bare[] = "POST http://o/ HTTP/1.1\r\nHost: o\r\n"
	    "Content-Length: 3\r\n\r\nabc";
	static const char get[] = "GET http://o/ HTTP/1.1\r\nHost: o\r\n\r\n";
	static const char tab[] = "POST http://o/ HTTP/1.1\r\nHost: o\r\n"
	    "Proxy-Authorization:\t Basic YTpi\r\nContent-Length: 1\r\n\r\nx";
	size_t pieces[] = { sizeof(post), 1, 7 };

	for (size_t i = 0; i < 3; i++) {
		memset(&bc, 0, sizeof(bc));
		ck_assert_int_eq(feed_checked(post, sizeof(post) - 1, pieces[i]), 0);
		ck_assert_int_eq(bc.calls, 1);
		ck_assert_msg(bc.had_cred, "credentials seen");
		ck_assert_str_eq(bc.cred, "Basic YTpi");

		memset(&bc, 0, sizeof(bc));
		bc.answer = 407;
		ck_assert_int_eq(feed_checked(bare, sizeof(bare) - 1, pieces[i]), -1);
		ck_assert_msg(bc.calls == 1 && !bc.had_cred, "none seen");

		memset(&bc, 0, sizeof(bc));
		bc.answer = 407;
		ck_assert_int_eq(feed_checked(get, sizeof(get) - 1, pieces[i]), 0);
		ck_assert_int_eq(bc.calls, 0);

		/* A tab before the credentials is fine (evhttp takes it too). */
		memset(&bc, 0, sizeof(bc));
		ck_assert_int_eq(feed_checked(tab, sizeof(tab) - 1, pieces[i]), 0);
		ck_assert_str_eq(bc.cred, "Basic YTpi");
	}
}
END_TEST

START_TEST(connect_with_port)
{
	static const char head[] =
	    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
	static const char tunnel[] = "\x16\x03\x01 not http\n\r\n\r\n\0";
	struct expect e = { .requests = 2,
	    .request_start = sizeof(CLEAN) - 1 };
	char *in, *bytes;
	size_t len, blen;

	/*
	 * The bytes after the head are the tunnel's: counted, never scanned.
	 * The CONNECT counts as a request, but request_start stays on it.
	 */
	bytes = cat(S(head), S(tunnel), &blen);
	in = cat(S(CLEAN), bytes, blen, &len);
	e.offset = len;
	check(in, len, &e);
	free(bytes);
	free(in);
}
END_TEST

START_TEST(connect_v6)
{
	static const char in[] = CLEAN
	    "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n";
	struct expect e = { .requests = 2, .offset = sizeof(in) - 1,
	    .request_start = sizeof(CLEAN) - 1 };

	check(S(in), &e);
}
END_TEST

START_TEST(version_huge)
{
	reject(AT("GET / HTTP/4", "294967295.255\r\nHost: x\r\n\r\n"), 400);
}
END_TEST

START_TEST(version_2)
{
	/* Well-formed: known only once the line has ended. */
	reject_why(AT("GET / HTTP/2.0\r", "\nHost: x\r\n\r\n"), 505,
	    "HTTP version not supported");
}
END_TEST

START_TEST(version_09)
{
	reject(AT("GET / HTTP/0.9\r", "\nHost: x\r\n\r\n"), 505);
}
END_TEST

START_TEST(version_1_2)
{
	reject(AT("GET / HTTP/1.2\r", "\nHost: x\r\n\r\n"), 505);
}
END_TEST

START_TEST(version_leading_zero)
{
	reject(AT("GET / HTTP/1.0", "1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET / HTTP/0", "1.1\r\nHost: x\r\n\r\n"), 400);
}
END_TEST

START_TEST(version_trailing_space)
{
	reject(AT("GET / HTTP/1.1", " \r\nHost: x\r\n\r\n"), 400);
}
END_TEST

START_TEST(version_lower_case)
{
	reject_why(AT("GET / ", "http/1.1\r\nHost: x\r\n\r\n"), 400,
	    "malformed HTTP version");
}
END_TEST

START_TEST(method_lower_case)
{
	reject_why(AT("get", " / HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "method name must be upper case");
}
END_TEST

/*
 * Extension methods pass, bodiless, and their names wait in order for
 * the exchange (evhttp only says "unknown").
 */
START_TEST(method_unknown)
{
	struct reqscan s;
	char name[32];
	static const char two[] = "BREW / HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	    "PROPFINDALLTHETHIN / HTTP/1.1\r\nHost: x\r\n\r\n";

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, two, sizeof(two) - 1), 0);
	ck_assert_uint_eq(s.requests, 3);
	ck_assert(reqscan_take_method(&s, name, sizeof(name)));
	ck_assert_str_eq(name, "BREW");
	ck_assert(reqscan_take_method(&s, name, sizeof(name)));
	ck_assert_str_eq(name, "PROPFINDALLTHETHIN");
	ck_assert_msg(!reqscan_take_method(&s, name, sizeof(name)),
	    "only extension methods are queued");

	reject_why(AT("PROPFINDALLTHETHINGS", " / HTTP/1.1\r\nHost: x\r\n\r\n"),
	    501, "method name too long");
	/* Bodies are ferryd's to read, whatever the method (client.h). */
	pass_after(S("BREW / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na"));
}
END_TEST

/* More pipelined extension-method heads than can wait: 501. */
START_TEST(method_unknown_queue_full)
{
	struct reqscan s;
	int i;

	reqscan_init(&s, &limits);
	for (i = 0; i < REQSCAN_EXT_QUEUE; i++)
		ck_assert_int_eq(reqscan_feed(&s,
		    S("BREW / HTTP/1.1\r\nHost: x\r\n\r\n")), 0);
	ck_assert_int_eq(reqscan_feed(&s,
	    S("BREW / HTTP/1.1\r\nHost: x\r\n\r\n")), -1);
	ck_assert_int_eq(s.status, 501);
}
END_TEST

START_TEST(method_not_token)
{
	reject(AT("G", "@T / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject_why(AT("", " GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "empty method");
}
END_TEST

START_TEST(request_line_spaces)
{
	reject(AT("GET ", " / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET / ", " HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET / ", "a HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET", "\t/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}
END_TEST

START_TEST(request_line_bare_lf)
{
	reject_why(AT("GET / HTTP/1.1", "\nHost: x\r\n\r\n"), 400,
	    "line ends in a bare LF");
}
END_TEST

START_TEST(target_forms)
{
	reject(AT("GET ", "* HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("OPTIONS *", "x HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET example.com", "/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET mailto:", "a@b HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET /a", "\x7f HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET /", "\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	pass_after(S("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET HTTP://example.com:80/a?b=c HTTP/1.1\r\n"
	    "Host: x\r\n\r\n"));
}
END_TEST

/*
 * The authority of an absolute-form target: what evhttp's URI parser would
 * answer with its own HTML page is a 400 from the scanner.
 */
START_TEST(target_authority)
{
	reject_why(AT("GET http://127.0.0.1:6553", "6/ HTTP/1.1\r\nHost: x\r\n\r\n"),
	    400, "port out of range in request target");
	reject_why(AT("GET http://h:80", "a/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "invalid port in request target");
	reject(AT("GET http://h:1", ":2/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject_why(AT("GET http://[::1", " HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "bad IPv6 address in target");
	reject_why(AT("GET http://[::", "g]/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "bad IPv6 address in target");
	reject_why(AT("GET http://[1::2::3", "]/ HTTP/1.1\r\nHost: x\r\n\r\n"),
	    400, "bad IPv6 address in target");
	reject(AT("GET http://[::1]", "x/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject_why(AT("GET http://u", "@h/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "user info in request target");
	reject_why(AT("GET http://a", "\"b/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "invalid character in target host");
	reject(AT("GET http://a", "[b/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject_why(AT("GET http://a%4", "g/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "bad percent-encoding in target host");
	reject(AT("GET http://a%4", " HTTP/1.1\r\nHost: x\r\n\r\n"), 400);

	pass_after(S("GET http://127.0.0.1:65535/ HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET http://[::1]:80/a HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET http://[::1] HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET http://h:/x HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET http://a%41b.c_d~e HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET http://h?q=a:b@c HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET http://h/p:@[] HTTP/1.1\r\nHost: x\r\n\r\n"));

	/* evhttp parses "//authority" in origin-form too. */
	reject_why(AT("GET //h:6553", "6/x HTTP/1.1\r\nHost: x\r\n\r\n"), 400,
	    "port out of range in request target");
	reject(AT("GET //a", "^b/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	reject(AT("GET //[::1", "/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	pass_after(S("GET //h/x HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET // HTTP/1.1\r\nHost: x\r\n\r\n"));
	pass_after(S("GET /a//b:c HTTP/1.1\r\nHost: x\r\n\r\n"));
}
END_TEST

/*
 * Every printable byte inside a target host: the scanner takes runs of
 * host bytes by a class table, which must say exactly what evhttp's
 * parser allows (unreserved, sub-delims; "%", "[", ":", "@" and the
 * bytes that end the authority have tests of their own).
 */
START_TEST(target_host_bytes)
{
	static const char allowed[] = "-._~!$&'()*+,;=";
	char in[64];
	int c, len;

	for (c = 0x21; c < 0x7f; c++) {
		if (strchr("%[:@/?#", c) != NULL)
			continue;
		len = snprintf(in, sizeof(in),
		    "GET http://ab%cd/ HTTP/1.1\r\nHost: x\r\n\r\n", c);
		if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
		    (c | 0x20) <= 'z') || strchr(allowed, c) != NULL)
			pass_after(in, (size_t)len);
		else
			reject_why(in, (size_t)len, sizeof("GET http://ab") - 1,
			    400, "invalid character in target host");
	}
}
END_TEST

/* evhttp refuses request lines shorter than "GET / HTTP/1.0" itself. */
START_TEST(request_line_short)
{
	reject_why(AT("M / HTTP/1.1\r", "\nHost: x\r\n\r\n"), 400,
	    "request line too short");
	reject(AT("A / HTTP/1.0\r", "\n\r\n"), 400);
	pass_after(S("AB /x HTTP/1.1\r\nHost: x\r\n\r\n"));
}
END_TEST

/* Bodies on methods evhttp does not read them for */

START_TEST(get_with_body)
{
	reject_why(AT("HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r",
	    "\nabcde"), 400, "request body not allowed for this method");
	reject_why(AT("TRACE / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding",
	    ": chunked\r\n\r\n0\r\n\r\n"), 400,
	    "request body not allowed for this method");
	reject(AT("HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r",
	    "\na"), 400);
}
END_TEST

/* evhttp 2.1.12 reads bodies of GET, DELETE and OPTIONS: so may clients. */
START_TEST(get_delete_options_bodies)
{
	pass_after(S("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "\r\nabcde"));
	pass_after(S("DELETE / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
	pass_after(S("OPTIONS / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
	    "\r\nab"));
}
END_TEST

START_TEST(get_with_cl_0)
{
	pass_after(S("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
}
END_TEST

/* Limits */

START_TEST(header_too_large)
{
	char bad[400];

	/* A 250-byte field after a small request line: 431. */
	snprintf(bad, sizeof(bad), "GET / HTTP/1.1\r\nHost: x\r\nX-A: %0250d"
	    "\r\n\r\n", 0);
	reject_why(bad, strlen(bad), limits.max_header_size, 431,
	    "request header too large");
}
END_TEST

START_TEST(request_line_too_large)
{
	char bad[400];

	snprintf(bad, sizeof(bad), "GET /%0300d HTTP/1.1\r\nHost: x\r\n\r\n",
	    0);
	reject_why(bad, strlen(bad), limits.max_header_size, 414,
	    "request line too long");
}
END_TEST

START_TEST(head_at_limit)
{
	char head[300];
	size_t fill;

	/* Exactly max_header_size bytes passes; one more is 431. */
	fill = limits.max_header_size - strlen("GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-A: \r\n\r\n");
	snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: x\r\nX-A: %0*d"
	    "\r\n\r\n", (int)fill, 0);
	ck_assert_msg(strlen(head) == limits.max_header_size, "head size");
	pass_after(head, strlen(head));
	snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: x\r\nX-A: %0*d"
	    "\r\n\r\n", (int)fill + 1, 0);
	reject(head, strlen(head), limits.max_header_size, 431);
}
END_TEST

START_TEST(limit_without_line_end)
{
	char head[400];

	/* A value or target that never ends is refused once it passes the
	 * limit, not scanned without bound. */
	snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: x\r\nX-A: %0300d",
	    0);
	reject(head, strlen(head), limits.max_header_size, 431);
	snprintf(head, sizeof(head), "GET /%0300d", 0);
	reject(head, strlen(head), limits.max_header_size, 414);
}
END_TEST

/* Stream handling */

START_TEST(empty_line_before_request)
{
	static const char first[] = "\r\n" CLEAN;
	static const char chunked[] = CLEAN POST_CHUNKED "0\r\n\r\n";
	static const char after[] = CLEAN POST_CHUNKED "0\r\n\r\n\r\n" CLEAN;
	struct expect e = { .status = 400,
	    .why = "empty line before the request line",
	    .offset = 1 };

	/* evhttp would skip it, a peer behind us might not: refused. */
	check(S(first), &e);
	reject_why(AT("", "\r\n\r\n\r\n\r\n" CLEAN), 400,
	    "empty line before the request line");
	reject(AT("", "\r\r\n" CLEAN), 400);
	reject(AT("", "\n" CLEAN), 400);

	/* After a body as after a head: the CRLF ending a body is its own. */
	e.requests = 2;
	e.request_start = sizeof(chunked) - 1;
	e.offset = e.request_start + 1;
	check(S(after), &e);
}
END_TEST

START_TEST(post_cl_identical)
{
	/* Body bytes are counted, not read: anything may be in them. */
	pass(S("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 24\r\n\r\n"
	    "\0\r\nGET / HTTP/1.1\n\x01\xff\r\n\r\n"), 1);
}
END_TEST

START_TEST(post_chunked_identical)
{
	pass(S(POST_CHUNKED "5\r\nab\0\r\n\r\n17\r\n"
	    "0\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\n0\r\n\r\n"), 1);
}
END_TEST

START_TEST(pipelined_clean)
{
	pass(S(CLEAN "POST /b HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"
	    POST_CHUNKED "1\r\nz\r\n0\r\n\r\n" CLEAN), 4);
}
END_TEST

START_TEST(body_end_is_request_end)
{
	static const char post[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\n\r\nabc";
	static const char in[] = CLEAN "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\n\r\nabc"
	    "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n";
	struct expect e = { .status = 400, .why = "duplicate Host header",
	    .requests = 2,
	    .request_start = sizeof(CLEAN) - 1 + sizeof(post) - 1 };

	/* The byte after the CL body starts the next request: a head. */
	e.offset = e.request_start +
	    strlen("GET / HTTP/1.1\r\nHost: x\r\nHost:");
	check(S(in), &e);
}
END_TEST

START_TEST(request_start_pipelined)
{
	static const char one[] = CLEAN "GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-A: \x01\r\n\r\n";
	static const char two[] = CLEAN "POST /p HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 2\r\n\r\nok" "GET / HTTP/1.1\r\nHost: x\r\n"
	    "X-A: \x01\r\n\r\n";
	static const char post[] = "POST /p HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 2\r\n\r\nok";
	static const char bad_head[] = "GET / HTTP/1.1\r\nHost: x\r\nX-A: ";
	struct expect e = { .status = 400, .requests = 1,
	    .why = "header value contains a control character" };

	/* One clean request, then a bad one: evhttp keeps the first only. */
	e.request_start = sizeof(CLEAN) - 1;
	e.offset = e.request_start + sizeof(bad_head);
	check(S(one), &e);
	ck_assert_msg(memcmp(one + e.request_start, "GET / ", 6) == 0,
	    "request_start is the first byte of the bad request");

	/* Two clean requests (the second with a body), then a bad one. */
	e.requests = 2;
	e.request_start = sizeof(CLEAN) - 1 + sizeof(post) - 1;
	e.offset = e.request_start + sizeof(bad_head);
	check(S(two), &e);
	ck_assert_msg(memcmp(two + e.request_start, "GET / ", 6) == 0,
	    "request_start is the first byte of the bad request");
}
END_TEST

START_TEST(request_start_in_chunked_body)
{
	static const char ok[] = CLEAN POST_CHUNKED
	    "3\r\nabc\r\n4\r\nabcd\r\n0";
	static const char in[] = CLEAN POST_CHUNKED "3\r\nabc\r\n4\r\nabcd\r\n"
	    "0x\r\n\r\n" CLEAN;
	struct expect e = { .status = 400, .why = "invalid chunk size",
	    .requests = 1, .request_start = sizeof(CLEAN) - 1,
	    .offset = sizeof(ok) };

	/* The second request breaks in its body: its head goes too. */
	check(S(in), &e);
}
END_TEST

START_TEST(cl_body_split)
{
	static const char head[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 10\r\n\r\n";
	struct reqscan s;
	uint64_t body_at = sizeof(CLEAN) - 1 + sizeof(head) - 1;

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, S(CLEAN "POST / HTTP/1.1\r\nHo")), 0);
	ck_assert_msg(s.requests == 1 && s.request_start == sizeof(CLEAN) - 1,
	    "head of the second request under way");
	ck_assert_int_eq(reqscan_feed(&s, S("st: x\r\nContent-Length: 10\r\n"
	    "\r\nabc")), 0);
	ck_assert_msg(s.offset == body_at + 3, "offset %llu in the body",
	    (unsigned long long)s.offset);
	ck_assert_msg(s.requests == 1 && s.request_start == sizeof(CLEAN) - 1,
	    "in the body: the request is not complete");
	ck_assert_msg(!reqscan_in_head(&s), "in the body: not in a head");
	ck_assert_int_eq(reqscan_feed(&s, S("\r\n\r\nG")), 0);
	ck_assert_msg(s.offset == body_at + 8 && s.requests == 1,
	    "body bytes that look like a head end are counted as body");
	ck_assert_int_eq(reqscan_feed(&s, S("ET")), 0);
	ck_assert_msg(s.offset == body_at + 10 && s.requests == 2 &&
	    s.request_start == body_at + 10,
	    "the last body byte ends the request");
	ck_assert_msg(!reqscan_in_head(&s), "between requests");
	ck_assert_int_eq(reqscan_feed(&s, S("HEAD / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1\r\n\r\n")), -1);
	ck_assert_msg(s.status == 400 && s.requests == 2 &&
	    s.request_start == body_at + 10,
	    "a HEAD with a body after it: dropped from its first byte");
}
END_TEST

START_TEST(in_head_transitions)
{
	struct reqscan s;

	reqscan_init(&s, &limits);
	ck_assert_msg(!reqscan_in_head(&s), "fresh scanner not in a head");
	ck_assert_int_eq(reqscan_feed(&s, "", 0), 0);
	ck_assert_msg(s.offset == 0 && !reqscan_in_head(&s),
	    "nothing fed: nothing changes");
	ck_assert_int_eq(reqscan_feed(&s, S("G")), 0);
	ck_assert_msg(reqscan_in_head(&s), "one head byte: in a head");
	ck_assert_int_eq(reqscan_feed(&s, S("ET / HTTP/1.1\r\nHost: x\r\n\r")),
	    0);
	ck_assert_msg(reqscan_in_head(&s), "last LF missing: in a head");
	ck_assert_msg(s.requests == 0 && s.request_start == 0,
	    "incomplete head: no request yet");
	ck_assert_int_eq(reqscan_feed(&s, S("\n")), 0);
	ck_assert_msg(!reqscan_in_head(&s), "complete head: not in a head");
	ck_assert_msg(s.requests == 1 && s.request_start == s.offset,
	    "one request done, the next starts after it");
	ck_assert_int_eq(reqscan_feed(&s, S("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 4\r\n\r\nab")), 0);
	ck_assert_msg(!reqscan_in_head(&s), "in a body: not in a head");
	ck_assert_int_eq(reqscan_feed(&s, S("cdP")), 0);
	ck_assert_msg(reqscan_in_head(&s) && s.requests == 2,
	    "the byte after the body starts a head");
	ck_assert_int_eq(reqscan_feed(&s, S("\n")), -1);
	ck_assert_msg(!reqscan_in_head(&s), "failed: not in a head");
}
END_TEST

START_TEST(fail_in_head)
{
	static const char in[] = CLEAN "GET / HTTP/1.1\r\nHo";
	struct reqscan s;

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, S(in)), 0);
	ck_assert_msg(reqscan_in_head(&s), "partial head");
	ck_assert_int_eq(reqscan_fail(&s, 408, "header timeout"), -1);
	ck_assert_msg(s.status == 408 && strcmp(s.why, "header timeout") == 0,
	    "status and why from outside");
	ck_assert_msg(s.requests == 1, "the timed-out request is number 1");
	ck_assert_msg(s.request_start == sizeof(CLEAN) - 1 &&
	    s.offset == sizeof(in) - 1, "the timed-out request is dropped");
	ck_assert_msg(!reqscan_in_head(&s), "failed: not in a head");
	ck_assert_int_eq(reqscan_feed(&s, S(CLEAN)), -1);
	ck_assert_msg(s.offset == sizeof(in) - 1 && s.requests == 1,
	    "nothing scanned after the failure");
	ck_assert_int_eq(reqscan_fail(&s, 400, "again"), -1);
	ck_assert_msg(s.status == 408 && strcmp(s.why, "header timeout") == 0,
	    "the first status stays");
}
END_TEST

START_TEST(fail_keeps_scanner_status)
{
	static const char in[] = CLEAN "GET / HTTP/1.1\r\nHost: x\r\nHost: y";
	struct reqscan s;
	uint64_t offset;

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, S(in)), -1);
	ck_assert_msg(s.status == 400, "duplicate Host found");
	offset = s.offset;
	ck_assert_int_eq(reqscan_fail(&s, 408, "header timeout"), -1);
	ck_assert_msg(s.status == 400 &&
	    strcmp(s.why, "duplicate Host header") == 0,
	    "the scanner's status and why stay");
	ck_assert_msg(s.offset == offset && s.requests == 1 &&
	    s.request_start == sizeof(CLEAN) - 1,
	    "a failure from outside moves nothing");
}
END_TEST

START_TEST(fail_idle_and_in_body)
{
	static const char chunk[] = POST_CHUNKED "2\r\nab\r\n1";
	static const char trailer[] = CLEAN POST_CHUNKED "0\r\n";
	struct reqscan s;

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_fail(&s, 408, "idle"), -1);
	ck_assert_msg(s.status == 408 && s.offset == 0 &&
	    s.request_start == 0 && s.requests == 0, "idle: nothing to drop");
	ck_assert_int_eq(reqscan_feed(&s, S(CLEAN)), -1);
	ck_assert_msg(s.offset == 0 && s.requests == 0,
	    "nothing scanned after the failure");

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, S(chunk)), 0);
	ck_assert_int_eq(reqscan_fail(&s, 408, "slow"), -1);
	ck_assert_msg(s.status == 408 && s.request_start == 0 &&
	    s.offset == sizeof(chunk) - 1,
	    "chunk-size line: the whole request is dropped");

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, S(trailer)), 0);
	ck_assert_int_eq(reqscan_fail(&s, 408, "slow"), -1);
	ck_assert_msg(s.requests == 1 && s.request_start == sizeof(CLEAN) - 1,
	    "trailer section: the request is dropped, CLEAN stays");
}
END_TEST

START_TEST(large_body_not_scanned)
{
	static const char head[] =
	    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
	struct reqscan_limits big = { .max_header_size = 8192,
	    .max_body_size = 1000000 };
	struct reqscan s;
	char *body = malloc(1000000);
	size_t off;

	ck_assert_msg(body != NULL, "malloc");
	memset(body, '\n', 1000000);
	reqscan_init(&s, &big);
	ck_assert_int_eq(reqscan_feed(&s, S(head)), 0);
	for (off = 0; off < 1000000; off += 4096) {
		ck_assert_int_eq(reqscan_feed(&s, body + off,
		    1000000 - off < 4096 ? 1000000 - off : 4096), 0);
		ck_assert_msg(!reqscan_in_head(&s),
		    "body bytes are not a head");
	}
	ck_assert_msg(s.requests == 1, "request complete");
	ck_assert_msg(s.offset == sizeof(head) - 1 + 1000000 &&
	    s.request_start == s.offset, "all bytes counted");
	ck_assert_int_eq(reqscan_feed(&s, body, 1), -1);
	ck_assert_msg(s.status == 400,
	    "the same byte after the body is refused");
	free(body);
}
END_TEST

START_TEST(partial_head)
{
	struct expect e = { .requests = 1, .in_head = true,
	    .request_start = sizeof(CLEAN) - 1 };
	static const char in[] = CLEAN "GET / HTTP/1.1\r\nHost";

	e.offset = sizeof(in) - 1;
	check(S(in), &e);
}
END_TEST

/* Builds the suite: one test case per behaviour. */
/*
 * A refused client: the next request fails at its first byte with 403,
 * after the clean requests before it; one already begun is finished, and
 * clearing the refusal lets the next one through.
 */
START_TEST(refuse)
{
	struct reqscan s;
	static const char post[] = "POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\n\r\n";

	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, S(CLEAN)), 0);
	reqscan_refuse(&s, 403, "access denied");
	ck_assert_msg(reqscan_feed(&s, S(CLEAN)) == -1, "refused at once");
	ck_assert_int_eq(s.status, 403);
	ck_assert_str_eq(s.why, "access denied");
	ck_assert_uint_eq(s.request_start, sizeof(CLEAN) - 1);
	ck_assert_uint_eq(s.offset, sizeof(CLEAN));
	ck_assert_uint_eq(s.requests, 1);

	/* Refused while a request's body is on its way: that one finishes. */
	reqscan_init(&s, &limits);
	ck_assert_int_eq(reqscan_feed(&s, post, sizeof(post) - 1), 0);
	reqscan_refuse(&s, 403, "access denied");
	ck_assert_int_eq(reqscan_feed(&s, S("hello")), 0);
	ck_assert_uint_eq(s.requests, 1);
	reqscan_refuse(&s, 0, NULL);
	ck_assert_msg(reqscan_feed(&s, S(CLEAN)) == 0, "allowed again");
	ck_assert_uint_eq(s.requests, 2);
}
END_TEST

static Suite *
reqscan_suite(void)
{
	Suite *s = suite_create("reqscan");
	TCase *tc;

	tc = tcase_create("content-length");
	tcase_add_test(tc, cl_two_different);
	tcase_add_test(tc, cl_duplicate_equal);
	tcase_add_test(tc, cl_plus);
	tcase_add_test(tc, cl_minus);
	tcase_add_test(tc, cl_list);
	tcase_add_test(tc, cl_hex);
	tcase_add_test(tc, cl_inner_space);
	tcase_add_test(tc, cl_empty);
	tcase_add_test(tc, cl_too_many_digits);
	tcase_add_test(tc, cl_tab_before_value);
	tcase_add_test(tc, cl_ows_accepted);
	tcase_add_test(tc, cl_over_max_body);
	tcase_add_test(tc, cl_at_max_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("transfer-encoding");
	tcase_add_test(tc, te_gzip);
	tcase_add_test(tc, te_gzip_chunked);
	tcase_add_test(tc, te_chunked_gzip);
	tcase_add_test(tc, te_chunked_twice);
	tcase_add_test(tc, te_chunked_comma);
	tcase_add_test(tc, te_identity);
	tcase_add_test(tc, te_xchunked);
	tcase_add_test(tc, te_and_cl);
	tcase_add_test(tc, cl_and_te);
	tcase_add_test(tc, te_http10);
	tcase_add_test(tc, te_duplicate);
	tcase_add_test(tc, te_tab_before_value);
	tcase_add_test(tc, te_case_and_ows_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("chunked");
	tcase_add_test(tc, chunk_size_0x);
	tcase_add_test(tc, chunk_size_plus);
	tcase_add_test(tc, chunk_size_space_before);
	tcase_add_test(tc, chunk_size_space_after);
	tcase_add_test(tc, chunk_extension);
	tcase_add_test(tc, chunk_size_too_long);
	tcase_add_test(tc, chunk_size_bare_lf);
	tcase_add_test(tc, chunk_missing_crlf);
	tcase_add_test(tc, chunk_data_bare_lf);
	tcase_add_test(tc, chunk_trailer);
	tcase_add_test(tc, chunk_trailer_too_large);
	tcase_add_test(tc, framing_marked);
	tcase_add_test(tc, framing_mark_refused);
	tcase_add_test(tc, chunk_over_max_body);
	tcase_add_test(tc, chunk_at_max_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_add_test(tc, value_nul);
	tcase_add_test(tc, value_del);
	tcase_add_test(tc, value_control);
	tcase_add_test(tc, value_tab_and_obs_text_accepted);
	tcase_add_test(tc, value_cr_without_lf);
	tcase_add_test(tc, space_before_colon);
	tcase_add_test(tc, empty_name);
	tcase_add_test(tc, obs_fold);
	tcase_add_test(tc, obs_fold_tab);
	tcase_add_test(tc, name_without_colon);
	tcase_add_test(tc, name_bad_char);
	tcase_add_test(tc, field_bare_lf);
	tcase_add_test(tc, head_end_bare_lf);
	tcase_add_test(tc, host_missing);
	tcase_add_test(tc, host_duplicate);
	tcase_add_test(tc, host_empty);
	tcase_add_test(tc, host_http10);
	tcase_add_test(tc, expect_bad);
	tcase_add_test(tc, expect_continue_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("request-line");
	tcase_add_test(tc, connect_without_port);
	tcase_add_test(tc, connect_bad_ports);
	tcase_add_test(tc, connect_with_body);
	tcase_add_test(tc, body_check_credentials);
	tcase_add_test(tc, connect_with_port);
	tcase_add_test(tc, connect_v6);
	tcase_add_test(tc, version_huge);
	tcase_add_test(tc, version_2);
	tcase_add_test(tc, version_09);
	tcase_add_test(tc, version_1_2);
	tcase_add_test(tc, version_leading_zero);
	tcase_add_test(tc, version_trailing_space);
	tcase_add_test(tc, version_lower_case);
	tcase_add_test(tc, method_lower_case);
	tcase_add_test(tc, method_unknown);
	tcase_add_test(tc, method_unknown_queue_full);
	tcase_add_test(tc, method_not_token);
	tcase_add_test(tc, request_line_spaces);
	tcase_add_test(tc, request_line_bare_lf);
	tcase_add_test(tc, target_forms);
	tcase_add_test(tc, target_authority);
	tcase_add_test(tc, target_host_bytes);
	tcase_add_test(tc, request_line_short);
	suite_add_tcase(s, tc);

	tc = tcase_create("body-methods");
	tcase_add_test(tc, get_with_body);
	tcase_add_test(tc, get_delete_options_bodies);
	tcase_add_test(tc, get_with_cl_0);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, header_too_large);
	tcase_add_test(tc, request_line_too_large);
	tcase_add_test(tc, head_at_limit);
	tcase_add_test(tc, limit_without_line_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_add_test(tc, empty_line_before_request);
	tcase_add_test(tc, post_cl_identical);
	tcase_add_test(tc, post_chunked_identical);
	tcase_add_test(tc, pipelined_clean);
	tcase_add_test(tc, body_end_is_request_end);
	tcase_add_test(tc, partial_head);
	tcase_add_test(tc, large_body_not_scanned);
	suite_add_tcase(s, tc);

	tc = tcase_create("request-start");
	tcase_add_test(tc, request_start_pipelined);
	tcase_add_test(tc, request_start_in_chunked_body);
	tcase_add_test(tc, cl_body_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("in-head");
	tcase_add_test(tc, in_head_transitions);
	suite_add_tcase(s, tc);

	tc = tcase_create("fail");
	tcase_add_test(tc, fail_in_head);
	tcase_add_test(tc, fail_keeps_scanner_status);
	tcase_add_test(tc, fail_idle_and_in_body);
	tcase_add_test(tc, refuse);
	suite_add_tcase(s, tc);

	return s;
}


/* Runs the suite; fails when any test does. */
int
main(void)
{
	SRunner *sr = srunner_create(reqscan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
