/*
 * address.c - the identity of a poolable upstream connection (struct
 * address) and one resolved way to reach it (struct route).  See address.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "address.h"

#define FNV_OFFSET	UINT32_C(2166136261)
#define FNV_PRIME	UINT32_C(16777619)

/* Copies src lower-cased; the caller checked that it fits in dst. */
static void
copy_lower(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	dst[len] = '\0';
}

/* Zeroes addr first so that no stale byte survives past a string's NUL. */
int
address_init(struct address *addr, const char *scheme, const char *host,
    uint16_t port)
{
	size_t slen, hlen;

	memset(addr, 0, sizeof(*addr));
	if (scheme == NULL || host == NULL)
		return -1;
	slen = strlen(scheme);
	hlen = strlen(host);
	if (slen == 0 || slen >= sizeof(addr->scheme))
		return -1;
	if (hlen == 0 || hlen >= sizeof(addr->host))
		return -1;
	copy_lower(addr->scheme, scheme, slen);
	copy_lower(addr->host, host, hlen);
	addr->port = port;
	return 0;
}

/* Field by field, so padding and bytes past the NULs never matter. */
bool
address_equal(const struct address *a, const struct address *b)
{
	return a->port == b->port &&
	    a->tls.tls == b->tls.tls &&
	    a->tls.verify == b->tls.verify &&
	    strcmp(a->scheme, b->scheme) == 0 &&
	    strcmp(a->host, b->host) == 0 &&
	    strcmp(a->tls.ca_file, b->tls.ca_file) == 0 &&
	    strcmp(a->tls.sni, b->tls.sni) == 0 &&
	    strcmp(a->tls.alpn, b->tls.alpn) == 0;
}

/* One FNV-1a step over len bytes. */
static uint32_t
fnv1a(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* Hashes exactly the fields address_equal() compares, so equal means equal hash. */
uint32_t
address_hash(const struct address *addr)
{
	unsigned char port[2], flags[2];
	uint32_t h = FNV_OFFSET;

	port[0] = (unsigned char)(addr->port >> 8);
	port[1] = (unsigned char)addr->port;
	flags[0] = addr->tls.tls ? 1 : 0;
	flags[1] = addr->tls.verify ? 1 : 0;

	/* The NULs separate the strings: ("ab", "c") must differ from ("a", "bc"). */
	h = fnv1a(h, addr->scheme, strlen(addr->scheme) + 1);
	h = fnv1a(h, addr->host, strlen(addr->host) + 1);
	h = fnv1a(h, port, sizeof(port));
	h = fnv1a(h, flags, sizeof(flags));
	h = fnv1a(h, addr->tls.ca_file, strlen(addr->tls.ca_file) + 1);
	h = fnv1a(h, addr->tls.sni, strlen(addr->tls.sni) + 1);
	h = fnv1a(h, addr->tls.alpn, strlen(addr->tls.alpn) + 1);
	return h;
}

/* An IPv6 literal is the only host with a ':' and needs brackets in a URL. */
void
address_format(const struct address *addr, char *buf, size_t len)
{
	if (strchr(addr->host, ':') != NULL)
		snprintf(buf, len, "%s://[%s]:%u", addr->scheme, addr->host,
		    (unsigned)addr->port);
	else
		snprintf(buf, len, "%s://%s:%u", addr->scheme, addr->host,
		    (unsigned)addr->port);
}

/* Only IPv4 and IPv6 are routes; the stored length is the family's exact size. */
int
route_from_sockaddr(struct route *route, const struct sockaddr *sa,
    socklen_t len)
{
	socklen_t need;

	memset(route, 0, sizeof(*route));
	if (sa == NULL)
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		need = sizeof(struct sockaddr_in);
		break;
	case AF_INET6:
		need = sizeof(struct sockaddr_in6);
		break;
	default:
		return -1;
	}
	if (len < need)
		return -1;
	memcpy(&route->addr, sa, need);
	route->addrlen = need;
	return 0;
}

/* inet_pton() decides: a dotted quad or an IPv6 literal, nothing looser. */
int
route_from_literal(struct route *route, const char *host, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&route->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&route->addr;

	memset(route, 0, sizeof(*route));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		route->addrlen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		route->addrlen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* Compares family, address, port (and scope for IPv6), never padding. */
bool
route_equal(const struct route *a, const struct route *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->addr.ss_family != b->addr.ss_family)
		return false;
	switch (a->addr.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->addr;
		b4 = (const struct sockaddr_in *)&b->addr;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->addr;
		b6 = (const struct sockaddr_in6 *)&b->addr;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	default:
		return false;
	}
}

/* For logs and /stats; an unset route prints as "-". */
void
route_format(const struct route *route, char *buf, size_t len)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	char ip[INET6_ADDRSTRLEN];

	switch (route->addr.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&route->addr;
		if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)) == NULL)
			break;
		snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(sin->sin_port));
		return;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&route->addr;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip)) == NULL)
			break;
		snprintf(buf, len, "[%s]:%u", ip,
		    (unsigned)ntohs(sin6->sin6_port));
		return;
	default:
		break;
	}
	snprintf(buf, len, "-");
}
