/*
 * originver.c - the origins last heard in HTTP/1.0.  See originver.h.
 */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "originver.h"

/* An origin is its scheme, host and port: the TLS profile says nothing of it. */
struct slot {
	bool used;
	bool https;
	unsigned short port;
	char host[ADDRESS_HOST_MAX];
};

struct originver {
	size_t n;
	struct slot slots[];
};

struct originver *
originver_new(size_t slots)
{
	struct originver *ov;

	if (slots == 0)
		slots = 1;
	if ((ov = calloc(1, sizeof(*ov) + slots * sizeof(ov->slots[0]))) == NULL)
		return NULL;
	ov->n = slots;
	return ov;
}

void
originver_free(struct originver *ov)
{
	free(ov);
}

/* FNV-1a of the origin, so that its TLS profile does not move its slot. */
static size_t
slot_of(const struct originver *ov, const struct address *a)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;

	for (p = (const unsigned char *)a->host; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ a->port) * 16777619u;
	h = (h ^ (a->tls.tls ? 1u : 0u)) * 16777619u;
	return h % ov->n;
}

static bool
slot_is(const struct slot *s, const struct address *a)
{
	return s->used && s->port == a->port && s->https == a->tls.tls &&
	    strcmp(s->host, a->host) == 0;
}

void
originver_note(struct originver *ov, const struct address *a, int minor)
{
	struct slot *s = &ov->slots[slot_of(ov, a)];

	if (minor != 0) {
		if (slot_is(s, a))
			s->used = false;
		return;
	}
	s->used = true;
	s->https = a->tls.tls;
	s->port = a->port;
	memcpy(s->host, a->host, sizeof(s->host));
}

bool
originver_is_http10(const struct originver *ov, const struct address *a)
{
	return slot_is(&ov->slots[slot_of(ov, a)], a);
}
