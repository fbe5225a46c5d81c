/*
 * tlscache.c - the latest TLS session per address.  See tlscache.h.
 *
 * A flat array searched by hash: it is consulted once per new TLS
 * connection, next to a handshake that costs a thousand times more.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tlscache.h"

struct tlscache_entry {
	struct address address;
	uint32_t hash;
	SSL_SESSION *session;		/* NULL: a free slot */
	uint64_t put_seq;		/* when it came, for eviction */
};

struct tlscache {
	struct tlscache_entry *entries;
	size_t max;
	size_t n;
	uint64_t seq;
};

struct tlscache *
tlscache_new(size_t max_entries)
{
	struct tlscache *tc;

	if (max_entries == 0 || (tc = calloc(1, sizeof(*tc))) == NULL)
		return NULL;
	if ((tc->entries = calloc(max_entries, sizeof(*tc->entries))) == NULL) {
		free(tc);
		return NULL;
	}
	tc->max = max_entries;
	return tc;
}

static void
entry_clear(struct tlscache *tc, struct tlscache_entry *e)
{
	SSL_SESSION_free(e->session);
	e->session = NULL;
	tc->n--;
}

void
tlscache_free(struct tlscache *tc)
{
	if (tc == NULL)
		return;
	for (size_t i = 0; i < tc->max; i++)
		if (tc->entries[i].session != NULL)
			entry_clear(tc, &tc->entries[i]);
	free(tc->entries);
	free(tc);
}

static struct tlscache_entry *
find(struct tlscache *tc, const struct address *addr, uint32_t hash)
{
	for (size_t i = 0; i < tc->max; i++) {
		struct tlscache_entry *e = &tc->entries[i];

		if (e->session != NULL && e->hash == hash &&
		    address_equal(&e->address, addr))
			return e;
	}
	return NULL;
}

void
tlscache_put(struct tlscache *tc, const struct address *addr,
    SSL_SESSION *sess)
{
	uint32_t hash = address_hash(addr);
	struct tlscache_entry *e = find(tc, addr, hash), *oldest = NULL;

	if (e == NULL) {
		for (size_t i = 0; i < tc->max && e == NULL; i++) {
			struct tlscache_entry *c = &tc->entries[i];

			if (c->session == NULL)
				e = c;
			else if (oldest == NULL || c->put_seq < oldest->put_seq)
				oldest = c;
		}
		if (e == NULL) {
			e = oldest;
			entry_clear(tc, e);
		}
		e->address = *addr;
		e->hash = hash;
		tc->n++;
	} else
		SSL_SESSION_free(e->session);
	e->session = sess;
	e->put_seq = ++tc->seq;
}

SSL_SESSION *
tlscache_get(struct tlscache *tc, const struct address *addr)
{
	struct tlscache_entry *e = find(tc, addr, address_hash(addr));

	if (e == NULL)
		return NULL;
	if (!SSL_SESSION_is_resumable(e->session)) {
		entry_clear(tc, e);
		return NULL;
	}
	return e->session;
}

void
tlscache_drop(struct tlscache *tc, const struct address *addr)
{
	struct tlscache_entry *e = find(tc, addr, address_hash(addr));

	if (e != NULL)
		entry_clear(tc, e);
}

size_t
tlscache_size(const struct tlscache *tc)
{
	return tc->n;
}
