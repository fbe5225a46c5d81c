/*
 * stats.h - the daemon's counters and the two pages that show them:
 * /metrics (Prometheus text format 0.0.4) and /stats (JSON).  Pool counts
 * live in the pool (pool_counts()); the rest lives here.
 *
 * Owner: embedded in struct server.
 */
#ifndef FERRYD_STATS_H
#define FERRYD_STATS_H

#include <stdint.h>

struct evbuffer;
struct pool;

#define STATS_MAX_CODE 600

struct stats {
	uint64_t client_connections_accepted;
	uint64_t requests[STATS_MAX_CODE];	/* by status code; 499: client left first */
	uint64_t requests_cut;		/* of those, replies cut before their end */
	uint64_t retries;
	uint64_t route_failures;
	uint64_t tls_failures;		/* handshakes with origins that failed or timed out */
	uint64_t dns_lookups;		/* names sent to the resolver */
	uint64_t dns_cache_hits;	/* names answered from dns_cache_ttl */
	uint64_t tunnels_total;
	uint64_t accept_pauses;		/* accept() out of descriptors */
	int tunnels_active;
	int clients_active;
	int exchanges_active;
};

/* Counts one answered request. */
void stats_count_request(struct stats *st, int code);
/* Counts one request whose reply started with code and was cut short. */
void stats_count_cut(struct stats *st, int code);
/* Appends the /metrics page. */
void stats_render_metrics(const struct stats *st, const struct pool *pool,
    struct evbuffer *out);
/* Appends the /stats page; uptime in usec. */
void stats_render_json(const struct stats *st, const struct pool *pool,
    int64_t uptime, struct evbuffer *out);

#endif
