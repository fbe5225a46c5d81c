/*
 * tlscache.h - the latest TLS session (with its ticket) of each address,
 * offered on the next new connection to that address so that its
 * handshake is resumed.  The key is the whole address: scheme, host, port
 * and TLS profile, SNI name included.  A session is never offered to
 * another host; Envoy did that (envoyproxy/envoy #46243) and its
 * resumptions failed certificate name checks.
 *
 * Owner: the TLS context (tls.h).  The cache holds one reference to each
 * session it keeps.
 */
#ifndef FERRYD_TLSCACHE_H
#define FERRYD_TLSCACHE_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "address.h"

struct tlscache;

/* A cache of at most max_entries addresses. */
struct tlscache *tlscache_new(size_t max_entries);
void tlscache_free(struct tlscache *tc);

/*
 * Keeps sess as addr's latest session, taking over the caller's reference
 * and dropping the one it replaces.  When the cache is full, the address
 * whose session came longest ago makes room.
 */
void tlscache_put(struct tlscache *tc, const struct address *addr,
    SSL_SESSION *sess);

/*
 * addr's latest session, still owned by the cache (SSL_set_session()
 * takes its own reference), or NULL.  One that can no longer resume is
 * dropped instead.
 */
SSL_SESSION *tlscache_get(struct tlscache *tc, const struct address *addr);

/* Forgets addr's session: its handshake failed. */
void tlscache_drop(struct tlscache *tc, const struct address *addr);

/* Sessions held (for tests and /stats). */
size_t tlscache_size(const struct tlscache *tc);

#endif
