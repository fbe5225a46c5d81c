/*
 * originver.h - the origins ferryd has heard answer in HTTP/1.0.  A
 * proxy must not pass an Expect: 100-continue to a next hop it knows to
 * be HTTP/1.0, which would never answer it (RFC 9110 10.1.1): the body
 * would wait out the fallback second each time.  What is known is only
 * what the last response from an address said; a small direct-mapped
 * table, a newcomer taking its slot from whoever held it.
 *
 * Owner: the server, one for its worker (struct worker's originver);
 * no references into it are kept.
 */
#ifndef FERRYD_ORIGINVER_H
#define FERRYD_ORIGINVER_H

#include <stdbool.h>
#include <stddef.h>

struct address;
struct originver;

/* A table of slots entries (at least 1); NULL when out of memory. */
struct originver *originver_new(size_t slots);
void originver_free(struct originver *ov);

/* addr's origin answered HTTP/1.minor: remembered when 0, forgotten else. */
void originver_note(struct originver *ov, const struct address *addr,
    int minor);

/* True when addr's last response seen was HTTP/1.0. */
bool originver_is_http10(const struct originver *ov,
    const struct address *addr);

#endif
