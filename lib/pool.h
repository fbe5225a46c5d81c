/*
 * pool.h - the upstream connection pool (shared/design/pool.md): OkHttp's
 * ConnectionPool on one libevent loop.
 *
 * The pool knows nothing of sockets or HTTP.  A connection is a struct
 * pool_conn embedded in the owner's object (struct upstream); the pool links
 * and unlinks it and calls back through struct pool_conn_ops to health-check
 * it or close it.  Every decision takes "now" (monotonic usec) so the unit
 * tests drive the pool with a fake clock.
 *
 * Ownership: the pool owns a connection from pool_put() until it calls
 * ops->close() on it; after that call it never touches the connection
 * again.  A connection being connected (before pool_put) belongs to its
 * exchange.  The pool itself is owned by the server and freed by pool_free().
 */
#ifndef FERRYD_POOL_H
#define FERRYD_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "address.h"
#include "owner.h"

struct event_base;
struct routedb;
struct ferryd_config;

/* Why a connection left the pool; names are the /metrics reason labels. */
enum pool_evict_reason {
	POOL_EVICT_KEEPALIVE,		/* "keepalive": idle for keepalive */
	POOL_EVICT_OVER_LIMIT,		/* "over_limit": too many idle (or max_idle 0) */
	POOL_EVICT_UNHEALTHY,		/* "unhealthy": failed the health peek */
	POOL_EVICT_LEAKED,		/* "leaked": its last allocation leaked */
	POOL_EVICT_CLOSED_BY_ORIGIN,	/* "closed_by_origin": EOF or bytes while idle */
	POOL_EVICT_REQUEST_BUDGET,	/* "request_budget": max_requests_per_connection */
	POOL_EVICT_LIFETIME,		/* "lifetime": max_connection_lifetime */
	POOL_EVICT_EVICT_ALL,		/* "evict_all": reload, shutdown, admin */
	POOL_EVICT_ERROR,		/* "error": failed mid-exchange */
	POOL_EVICT_NOT_REUSABLE,	/* "not_reusable": Connection: close, body not
					   read to its end, close-delimited body */
	POOL_EVICT_EXTRA_BYTES,		/* "extra_bytes": bytes past the end of a
					   response, found at release */
	POOL_EVICT_UPGRADED,		/* "upgraded": a 101 made it a tunnel's */
	POOL_EVICT__COUNT
};

const char *pool_evict_reason_name(enum pool_evict_reason reason);

/* The [pool] settings the pool works with; copied in, so a reload can swap them. */
struct pool_params {
	int max_idle;
	int max_idle_per_address;
	int64_t keepalive;		/* > 0 */
	int64_t idle_grace;		/* 0: OkHttp's rule exactly */
	long max_requests_per_connection;
	int64_t max_connection_lifetime;
	int64_t healthcheck_after_idle;	/* idle longer: no request that cannot be retried */
	int64_t route_failure_ttl;
};

/*
 * The longest idle time after which a connection is still trusted with a
 * request that must not be sent twice (POST, PATCH): an origin's own
 * keep-alive timeout is rarely shorter (Apache's is 5 s), so the close
 * that would lose the request is unlikely to be in flight.
 */
#define POOL_UNSAFE_IDLE_MAX (2 * 1000000LL)

void pool_params_from_config(struct pool_params *params,
    const struct ferryd_config *cfg);

/* One exchange's claim on a connection; owned by the connection's list. */
struct pool_alloc {
	struct owner *owner;		/* holds one reference */
	int64_t since;
	TAILQ_ENTRY(pool_alloc) entry;
};
TAILQ_HEAD(pool_alloc_list, pool_alloc);

struct pool_group;

/*
 * One upstream connection as the pool sees it.  The owner fills the fields
 * marked "owner" before pool_put(); the rest belong to the pool.
 */
struct pool_conn {
	struct address address;		/* owner */
	struct route route;		/* owner */
	int http_version;		/* owner: 11 for HTTP/1.1, 20 for HTTP/2 */
	int alloc_limit;		/* owner: 1 for HTTP/1.x */
	int64_t created_at;		/* owner: when the connect finished */
	const char *tls_version;	/* owner: "TLSv1.3" (static), or NULL */
	const char *tls_cipher;		/* owner: its cipher suite (static) */
	uint64_t id;			/* pool: serial number, from 1 */

	struct pool_alloc_list allocs;	/* pool: live allocations */
	int n_allocs;			/* pool: the reference count */
	long exchanges;			/* pool: allocations ever made */
	int64_t idle_at;		/* pool: when the last allocation went */
	bool no_new_exchanges;		/* pool: takes no new allocation */
	enum pool_evict_reason retire_reason;	/* pool: why, when no_new_exchanges */

	struct pool_group *group;	/* pool: its address's group */
	TAILQ_ENTRY(pool_conn) group_entry;	/* pool: in group idle or busy list */
	TAILQ_ENTRY(pool_conn) idle_entry;	/* pool: in the pool's idle list */
};

/* How the pool acts on connections; arg is pool_new()'s ops_arg. */
struct pool_conn_ops {
	/*
	 * The pool has unlinked conn and hands it back for good: close its
	 * socket and free it (the owner may defer the free).
	 */
	void (*close)(struct pool_conn *conn, enum pool_evict_reason reason,
	    void *arg);
	/*
	 * A non-blocking check of an idle connection before reuse: false when
	 * the origin closed it or sent bytes nobody asked for.
	 */
	bool (*healthy)(struct pool_conn *conn, void *arg);
};

/* Totals since start and current gauges. */
struct pool_counts {
	uint64_t opened;		/* connections put into the pool */
	uint64_t reused;		/* acquisitions served by an existing connection */
	uint64_t evictions[POOL_EVICT__COUNT];
	uint64_t leaks;
	uint64_t tls_full;
	uint64_t tls_resumed;
	int total;			/* connections in the pool now */
	int idle;
	int in_use;
};

struct pool;

/*
 * A new, empty pool.  With base == NULL (unit tests) no evtimer exists and
 * the caller runs pool_cleanup() itself; pool_next_cleanup() still tells
 * when the pass is due.
 */
struct pool *pool_new(const struct pool_params *params,
    const struct pool_conn_ops *ops, void *ops_arg, struct event_base *base);
/* Closes every connection (in use ones too: their exchanges must be gone). */
void pool_free(struct pool *pool);
void pool_set_params(struct pool *pool, const struct pool_params *params);
struct routedb *pool_routedb(struct pool *pool);

/*
 * An id from the sequence of pool_put() for a connection that never
 * enters the pool (a tunnel's), so that ids in the logs stay unique.
 */
uint64_t pool_new_id(struct pool *pool);

/*
 * Finds a connection for addr that takes a new exchange: most recently
 * used idle one first.  Every idle candidate is health-checked (a peek:
 * no byte may wait on it, pool.md "The connection is clean") and evicted
 * when unhealthy.  Without retriable (the request must never be sent
 * twice) only a connection idle no longer than healthcheck_after_idle and
 * POOL_UNSAFE_IDLE_MAX qualifies.  On success the connection is allocated
 * to owner (one reference taken) and returned; the pool still owns it.
 * NULL: none fits; connect and pool_put().
 */
struct pool_conn *pool_acquire(struct pool *pool, const struct address *addr,
    struct owner *owner, int64_t now, bool retriable);

/*
 * A freshly connected conn enters the pool, allocated to owner.  The pool
 * owns conn from here.  Counts an opened connection and arms the cleanup
 * timer when none is pending.
 */
void pool_put(struct pool *pool, struct pool_conn *conn, struct owner *owner,
    int64_t now);

/*
 * Drops owner's allocation on conn.  When it was the last one, conn becomes
 * idle at now and the cleanup pass is scheduled at once; or conn is closed
 * now when it must not be reused (retired, request budget spent, lifetime
 * exceeded, max_idle 0).
 */
void pool_release(struct pool *pool, struct pool_conn *conn,
    struct owner *owner, int64_t now);

/*
 * conn leaves the pool for good, still open, with owner's allocation (its
 * only one): a 101 made it a tunnel's, which closes it.  Counted as an
 * eviction (upgraded); ops->close is not called.  -1 when owner holds no
 * allocation on conn, or another one does (then nothing changes).
 */
int pool_detach(struct pool *pool, struct pool_conn *conn,
    struct owner *owner);

/* conn takes no new exchange; it closes with reason once released. */
void pool_conn_retire(struct pool_conn *conn, enum pool_evict_reason reason);

/* Evicts an idle conn now (the origin closed it, or it broke). */
void pool_evict(struct pool *pool, struct pool_conn *conn,
    enum pool_evict_reason reason);

/*
 * One cleanup pass (OkHttp's cleanup(now)): prunes leaked allocations,
 * evicts at most one connection and returns the delay until the next pass:
 * 0 to run again at once, > 0 usec, or -1 when the pool is empty.  Also
 * records the schedule (pool_next_cleanup()).
 */
int64_t pool_cleanup(struct pool *pool, int64_t now);

/* Closes every idle connection; in-use ones take no new exchange. */
void pool_evict_all(struct pool *pool, int64_t now);

/* When the next pass is due (monotonic usec), or -1: no timer pending. */
int64_t pool_next_cleanup(const struct pool *pool);

const struct pool_counts *pool_counts(const struct pool *pool);
/*
 * Counts conn's TLS handshake, in the totals and in its address's
 * (kept here so all connection counts live together); conn is in the
 * pool, its tls_version and tls_cipher set.
 */
void pool_count_tls(struct pool *pool, struct pool_conn *conn, bool resumed);

/* Per-address state for /stats. */
struct pool_address_stats {
	const struct address *address;
	int idle;
	int in_use;
	uint64_t opened;
	uint64_t reused;
	uint64_t tls_full;
	uint64_t tls_resumed;
	const char *tls_version;	/* of its latest handshake; NULL: none */
	const char *tls_cipher;
};
void pool_foreach_address(const struct pool *pool,
    void (*fn)(const struct pool_address_stats *st, void *arg), void *arg);

#endif
