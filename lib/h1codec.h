/*
 * h1codec.h - the HTTP/1.1 codec of one upstream connection (codec.h):
 * one stream at a time; it writes the stream's request and frames the
 * response that comes back (interim responses, the head, the body by its
 * framing, the end).
 *
 * Owner: the upstream connection it is made for (upstream.h); the
 * connector makes it when the connection is up.
 */
#ifndef FERRYD_H1CODEC_H
#define FERRYD_H1CODEC_H

#include "codec.h"

struct upstream;

/* Interim (1xx) responses before the final one, at most. */
#define H1CODEC_MAX_INTERIM 32

extern const struct codec_class h1codec_class;

/* A codec for up, which must not have one; NULL when out of memory. */
struct codec *h1codec_new(struct upstream *up);

#endif
