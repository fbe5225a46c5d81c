/*
 * dnscache.c - a small hash table of resolved routes.  See dnscache.h.
 */
#include <stdlib.h>
#include <string.h>

#include "dnscache.h"

#define DNSCACHE_MAX_ROUTES 16
#define DNSCACHE_BUCKETS 256

struct dns_entry {
	struct dns_entry *next;
	char host[ADDRESS_HOST_MAX];
	uint16_t port;
	int64_t expires;
	size_t n;
	struct route routes[DNSCACHE_MAX_ROUTES];
};

struct dnscache {
	struct dns_entry *buckets[DNSCACHE_BUCKETS];
	size_t n, max;
};

/* FNV-1a over the name and the port. */
static size_t
bucket_of(const char *host, uint16_t port)
{
	uint32_t h = 2166136261u;

	for (; *host != '\0'; host++)
		h = (h ^ (unsigned char)*host) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h % DNSCACHE_BUCKETS;
}

struct dnscache *
dnscache_new(size_t max_entries)
{
	struct dnscache *dc = calloc(1, sizeof(*dc));

	if (dc != NULL)
		dc->max = max_entries > 0 ? max_entries : 1;
	return dc;
}

void
dnscache_free(struct dnscache *dc)
{
	struct dns_entry *e, *next;

	if (dc == NULL)
		return;
	for (size_t i = 0; i < DNSCACHE_BUCKETS; i++)
		for (e = dc->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(dc);
}

/* Unlinks and frees the entry *link points to. */
static void
drop(struct dnscache *dc, struct dns_entry **link)
{
	struct dns_entry *e = *link;

	*link = e->next;
	free(e);
	dc->n--;
}

/* The link to host:port's entry, or to the end of its chain. */
static struct dns_entry **
find(struct dnscache *dc, const char *host, uint16_t port)
{
	struct dns_entry **link = &dc->buckets[bucket_of(host, port)];

	while (*link != NULL &&
	    ((*link)->port != port || strcmp((*link)->host, host) != 0))
		link = &(*link)->next;
	return link;
}

size_t
dnscache_get(struct dnscache *dc, const char *host, uint16_t port,
    struct route *routes, size_t max, int64_t now)
{
	struct dns_entry **link = find(dc, host, port);
	size_t n;

	if (*link == NULL)
		return 0;
	if ((*link)->expires <= now) {
		drop(dc, link);
		return 0;
	}
	n = (*link)->n < max ? (*link)->n : max;
	memcpy(routes, (*link)->routes, n * sizeof(*routes));
	return n;
}

/* Makes room for one entry: every expired one, else the soonest to expire. */
static void
make_room(struct dnscache *dc, int64_t now)
{
	struct dns_entry **link, **soonest = NULL;

	for (size_t i = 0; i < DNSCACHE_BUCKETS; i++) {
		link = &dc->buckets[i];
		while (*link != NULL) {
			if ((*link)->expires <= now) {
				drop(dc, link);
				continue;
			}
			if (soonest == NULL || (*link)->expires < (*soonest)->expires)
				soonest = link;
			link = &(*link)->next;
		}
	}
	if (dc->n >= dc->max && soonest != NULL)
		drop(dc, soonest);
}

void
dnscache_put(struct dnscache *dc, const char *host, uint16_t port,
    const struct route *routes, size_t n, int64_t expires, int64_t now)
{
	struct dns_entry **link, *e;

	if (n == 0 || strlen(host) >= ADDRESS_HOST_MAX)
		return;
	if (n > DNSCACHE_MAX_ROUTES)
		n = DNSCACHE_MAX_ROUTES;
	link = find(dc, host, port);
	if ((e = *link) == NULL) {
		if (dc->n >= dc->max) {
			make_room(dc, now);
			link = find(dc, host, port);
		}
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return;
		strcpy(e->host, host);
		e->port = port;
		*link = e;
		dc->n++;
	}
	e->expires = expires;
	e->n = n;
	memcpy(e->routes, routes, n * sizeof(*routes));
}

size_t
dnscache_size(const struct dnscache *dc)
{
	return dc->n;
}
