/*
 * acl.c - CIDR access lists for [access] allow.  Entries are stored with
 * their host bits cleared, so matching is a prefix compare.  See acl.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

/* Longest address text inet_pton can accept, with room for the NUL. */
#define ADDR_TEXT_MAX 64

/* Clears every bit of addr beyond the first prefix bits. */
static void
mask_host_bits(uint8_t *addr, size_t len, int prefix)
{
	for (size_t i = 0; i < len; i++) {
		int keep = prefix - (int)i * 8;

		if (keep >= 8)
			continue;
		if (keep <= 0)
			addr[i] = 0;
		else
			addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

/* True when the first prefix bits of a and net are equal. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *net, int prefix)
{
	int whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ net[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* True for an IPv4-mapped IPv6 address, ::ffff:a.b.c.d. */
static bool
is_v4_mapped(const uint8_t *a)
{
	static const uint8_t head[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};

	return memcmp(a, head, sizeof(head)) == 0;
}

/* Reads a prefix length of 1 to 3 decimal digits; -1 when it is not one. */
static int
parse_prefix(const char *s)
{
	int v = 0;
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n == 3)
			return -1;
		v = v * 10 + (s[n] - '0');
	}
	return n == 0 ? -1 : v;
}

/*
 * Adds "ADDR" or "ADDR/PREFIX".  A block written with host bits set
 * ("10.1.2.3/8") is accepted and stored as its network (10.0.0.0/8), as
 * nginx and iptables do.  An IPv4-mapped IPv6 block of prefix 96 or more
 * is stored as the IPv4 block it carries, because acl_match() matches
 * mapped client addresses as IPv4.
 */
int
acl_add(struct acl *acl, const char *text, const char **why)
{
	struct acl_entry e;
	char addr[ADDR_TEXT_MAX];
	const char *slash;
	size_t len;
	int max;

	memset(&e, 0, sizeof(e));
	slash = strchr(text, '/');
	len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (len == 0) {
		*why = "an address is required before the prefix";
		return -1;
	}
	if (len >= sizeof(addr)) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	memcpy(addr, text, len);
	addr[len] = '\0';

	if (inet_pton(AF_INET, addr, e.addr) == 1) {
		e.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, e.addr) == 1) {
		e.family = AF_INET6;
		max = 128;
	} else {
		*why = "not an IPv4 or IPv6 address "
		    "(host names are not allowed)";
		return -1;
	}

	if (slash == NULL)
		e.prefix = max;
	else if ((e.prefix = parse_prefix(slash + 1)) < 0 || e.prefix > max) {
		if (e.family == AF_INET)
			*why = "the prefix of an IPv4 block must be a number "
			    "from 0 to 32";
		else
			*why = "the prefix of an IPv6 block must be a number "
			    "from 0 to 128";
		return -1;
	}

	if (e.family == AF_INET6 && e.prefix >= 96 && is_v4_mapped(e.addr)) {
		memmove(e.addr, e.addr + 12, 4);
		memset(e.addr + 4, 0, 12);
		e.family = AF_INET;
		e.prefix -= 96;
	}
	mask_host_bits(e.addr, e.family == AF_INET ? 4 : 16, e.prefix);

	if (acl->n == ACL_MAX_ENTRIES) {
		*why = "too many blocks (at most 64)";
		return -1;
	}
	acl->entries[acl->n++] = e;
	return 0;
}

/* Matches sa against every entry of its family; other families never match. */
bool
acl_match(const struct acl *acl, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	const uint8_t *addr;
	int family;

	if (sa == NULL)
		return false;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		addr = (const uint8_t *)&sin->sin_addr;
		family = AF_INET;
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		addr = sin6->sin6_addr.s6_addr;
		family = AF_INET6;
		if (is_v4_mapped(addr)) {
			addr += 12;
			family = AF_INET;
		}
		break;
	default:
		return false;
	}

	for (size_t i = 0; i < acl->n; i++) {
		const struct acl_entry *e = &acl->entries[i];

		if (e->family == family &&
		    prefix_equal(addr, e->addr, e->prefix))
			return true;
	}
	return false;
}
