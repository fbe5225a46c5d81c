/*
 * owner.c - the reference-counted owner token of a client request; the
 * pool holds one reference per allocation and reads "dead" to find leaks.
 * See owner.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owner.h"

/* Appends s to owner->what as far as it fits; what stays terminated. */
static void
what_append(struct owner *owner, const char *s)
{
	size_t have = strlen(owner->what), n = strlen(s);

	if (n > sizeof(owner->what) - 1 - have)
		n = sizeof(owner->what) - 1 - have;
	memcpy(owner->what + have, s, n);
	owner->what[have + n] = '\0';
}

/* The caller holds the one reference it returns. */
struct owner *
owner_new(const char *method, const char *target, int64_t started_wall)
{
	struct owner *owner;

	owner = calloc(1, sizeof(*owner));
	if (owner == NULL)
		return NULL;
	owner->refs = 1;
	owner->started_wall = started_wall;
	/*
	 * Only for the leak warning: a long target is cut, never an error.
	 * By hand, not snprintf: this runs for every request.
	 */
	what_append(owner, method != NULL ? method : "-");
	what_append(owner, " ");
	what_append(owner, target != NULL ? target : "-");
	return owner;
}

/* Each allocation takes one reference so the token outlives its request. */
void
owner_ref(struct owner *owner)
{
	owner->refs++;
}

/* The last reference frees the token; NULL is accepted for teardown paths. */
void
owner_unref(struct owner *owner)
{
	if (owner == NULL)
		return;
	if (--owner->refs == 0)
		free(owner);
}

/* Marks the request gone; allocations still holding the token are leaks. */
void
owner_kill(struct owner *owner)
{
	owner->dead = true;
}
