/*
 * stats.c - renders the counters as /metrics and /stats.  See stats.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "address.h"
#include "clock.h"
#include "pool.h"
#include "stats.h"

void
stats_count_request(struct stats *st, int code)
{
	if (code >= 0 && code < STATS_MAX_CODE)
		st->requests[code]++;
}

void
stats_count_cut(struct stats *st, int code)
{
	stats_count_request(st, code);
	st->requests_cut++;
}

static void
metric_head(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
metric_u64(struct evbuffer *out, const char *name, const char *type,
    const char *help, uint64_t value)
{
	metric_head(out, name, type, help);
	evbuffer_add_printf(out, "%s %" PRIu64 "\n", name, value);
}

void
stats_render_metrics(const struct stats *st, const struct pool *pool,
    struct evbuffer *out)
{
	const struct pool_counts *pc = pool_counts(pool);
	int code;

	metric_u64(out, "ferryd_client_connections_accepted_total", "counter",
	    "Client connections accepted.", st->client_connections_accepted);
	metric_u64(out, "ferryd_client_connections", "gauge",
	    "Client connections open.", (uint64_t)st->clients_active);
	metric_u64(out, "ferryd_accept_pauses_total", "counter",
	    "Times accept() ran out of file descriptors and paused.",
	    st->accept_pauses);

	metric_head(out, "ferryd_requests_total", "counter",
	    "Client requests answered, by status code.");
	for (code = 0; code < STATS_MAX_CODE; code++)
		if (st->requests[code] != 0)
			evbuffer_add_printf(out,
			    "ferryd_requests_total{code=\"%d\"} %" PRIu64 "\n",
			    code, st->requests[code]);
	metric_u64(out, "ferryd_requests_cut_total", "counter",
	    "Requests whose reply was cut before its end (counted by code above "
	    "too).", st->requests_cut);

	metric_u64(out, "ferryd_upstream_connections_opened_total", "counter",
	    "Upstream connections opened.", pc->opened);

	metric_head(out, "ferryd_upstream_connections", "gauge",
	    "Upstream connections in the pool, by state.");
	evbuffer_add_printf(out,
	    "ferryd_upstream_connections{state=\"idle\"} %d\n"
	    "ferryd_upstream_connections{state=\"in_use\"} %d\n",
	    pc->idle, pc->in_use);

	metric_u64(out, "ferryd_upstream_reused_total", "counter",
	    "Acquisitions served by an existing upstream connection.",
	    pc->reused);

	metric_head(out, "ferryd_upstream_evictions_total", "counter",
	    "Upstream connections closed by the pool, by reason.");
	for (int r = 0; r < POOL_EVICT__COUNT; r++)
		evbuffer_add_printf(out,
		    "ferryd_upstream_evictions_total{reason=\"%s\"} %" PRIu64 "\n",
		    pool_evict_reason_name(r), pc->evictions[r]);

	metric_u64(out, "ferryd_upstream_leaks_total", "counter",
	    "Allocations whose request ended without releasing them.",
	    pc->leaks);
	metric_u64(out, "ferryd_upstream_retries_total", "counter",
	    "Requests retried on a fresh connection.", st->retries);

	metric_head(out, "ferryd_tls_handshakes_total", "counter",
	    "TLS handshakes with origins, by kind.");
	evbuffer_add_printf(out,
	    "ferryd_tls_handshakes_total{kind=\"full\"} %" PRIu64 "\n"
	    "ferryd_tls_handshakes_total{kind=\"resumed\"} %" PRIu64 "\n",
	    pc->tls_full, pc->tls_resumed);
	metric_u64(out, "ferryd_tls_handshake_failures_total", "counter",
	    "TLS handshakes with origins that failed (certificate, protocol) "
	    "or timed out.", st->tls_failures);

	metric_u64(out, "ferryd_route_failures_total", "counter",
	    "Connects that failed on a route.", st->route_failures);
	metric_u64(out, "ferryd_dns_lookups_total", "counter",
	    "Host names sent to the resolver.", st->dns_lookups);
	metric_u64(out, "ferryd_dns_cache_hits_total", "counter",
	    "Host names answered from the DNS cache.", st->dns_cache_hits);
	metric_u64(out, "ferryd_tunnels_total", "counter",
	    "CONNECT tunnels opened.", st->tunnels_total);
	metric_head(out, "ferryd_tunnels_active", "gauge",
	    "CONNECT tunnels open now.");
	evbuffer_add_printf(out, "ferryd_tunnels_active %d\n",
	    st->tunnels_active);
}

/* Appends s as a JSON string (addresses are plain ASCII, but be exact). */
static void
json_string(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			evbuffer_add_printf(out, "\\%c", c);
		else if (c < 0x20)
			evbuffer_add_printf(out, "\\u%04x", c);
		else
			evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

struct json_walk {
	struct evbuffer *out;
	int n;
};

static void
json_address(const struct pool_address_stats *as, void *arg)
{
	struct json_walk *w = arg;
	char name[ADDRESS_HOST_MAX + 32];

	address_format(as->address, name, sizeof(name));
	evbuffer_add_printf(w->out, "%s\n    {\"address\": ", w->n++ ? "," : "");
	json_string(w->out, name);
	evbuffer_add_printf(w->out,
	    ", \"idle\": %d, \"in_use\": %d, \"opened\": %" PRIu64
	    ", \"reused\": %" PRIu64,
	    as->idle, as->in_use, as->opened, as->reused);
	if (as->address->tls.tls) {
		evbuffer_add_printf(w->out, ",\n     \"tls\": {\"version\": ");
		json_string(w->out, as->tls_version != NULL ?
		    as->tls_version : "");
		evbuffer_add_printf(w->out, ", \"cipher\": ");
		json_string(w->out, as->tls_cipher != NULL ?
		    as->tls_cipher : "");
		evbuffer_add_printf(w->out, ", \"full\": %" PRIu64
		    ", \"resumed\": %" PRIu64 "}", as->tls_full,
		    as->tls_resumed);
	}
	evbuffer_add(w->out, "}", 1);
}

void
stats_render_json(const struct stats *st, const struct pool *pool,
    int64_t uptime, struct evbuffer *out)
{
	const struct pool_counts *pc = pool_counts(pool);
	struct json_walk w = { out, 0 };
	int code, n = 0;

	evbuffer_add_printf(out, "{\n  \"uptime_seconds\": %.3f,\n",
	    (double)uptime / USEC_PER_SEC);
	evbuffer_add_printf(out,
	    "  \"client_connections_accepted\": %" PRIu64 ",\n"
	    "  \"client_connections_active\": %d,\n"
	    "  \"exchanges_active\": %d,\n  \"requests\": {",
	    st->client_connections_accepted, st->clients_active,
	    st->exchanges_active);
	for (code = 0; code < STATS_MAX_CODE; code++)
		if (st->requests[code] != 0)
			evbuffer_add_printf(out, "%s\"%d\": %" PRIu64,
			    n++ ? ", " : "", code, st->requests[code]);
	evbuffer_add_printf(out, "},\n  \"requests_cut\": %" PRIu64
	    ",\n  \"upstream\": {\n"
	    "    \"opened\": %" PRIu64 ", \"reused\": %" PRIu64
	    ", \"idle\": %d, \"in_use\": %d, \"leaks\": %" PRIu64
	    ", \"retries\": %" PRIu64 ", \"route_failures\": %" PRIu64 ",\n"
	    "    \"evictions\": {", st->requests_cut,
	    pc->opened, pc->reused, pc->idle, pc->in_use, pc->leaks,
	    st->retries, st->route_failures);
	for (int r = 0; r < POOL_EVICT__COUNT; r++)
		evbuffer_add_printf(out, "%s\"%s\": %" PRIu64, r ? ", " : "",
		    pool_evict_reason_name(r), pc->evictions[r]);
	evbuffer_add_printf(out, "}\n  },\n  \"tls_handshakes\": {\"full\": %"
	    PRIu64 ", \"resumed\": %" PRIu64 ", \"failed\": %" PRIu64 "},\n"
	    "  \"tunnels\": {\"total\": %" PRIu64 ", \"active\": %d},\n"
	    "  \"addresses\": [",
	    pc->tls_full, pc->tls_resumed, st->tls_failures, st->tunnels_total,
	    st->tunnels_active);
	pool_foreach_address(pool, json_address, &w);
	evbuffer_add_printf(out, "%s]\n}\n", w.n ? "\n  " : "");
}
