/*
 * routedb.c - the routes whose connect failed recently, so that route
 * selection tries them last (OkHttp's RouteDatabase, with an expiry).  A
 * small array: an address has a handful of routes and few fail at once.
 * See routedb.h.
 */
#include <stdlib.h>
#include <string.h>

#include "routedb.h"

struct routedb_entry {
	struct route route;
	int64_t failed_at;
};

/* Owned by the pool; freed with routedb_free(). */
struct routedb {
	struct routedb_entry *entries;
	size_t n;
	size_t cap;
	int64_t ttl;
};

/* An empty database; NULL when out of memory. */
struct routedb *
routedb_new(int64_t ttl)
{
	struct routedb *db;

	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return NULL;
	db->ttl = ttl;
	return db;
}

/* Frees the database and its entries; NULL is accepted. */
void
routedb_free(struct routedb *db)
{
	if (db == NULL)
		return;
	free(db->entries);
	free(db);
}

/* A reload may change the TTL; entries keep their failure times. */
void
routedb_set_ttl(struct routedb *db, int64_t ttl)
{
	db->ttl = ttl;
}

/* Drops entry i; order among entries does not matter. */
static void
remove_at(struct routedb *db, size_t i)
{
	db->entries[i] = db->entries[db->n - 1];
	db->n--;
}

/* Drops every entry whose failure is at least the TTL old. */
static void
expire(struct routedb *db, int64_t now)
{
	size_t i = 0;

	while (i < db->n) {
		if (now - db->entries[i].failed_at >= db->ttl)
			remove_at(db, i);
		else
			i++;
	}
}

/* The index of route's entry, or -1. */
static long
find(const struct routedb *db, const struct route *route)
{
	for (size_t i = 0; i < db->n; i++)
		if (route_equal(&db->entries[i].route, route))
			return (long)i;
	return -1;
}

/*
 * Out of memory the failure is simply not remembered: the database only
 * orders routes, nothing depends on it for correctness.
 */
void
routedb_failed(struct routedb *db, const struct route *route, int64_t now)
{
	struct routedb_entry *grown;
	size_t cap;
	long i;

	expire(db, now);
	i = find(db, route);
	if (i >= 0) {
		db->entries[i].failed_at = now;
		return;
	}
	if (db->n == db->cap) {
		cap = db->cap == 0 ? 8 : db->cap * 2;
		grown = realloc(db->entries, cap * sizeof(*grown));
		if (grown == NULL)
			return;
		db->entries = grown;
		db->cap = cap;
	}
	db->entries[db->n].route = *route;
	db->entries[db->n].failed_at = now;
	db->n++;
}

/* A route that works again is no longer postponed. */
void
routedb_connected(struct routedb *db, const struct route *route)
{
	long i;

	i = find(db, route);
	if (i >= 0)
		remove_at(db, (size_t)i);
}

/* Expired entries are dropped on the way, so the answer is always current. */
bool
routedb_should_postpone(struct routedb *db, const struct route *route,
    int64_t now)
{
	expire(db, now);
	return find(db, route) >= 0;
}

/*
 * Stable insertion sort on (failed?, failed_at): n is the handful of
 * routes of one address.  Without memory for the keys the order is left
 * as given, which only loses the preference.
 */
void
routedb_order(struct routedb *db, struct route *routes, size_t n,
    int64_t now)
{
	struct route moving;
	int64_t *keys, key;
	size_t i, j;
	long e;

	if (n < 2)
		return;
	expire(db, now);
	if (db->n == 0)
		return;
	keys = calloc(n, sizeof(*keys));
	if (keys == NULL)
		return;
	/* INT64_MIN sorts the routes without a live entry before any failed one. */
	for (i = 0; i < n; i++) {
		e = find(db, &routes[i]);
		keys[i] = e >= 0 ? db->entries[e].failed_at : INT64_MIN;
	}
	for (i = 1; i < n; i++) {
		moving = routes[i];
		key = keys[i];
		for (j = i; j > 0 && keys[j - 1] > key; j--) {
			routes[j] = routes[j - 1];
			keys[j] = keys[j - 1];
		}
		routes[j] = moving;
		keys[j] = key;
	}
	free(keys);
}

/* Counts live entries only. */
size_t
routedb_size(struct routedb *db, int64_t now)
{
	expire(db, now);
	return db->n;
}
