/*
 * pool.c - the upstream connection pool of shared/design/pool.md: OkHttp's
 * RealConnectionPool translated to one libevent loop, explicit reference
 * counts (struct owner) instead of weak references, and a fake-able clock.
 *
 * Layout.  Connections are grouped by address in a small hash table of
 * struct pool_group; a group lists its idle connections (most recently
 * used first, which acquire prefers) and its busy ones.  The pool also
 * keeps one list of every idle connection ordered by idle_at, oldest
 * first, so the cleanup pass finds the longest-idle connection at the head
 * instead of scanning the pool.  A connection is "in use" (busy) while it
 * holds at least one allocation, and idle otherwise.
 *
 * The pool never allocates or frees a struct pool_conn: it is embedded in
 * the caller's object and handed back through ops->close(), which may free
 * it.  The pool allocates only its groups and struct pool_alloc.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "pool.h"
#include "routedb.h"

#define POOL_BUCKETS_MIN 16

TAILQ_HEAD(pool_conn_list, pool_conn);

/*
 * The connections of one address.  Created by the first pool_put() for the
 * address and freed as soon as it holds no connection; its opened/reused
 * totals go with it (the pool-wide totals in struct pool_counts keep
 * counting, only the per-address breakdown of /stats forgets an address
 * that has had no connection for a while).
 */
struct pool_group {
	struct address address;
	uint32_t hash;
	struct pool_conn_list idle;	/* most recently used first */
	struct pool_conn_list busy;
	int n_idle;
	int n_in_use;
	uint64_t opened;
	uint64_t reused;
	uint64_t tls_full;
	uint64_t tls_resumed;
	const char *tls_version;	/* of the latest handshake, static */
	const char *tls_cipher;
	struct pool_group *next;	/* hash chain */
};

/* Owned by the server; freed with pool_free(). */
struct pool {
	struct pool_params params;
	const struct pool_conn_ops *ops;
	void *ops_arg;

	struct event *timer;		/* NULL without an event_base */
	int64_t next_cleanup;		/* -1: no pass pending */

	struct routedb *routedb;
	struct pool_counts counts;
	uint64_t last_id;

	struct pool_conn_list idle;	/* every idle conn, oldest idle_at first */
	int groups_over;		/* groups with n_idle > max_idle_per_address */

	struct pool_group **buckets;
	size_t n_buckets;		/* a power of two */
	size_t n_groups;
};

static const char *const reason_names[POOL_EVICT__COUNT] = {
	[POOL_EVICT_KEEPALIVE] = "keepalive",
	[POOL_EVICT_OVER_LIMIT] = "over_limit",
	[POOL_EVICT_UNHEALTHY] = "unhealthy",
	[POOL_EVICT_LEAKED] = "leaked",
	[POOL_EVICT_CLOSED_BY_ORIGIN] = "closed_by_origin",
	[POOL_EVICT_REQUEST_BUDGET] = "request_budget",
	[POOL_EVICT_LIFETIME] = "lifetime",
	[POOL_EVICT_EVICT_ALL] = "evict_all",
	[POOL_EVICT_ERROR] = "error",
	[POOL_EVICT_NOT_REUSABLE] = "not_reusable",
	[POOL_EVICT_EXTRA_BYTES] = "extra_bytes",
	[POOL_EVICT_UPGRADED] = "upgraded",
};

/* The /metrics label of a reason; never NULL. */
const char *
pool_evict_reason_name(enum pool_evict_reason reason)
{
	if ((unsigned)reason >= POOL_EVICT__COUNT)
		return "unknown";
	return reason_names[reason];
}

/* Copies the [pool] section; the pool keeps no pointer into the config. */
void
pool_params_from_config(struct pool_params *params,
    const struct ferryd_config *cfg)
{
	params->max_idle = cfg->max_idle;
	params->max_idle_per_address = cfg->max_idle_per_address;
	params->keepalive = cfg->keepalive;
	params->idle_grace = cfg->idle_grace;
	params->max_requests_per_connection = cfg->max_requests_per_connection;
	params->max_connection_lifetime = cfg->max_connection_lifetime;
	params->healthcheck_after_idle = cfg->healthcheck_after_idle;
	params->route_failure_ttl = cfg->route_failure_ttl;
}

/*
 * Records when the next pass is due and arms (delay >= 0) or disarms
 * (delay < 0) the evtimer to match, so pool_next_cleanup() always tells
 * the truth about the timer.
 */
static void
schedule(struct pool *pool, int64_t now, int64_t delay)
{
	struct timeval tv;

	if (delay < 0) {
		pool->next_cleanup = -1;
		if (pool->timer != NULL)
			evtimer_del(pool->timer);
		return;
	}
	pool->next_cleanup = now + delay;
	if (pool->timer != NULL) {
		tv = clock_to_timeval(delay);
		evtimer_add(pool->timer, &tv);
	}
}

/* The group for addr, or NULL. */
static struct pool_group *
group_find(const struct pool *pool, const struct address *addr)
{
	struct pool_group *g;
	uint32_t h = address_hash(addr);

	for (g = pool->buckets[h & (pool->n_buckets - 1)]; g != NULL;
	    g = g->next)
		if (g->hash == h && address_equal(&g->address, addr))
			return g;
	return NULL;
}

/* Doubles the table; on failure the old one stays, only chains grow longer. */
static void
grow_buckets(struct pool *pool)
{
	struct pool_group **nb, *g, *next;
	size_t n = pool->n_buckets * 2;

	nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return;
	for (size_t i = 0; i < pool->n_buckets; i++) {
		for (g = pool->buckets[i]; g != NULL; g = next) {
			next = g->next;
			g->next = nb[g->hash & (n - 1)];
			nb[g->hash & (n - 1)] = g;
		}
	}
	free(pool->buckets);
	pool->buckets = nb;
	pool->n_buckets = n;
}

/* The group for addr, created empty when missing; NULL when out of memory. */
static struct pool_group *
group_get(struct pool *pool, const struct address *addr)
{
	struct pool_group *g;
	size_t b;

	if ((g = group_find(pool, addr)) != NULL)
		return g;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->address = *addr;
	g->hash = address_hash(addr);
	TAILQ_INIT(&g->idle);
	TAILQ_INIT(&g->busy);
	if (pool->n_groups >= pool->n_buckets)
		grow_buckets(pool);
	b = g->hash & (pool->n_buckets - 1);
	g->next = pool->buckets[b];
	pool->buckets[b] = g;
	pool->n_groups++;
	return g;
}

/* Unlinks and frees a group that holds no connection. */
static void
group_free(struct pool *pool, struct pool_group *g)
{
	struct pool_group **pp;

	pp = &pool->buckets[g->hash & (pool->n_buckets - 1)];
	while (*pp != g)
		pp = &(*pp)->next;
	*pp = g->next;
	pool->n_groups--;
	free(g);
}

/* Keeps groups_over in step with a change of one group's idle count. */
static void
group_add_idle(struct pool *pool, struct pool_group *g, int delta)
{
	int limit = pool->params.max_idle_per_address;
	bool was_over = g->n_idle > limit;

	g->n_idle += delta;
	if (was_over != (g->n_idle > limit))
		pool->groups_over += was_over ? -1 : 1;
}

/*
 * Links an idle conn.  In its group it goes first (most recently used)
 * unless mru is false; in the pool's list it goes where its idle_at
 * belongs, which is the tail except for a leaked conn back-dated by
 * keepalive.
 */
static void
link_idle(struct pool *pool, struct pool_conn *conn, bool mru)
{
	struct pool_group *g = conn->group;
	struct pool_conn *c;

	if (mru)
		TAILQ_INSERT_HEAD(&g->idle, conn, group_entry);
	else
		TAILQ_INSERT_TAIL(&g->idle, conn, group_entry);

	c = TAILQ_LAST(&pool->idle, pool_conn_list);
	while (c != NULL && c->idle_at > conn->idle_at)
		c = TAILQ_PREV(c, pool_conn_list, idle_entry);
	if (c == NULL)
		TAILQ_INSERT_HEAD(&pool->idle, conn, idle_entry);
	else
		TAILQ_INSERT_AFTER(&pool->idle, c, conn, idle_entry);

	pool->counts.idle++;
	group_add_idle(pool, g, 1);
}

/* The reverse of link_idle(). */
static void
unlink_idle(struct pool *pool, struct pool_conn *conn)
{
	TAILQ_REMOVE(&conn->group->idle, conn, group_entry);
	TAILQ_REMOVE(&pool->idle, conn, idle_entry);
	pool->counts.idle--;
	group_add_idle(pool, conn->group, -1);
}

/* Links a conn that holds allocations. */
static void
link_busy(struct pool *pool, struct pool_conn *conn)
{
	TAILQ_INSERT_TAIL(&conn->group->busy, conn, group_entry);
	conn->group->n_in_use++;
	pool->counts.in_use++;
}

/* The reverse of link_busy(). */
static void
unlink_busy(struct pool *pool, struct pool_conn *conn)
{
	TAILQ_REMOVE(&conn->group->busy, conn, group_entry);
	conn->group->n_in_use--;
	pool->counts.in_use--;
}

static void forget_conn(struct pool *pool, struct pool_conn *conn,
    enum pool_evict_reason reason);

/*
 * The one teardown path: conn is already unlinked from every list.  Counts
 * the eviction, forgets the group and the timer if they are now empty, and
 * hands conn back through ops->close() last, since that may free it.
 */
static void
close_conn(struct pool *pool, struct pool_conn *conn,
    enum pool_evict_reason reason)
{
	forget_conn(pool, conn, reason);
	pool->ops->close(conn, reason, pool->ops_arg);
}

/* close_conn() but the close: what pool_detach() shares with it. */
static void
forget_conn(struct pool *pool, struct pool_conn *conn,
    enum pool_evict_reason reason)
{
	struct pool_group *g = conn->group;
	char what[ADDRESS_HOST_MAX + 32];

	address_format(&conn->address, what, sizeof(what));
	log_debug("pool: %s connection %" PRIu64 " to %s after %ld "
	    "exchanges: %s", reason == POOL_EVICT_UPGRADED ? "giving up" :
	    "closing", conn->id, what, conn->exchanges,
	    pool_evict_reason_name(reason));

	conn->no_new_exchanges = true;
	conn->group = NULL;
	pool->counts.total--;
	pool->counts.evictions[reason]++;
	if (g->n_idle == 0 && g->n_in_use == 0)
		group_free(pool, g);
	if (pool->counts.total == 0)
		schedule(pool, 0, -1);
}

/* Evicts an idle conn. */
static void
evict_idle(struct pool *pool, struct pool_conn *conn,
    enum pool_evict_reason reason)
{
	unlink_idle(pool, conn);
	close_conn(pool, conn, reason);
}

/* Gives conn to owner: the allocation takes one reference on the token. */
static void
alloc_add(struct pool_conn *conn, struct pool_alloc *a, struct owner *owner,
    int64_t now)
{
	owner_ref(owner);
	a->owner = owner;
	a->since = now;
	TAILQ_INSERT_TAIL(&conn->allocs, a, entry);
	conn->n_allocs++;
	conn->exchanges++;
}

/* Drops one allocation and the reference it held. */
static void
alloc_remove(struct pool_conn *conn, struct pool_alloc *a)
{
	TAILQ_REMOVE(&conn->allocs, a, entry);
	conn->n_allocs--;
	owner_unref(a->owner);
	free(a);
}

/* The timer: runs passes until one has nothing to evict now, then re-arms. */
static void
pool_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pool *pool = arg;
	int64_t now = clock_now();

	while (pool_cleanup(pool, now) == 0)
		continue;
}

/* NULL when out of memory or the evtimer cannot be made; nothing is left behind. */
struct pool *
pool_new(const struct pool_params *params, const struct pool_conn_ops *ops,
    void *ops_arg, struct event_base *base)
{
	struct pool *pool;

	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return NULL;
	pool->ops = ops;
	pool->ops_arg = ops_arg;
	pool->next_cleanup = -1;
	TAILQ_INIT(&pool->idle);
	pool->n_buckets = POOL_BUCKETS_MIN;
	pool->buckets = calloc(pool->n_buckets, sizeof(*pool->buckets));
	if (pool->buckets == NULL)
		goto fail;
	pool->routedb = routedb_new(params->route_failure_ttl);
	if (pool->routedb == NULL)
		goto fail;
	if (base != NULL) {
		pool->timer = evtimer_new(base, pool_on_timer, pool);
		if (pool->timer == NULL)
			goto fail;
	}
	pool_set_params(pool, params);
	return pool;

fail:
	routedb_free(pool->routedb);
	free(pool->buckets);
	free(pool);
	return NULL;
}

/*
 * Closes every connection with reason evict_all, in-use ones included: by
 * now no exchange may still refer to them, so their allocations are
 * simply dropped (without a leak warning).
 */
void
pool_free(struct pool *pool)
{
	struct pool_group *g;
	struct pool_conn *c;
	struct pool_alloc *a;

	if (pool == NULL)
		return;
	for (size_t i = 0; i < pool->n_buckets; i++) {
		/* Closing a group's last conn frees it and advances the chain. */
		while ((g = pool->buckets[i]) != NULL) {
			if ((c = TAILQ_FIRST(&g->idle)) != NULL) {
				evict_idle(pool, c, POOL_EVICT_EVICT_ALL);
				continue;
			}
			c = TAILQ_FIRST(&g->busy);
			while ((a = TAILQ_FIRST(&c->allocs)) != NULL)
				alloc_remove(c, a);
			unlink_busy(pool, c);
			close_conn(pool, c, POOL_EVICT_EVICT_ALL);
		}
	}
	if (pool->timer != NULL)
		event_free(pool->timer);
	routedb_free(pool->routedb);
	free(pool->buckets);
	free(pool);
}

/*
 * Takes new settings (a reload).  A keep-alive that is not positive would
 * make the pass spin; the loader rejects it, so here it is only clamped.
 */
void
pool_set_params(struct pool *pool, const struct pool_params *params)
{
	struct pool_group *g;

	pool->params = *params;
	if (pool->params.keepalive <= 0) {
		log_err("pool: keepalive %" PRId64 " is not positive; using 1 usec",
		    pool->params.keepalive);
		pool->params.keepalive = 1;
	}
	routedb_set_ttl(pool->routedb, params->route_failure_ttl);

	/* The per-address limit may have moved: recount the groups over it. */
	pool->groups_over = 0;
	for (size_t i = 0; i < pool->n_buckets; i++)
		for (g = pool->buckets[i]; g != NULL; g = g->next)
			if (g->n_idle > pool->params.max_idle_per_address)
				pool->groups_over++;
}

/* The pool keeps ownership; the caller only uses it during route selection. */
struct routedb *
pool_routedb(struct pool *pool)
{
	return pool->routedb;
}

/* A connection that must take no new exchange because it is too old. */
static bool
lifetime_spent(const struct pool *pool, const struct pool_conn *conn,
    int64_t now)
{
	return pool->params.max_connection_lifetime > 0 &&
	    now - conn->created_at >= pool->params.max_connection_lifetime;
}

/*
 * Acquire: a busy connection that multiplexes (HTTP/2 under its limit)
 * first, since sharing it opens nothing; then the idle ones, most recently
 * used first.  Idle ones found too old or unhealthy on the way are evicted.
 * On success the pool still owns conn and owner holds an allocation on it.
 */
struct pool_conn *
pool_acquire(struct pool *pool, const struct address *addr,
    struct owner *owner, int64_t now, bool retriable)
{
	struct pool_group *g;
	struct pool_conn *c, *next;
	struct pool_alloc *a;
	int64_t max_idle = INT64_MAX;

	if (!retriable)
		max_idle = pool->params.healthcheck_after_idle <
		    POOL_UNSAFE_IDLE_MAX ? pool->params.healthcheck_after_idle :
		    POOL_UNSAFE_IDLE_MAX;

	if ((g = group_find(pool, addr)) == NULL)
		return NULL;
	if ((a = malloc(sizeof(*a))) == NULL) {
		log_err("pool: out of memory for an allocation");
		return NULL;
	}

	TAILQ_FOREACH(c, &g->busy, group_entry) {
		if (!c->no_new_exchanges && c->n_allocs < c->alloc_limit)
			goto found_busy;
	}

	/*
	 * An eviction may free g with its last conn; next is then NULL, so
	 * nothing below touches g through a stale pointer.
	 */
	for (c = TAILQ_FIRST(&g->idle); c != NULL; c = next) {
		next = TAILQ_NEXT(c, group_entry);
		if (c->no_new_exchanges || c->n_allocs >= c->alloc_limit)
			continue;
		if (lifetime_spent(pool, c, now)) {
			evict_idle(pool, c, POOL_EVICT_LIFETIME);
			continue;
		}
		/* Kept for a request that may be retried (MRU order). */
		if (now - c->idle_at > max_idle)
			continue;
		/*
		 * Every reuse peeks: the end of the last response may have
		 * been read with more bytes still in the kernel, and the idle
		 * watch only sees them at the next loop pass.
		 */
		if (!pool->ops->healthy(c, pool->ops_arg)) {
			evict_idle(pool, c, POOL_EVICT_UNHEALTHY);
			continue;
		}
		unlink_idle(pool, c);
		alloc_add(c, a, owner, now);
		link_busy(pool, c);
		goto reused;
	}
	free(a);
	return NULL;

found_busy:
	alloc_add(c, a, owner, now);
reused:
	pool->counts.reused++;
	c->group->reused++;
	if (log_debug_on()) {
		char what[ADDRESS_HOST_MAX + 32];

		address_format(&c->address, what, sizeof(what));
		log_debug("pool: reusing connection %" PRIu64 " to %s "
		    "(exchange %ld)", c->id, what, c->exchanges);
	}
	return c;
}

uint64_t
pool_new_id(struct pool *pool)
{
	return ++pool->last_id;
}

/*
 * The pool owns conn from here.  Out of memory here would lose track of a
 * live socket, which the count invariant (opened == accepted by the
 * origin) cannot survive: like an xmalloc failure, it is fatal.
 */
void
pool_put(struct pool *pool, struct pool_conn *conn, struct owner *owner,
    int64_t now)
{
	struct pool_group *g;
	struct pool_alloc *a;

	if ((a = malloc(sizeof(*a))) == NULL)
		fatal("pool: out of memory for an allocation");
	if ((g = group_get(pool, &conn->address)) == NULL)
		fatal("pool: out of memory for an address group");

	conn->id = ++pool->last_id;
	conn->group = g;
	TAILQ_INIT(&conn->allocs);
	conn->n_allocs = 0;
	conn->exchanges = 0;
	conn->idle_at = now;
	conn->no_new_exchanges = false;
	conn->retire_reason = POOL_EVICT_ERROR;
	alloc_add(conn, a, owner, now);
	link_busy(pool, conn);

	pool->counts.total++;
	pool->counts.opened++;
	g->opened++;
	if (log_debug_on()) {
		char what[ADDRESS_HOST_MAX + 32];

		address_format(&conn->address, what, sizeof(what));
		log_debug("pool: new connection %" PRIu64 " to %s", conn->id,
		    what);
	}

	/* A pending pass is never late for a conn in use: leave it as it is. */
	if (pool->next_cleanup < 0)
		schedule(pool, now, 0);
}

/* Why conn, just released by its last exchange, must close now; or -1. */
static int
release_reason(const struct pool *pool, const struct pool_conn *conn,
    int64_t now)
{
	if (conn->no_new_exchanges)
		return (int)conn->retire_reason;
	if (pool->params.max_requests_per_connection > 0 &&
	    conn->exchanges >= pool->params.max_requests_per_connection)
		return POOL_EVICT_REQUEST_BUDGET;
	if (lifetime_spent(pool, conn, now))
		return POOL_EVICT_LIFETIME;
	if (pool->params.max_idle <= 0)
		return POOL_EVICT_OVER_LIMIT;
	return -1;
}

/*
 * OkHttp's connectionBecameIdle.  Releasing an allocation owner does not
 * hold is a bug in the caller: logged, and the pool is left untouched.
 */
void
pool_release(struct pool *pool, struct pool_conn *conn,
    struct owner *owner, int64_t now)
{
	struct pool_alloc *a;
	int reason;

	TAILQ_FOREACH(a, &conn->allocs, entry) {
		if (a->owner == owner)
			break;
	}
	if (a == NULL) {
		log_err("pool: connection %" PRIu64 " released by a request "
		    "that holds no allocation on it", conn->id);
		return;
	}
	alloc_remove(conn, a);
	if (conn->n_allocs > 0)
		return;

	unlink_busy(pool, conn);
	if ((reason = release_reason(pool, conn, now)) >= 0) {
		close_conn(pool, conn, (enum pool_evict_reason)reason);
		return;
	}
	conn->idle_at = now;
	link_idle(pool, conn, true);
	/*
	 * OkHttp runs a pass at once here.  Only an idle limit can make a pass
	 * useful now: this connection's keep-alive deadline is later than the
	 * pass that is always pending while the pool holds a connection.  A
	 * pass per release cost an evtimer round trip per request (measured:
	 * see the pool issue's closing note).
	 */
	if (pool->counts.idle > pool->params.max_idle ||
	    conn->group->n_idle > pool->params.max_idle_per_address ||
	    pool->next_cleanup < 0)
		schedule(pool, now, 0);
}

int
pool_detach(struct pool *pool, struct pool_conn *conn, struct owner *owner)
{
	struct pool_alloc *a;

	TAILQ_FOREACH(a, &conn->allocs, entry) {
		if (a->owner == owner)
			break;
	}
	if (a == NULL || conn->n_allocs != 1) {
		log_err("pool: connection %" PRIu64 " cannot leave the pool: "
		    "%s", conn->id, a == NULL ? "not allocated to its caller" :
		    "shared");
		return -1;
	}
	alloc_remove(conn, a);
	unlink_busy(pool, conn);
	forget_conn(pool, conn, POOL_EVICT_UPGRADED);
	return 0;
}

/* The first reason sticks: it is the one that made the conn unusable. */
void
pool_conn_retire(struct pool_conn *conn, enum pool_evict_reason reason)
{
	if (conn->no_new_exchanges)
		return;
	conn->no_new_exchanges = true;
	conn->retire_reason = reason;
}

/*
 * An idle conn goes at once.  One in use cannot (its exchange still refers
 * to it): that is a caller bug, logged, and the conn is retired instead so
 * it closes when released.
 */
void
pool_evict(struct pool *pool, struct pool_conn *conn,
    enum pool_evict_reason reason)
{
	if (conn->n_allocs > 0) {
		log_err("pool: eviction of connection %" PRIu64 " while in use "
		    "(%s); retired instead", conn->id,
		    pool_evict_reason_name(reason));
		pool_conn_retire(conn, reason);
		return;
	}
	evict_idle(pool, conn, reason);
}

/* The leak warning of interface.md, word for word. */
static void
warn_leak(const struct pool_conn *conn, const struct owner *owner)
{
	char addr[ADDRESS_HOST_MAX + 32], started[64];

	address_format(&conn->address, addr, sizeof(addr));
	clock_format_iso(owner->started_wall, started, sizeof(started));
	log_warn("connection to %s was leaked by request \"%s\" (started at "
	    "%s); the exchange ended without releasing it", addr, owner->what,
	    started);
}

/*
 * OkHttp's pruneAndGetAllocationCount for one busy conn: drops the
 * allocations whose request is gone.  A conn that lost its last one this
 * way becomes idle since now - keepalive, so this very pass evicts it.
 */
static void
prune_conn(struct pool *pool, struct pool_conn *conn, int64_t now)
{
	struct pool_alloc *a, *next;
	bool leaked = false;

	for (a = TAILQ_FIRST(&conn->allocs); a != NULL; a = next) {
		next = TAILQ_NEXT(a, entry);
		if (!a->owner->dead)
			continue;
		warn_leak(conn, a->owner);
		pool->counts.leaks++;
		conn->no_new_exchanges = true;
		conn->retire_reason = POOL_EVICT_LEAKED;
		alloc_remove(conn, a);
		leaked = true;
	}
	if (!leaked || conn->n_allocs > 0)
		return;
	unlink_busy(pool, conn);
	conn->idle_at = now - pool->params.keepalive;
	link_idle(pool, conn, false);
}

/* Prunes leaks on every busy conn; a conn moving to idle keeps its group. */
static void
prune_leaks(struct pool *pool, int64_t now)
{
	struct pool_group *g;
	struct pool_conn *c, *next;

	if (pool->counts.in_use == 0)
		return;
	for (size_t i = 0; i < pool->n_buckets; i++) {
		for (g = pool->buckets[i]; g != NULL; g = g->next) {
			for (c = TAILQ_FIRST(&g->busy); c != NULL; c = next) {
				next = TAILQ_NEXT(c, group_entry);
				prune_conn(pool, c, now);
			}
		}
	}
}

/* One pass of pool_cleanup() without touching the schedule. */
static int64_t
cleanup_pass(struct pool *pool, int64_t now)
{
	const struct pool_params *p = &pool->params;
	struct pool_conn *oldest, *c;
	int64_t idle_for, delay, d;

	prune_leaks(pool, now);

	if ((oldest = TAILQ_FIRST(&pool->idle)) == NULL)
		return pool->counts.in_use > 0 ? p->keepalive : -1;

	idle_for = now - oldest->idle_at;
	if (idle_for >= p->keepalive) {
		evict_idle(pool, oldest, oldest->no_new_exchanges ?
		    oldest->retire_reason : POOL_EVICT_KEEPALIVE);
		return 0;
	}
	delay = p->keepalive - idle_for;

	if (pool->counts.idle > p->max_idle) {
		if (idle_for >= p->idle_grace) {
			evict_idle(pool, oldest, POOL_EVICT_OVER_LIMIT);
			return 0;
		}
		if (p->idle_grace - idle_for < delay)
			delay = p->idle_grace - idle_for;
	}

	/*
	 * The first conn (oldest first) of a group over its limit decides:
	 * evicted when its grace is over, else its grace remainder is the
	 * soonest any over-limit conn becomes evictable.
	 */
	if (pool->groups_over > 0) {
		TAILQ_FOREACH(c, &pool->idle, idle_entry) {
			if (c->group->n_idle <= p->max_idle_per_address)
				continue;
			d = now - c->idle_at;
			if (d >= p->idle_grace) {
				evict_idle(pool, c, POOL_EVICT_OVER_LIMIT);
				return 0;
			}
			if (p->idle_grace - d < delay)
				delay = p->idle_grace - d;
			break;
		}
	}
	return delay;
}

/* OkHttp's cleanup(now), plus the schedule it implies. */
int64_t
pool_cleanup(struct pool *pool, int64_t now)
{
	int64_t delay;

	delay = cleanup_pass(pool, now);
	schedule(pool, now, delay);
	return delay;
}

/* Reload, shutdown, the admin interface: nothing idle survives this. */
void
pool_evict_all(struct pool *pool, int64_t now)
{
	struct pool_group *g;
	struct pool_conn *c;

	while ((c = TAILQ_FIRST(&pool->idle)) != NULL)
		evict_idle(pool, c, POOL_EVICT_EVICT_ALL);
	for (size_t i = 0; i < pool->n_buckets; i++)
		for (g = pool->buckets[i]; g != NULL; g = g->next)
			TAILQ_FOREACH(c, &g->busy, group_entry)
				pool_conn_retire(c, POOL_EVICT_EVICT_ALL);
}

/* Mirrors the evtimer: -1 exactly when no timer is pending. */
int64_t
pool_next_cleanup(const struct pool *pool)
{
	return pool->next_cleanup;
}

/* Valid until the pool is freed; the caller only reads it. */
const struct pool_counts *
pool_counts(const struct pool *pool)
{
	return &pool->counts;
}

void
pool_count_tls(struct pool *pool, struct pool_conn *conn, bool resumed)
{
	struct pool_group *g = conn->group;

	g->tls_version = conn->tls_version;
	g->tls_cipher = conn->tls_cipher;
	if (resumed) {
		g->tls_resumed++;
		pool->counts.tls_resumed++;
	} else {
		g->tls_full++;
		pool->counts.tls_full++;
	}
}

/* fn must not change the pool; st and its address live only during the call. */
void
pool_foreach_address(const struct pool *pool,
    void (*fn)(const struct pool_address_stats *st, void *arg), void *arg)
{
	struct pool_address_stats st;
	const struct pool_group *g;

	for (size_t i = 0; i < pool->n_buckets; i++) {
		for (g = pool->buckets[i]; g != NULL; g = g->next) {
			st.address = &g->address;
			st.idle = g->n_idle;
			st.in_use = g->n_in_use;
			st.opened = g->opened;
			st.reused = g->reused;
			st.tls_full = g->tls_full;
			st.tls_resumed = g->tls_resumed;
			st.tls_version = g->tls_version;
			st.tls_cipher = g->tls_cipher;
			fn(&st, arg);
		}
	}
}
