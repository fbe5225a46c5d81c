/*
 * owner.h - the owner token of a client request.  Each allocation of an
 * upstream connection holds a reference to the token of the request that
 * made it.  When the client request is freed its token is killed; an
 * allocation still holding a dead token is a leak (pool.c prunes it and
 * says so in syslog).
 *
 * Lifetime: created by the exchange with one reference; every allocation
 * adds one; freed when the last reference goes.
 */
#ifndef FERRYD_OWNER_H
#define FERRYD_OWNER_H

#include <stdbool.h>
#include <stdint.h>

struct owner {
	int refs;
	bool dead;			/* the client request is gone */
	int64_t started_wall;		/* wall clock, for the leak warning */
	char what[256];			/* "METHOD TARGET", cut to fit */
};

/* Returns a token with one reference, or NULL when out of memory. */
struct owner *owner_new(const char *method, const char *target,
    int64_t started_wall);
void owner_ref(struct owner *owner);
/* Drops one reference; frees the token with the last. */
void owner_unref(struct owner *owner);
/* The client request is gone: marks the token dead (does not unref). */
void owner_kill(struct owner *owner);

#endif
