/*
 * dnscache.h - resolved addresses kept for dns_cache_ttl, so that a new
 * upstream connection to a host resolved a moment ago starts at once.
 * evdns_getaddrinfo() does not report record TTLs: the configured TTL is
 * the only one.  Names that did not resolve are not kept.
 *
 * Owner: the server; times are monotonic usec.
 */
#ifndef FERRYD_DNSCACHE_H
#define FERRYD_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "address.h"

struct dnscache;

/* A cache of at most max_entries names (each with its port). */
struct dnscache *dnscache_new(size_t max_entries);
void dnscache_free(struct dnscache *dc);

/*
 * Copies at most max routes kept for host:port into routes and returns
 * how many; 0 when there is no live entry (an expired one is dropped).
 */
size_t dnscache_get(struct dnscache *dc, const char *host, uint16_t port,
    struct route *routes, size_t max, int64_t now);

/*
 * Keeps routes[0..n) for host:port until expires, replacing an older
 * entry.  When the cache is full, expired entries go first, then the one
 * that expires soonest.
 */
void dnscache_put(struct dnscache *dc, const char *host, uint16_t port,
    const struct route *routes, size_t n, int64_t expires, int64_t now);

/* Live and expired entries held (for tests). */
size_t dnscache_size(const struct dnscache *dc);

#endif
