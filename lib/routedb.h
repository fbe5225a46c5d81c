/*
 * routedb.h - the route database: routes whose connect failed recently.
 * Route selection tries them last until they succeed again or their entry
 * is older than the TTL.  Owned by the pool; times are monotonic usec.
 */
#ifndef FERRYD_ROUTEDB_H
#define FERRYD_ROUTEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"

struct routedb;

struct routedb *routedb_new(int64_t ttl);
void routedb_free(struct routedb *db);
void routedb_set_ttl(struct routedb *db, int64_t ttl);

/* A connect over route failed at now (a later failure refreshes the entry). */
void routedb_failed(struct routedb *db, const struct route *route, int64_t now);
/* A connect over route succeeded: forget its failure. */
void routedb_connected(struct routedb *db, const struct route *route);
/* True while route has an entry younger than the TTL (expired ones are dropped). */
bool routedb_should_postpone(struct routedb *db, const struct route *route,
    int64_t now);
/*
 * Reorders routes[0..n) in place, stably: routes without a live entry
 * first, in their given order, then the failed ones, least recently failed
 * first.
 */
void routedb_order(struct routedb *db, struct route *routes, size_t n,
    int64_t now);
/* Live entries (for /stats and tests). */
size_t routedb_size(struct routedb *db, int64_t now);

#endif
