/*
 * address.h - what makes two requests able to share an upstream connection
 * (struct address), and one concrete way to reach it (struct route).  Both
 * are value types: copied, compared, never shared.
 */
#ifndef FERRYD_ADDRESS_H
#define FERRYD_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDRESS_HOST_MAX 256	/* with the NUL */

#define TLS_CA_FILE_MAX 256	/* with the NUL */
#define TLS_ALPN_MAX 64		/* "h2,http/1.1", with the NUL */

/*
 * The TLS profile is part of the address, compared in full: connections
 * made with different verification settings, CA sets, SNI names or ALPN
 * offers must never be shared.  Plain http:// addresses have tls == false
 * and the rest empty.
 */
struct tls_profile {
	bool tls;
	bool verify;
	char ca_file[TLS_CA_FILE_MAX];	/* "": the system store */
	char sni[ADDRESS_HOST_MAX];	/* "": none (an IP literal) */
	char alpn[TLS_ALPN_MAX];	/* protocols offered, comma-separated */
};

struct address {
	char scheme[8];			/* "http" or "https", lower case */
	char host[ADDRESS_HOST_MAX];	/* lower case; IPv6 without brackets */
	uint16_t port;
	struct tls_profile tls;
};

/*
 * Fills addr; the host is lower-cased.  Returns 0, or -1 when the scheme
 * or host does not fit (the caller answers 400).
 */
int address_init(struct address *addr, const char *scheme, const char *host,
    uint16_t port);
bool address_equal(const struct address *a, const struct address *b);
uint32_t address_hash(const struct address *addr);
/* "http://host:port" ("http://[::1]:8080" for IPv6), always with the port. */
void address_format(const struct address *addr, char *buf, size_t len);

/* A resolved IP and port. */
struct route {
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

int route_from_sockaddr(struct route *route, const struct sockaddr *sa,
    socklen_t len);
/*
 * A route for host when host is an IPv4 or IPv6 literal (no brackets):
 * 0, or -1 when host is a name to resolve.
 */
int route_from_literal(struct route *route, const char *host, uint16_t port);
bool route_equal(const struct route *a, const struct route *b);
/* "192.0.2.1:80" or "[2001:db8::1]:80". */
void route_format(const struct route *route, char *buf, size_t len);

#endif
