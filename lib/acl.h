/*
 * acl.h - client address access lists ([access] allow): CIDR blocks for
 * IPv4 and IPv6.  A plain value type kept inside struct ferryd_config.
 */
#ifndef FERRYD_ACL_H
#define FERRYD_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ACL_MAX_ENTRIES 64

struct acl_entry {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];		/* network byte order, host bits zero */
	int prefix;			/* 0..32 or 0..128 */
};

struct acl {
	struct acl_entry entries[ACL_MAX_ENTRIES];
	size_t n;
};

/*
 * Adds one "ADDR", "ADDR/PREFIX" (IPv4 or IPv6) to acl.  Returns 0, or -1
 * with *why set to a static message when the text is not a valid block or
 * the list is full.
 */
int acl_add(struct acl *acl, const char *text, const char **why);

/*
 * True when sa matches an entry.  An IPv4-mapped IPv6 address
 * (::ffff:127.0.0.1) is matched as the IPv4 address it carries.
 */
bool acl_match(const struct acl *acl, const struct sockaddr *sa);

#endif
