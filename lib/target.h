/*
 * target.h - request-target parsing (RFC 9112 section 3.2): absolute-form
 * (http://, https://), authority-form (CONNECT), origin-form (ferryd's own
 * pages) and asterisk-form.  No other file takes a URI apart.
 *
 * struct target is filled by target_parse() and released by target_clear();
 * its owner is whoever declared it (the exchange).
 */
#ifndef FERRYD_TARGET_H
#define FERRYD_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "address.h"

enum target_form {
	TARGET_ORIGIN,			/* "/path?query" */
	TARGET_ABSOLUTE,		/* "http://host:port/path?query" */
	TARGET_AUTHORITY,		/* "host:port", CONNECT only */
	TARGET_ASTERISK			/* "*", OPTIONS only */
};

struct target {
	enum target_form form;
	char scheme[8];			/* "http" or "https", lower case; "" otherwise */
	char host[ADDRESS_HOST_MAX];	/* lower case; IPv6 without brackets */
	uint16_t port;			/* given, or the scheme's default */
	bool port_given;
	char *path;			/* malloc'd origin-form "/p?q" ("/" when empty) */
	char *authority;		/* malloc'd "host[:port]" as the Host header should say */
};

/*
 * Parses uri as the target of a request with the given method (CONNECT
 * takes authority-form only; "*" is for OPTIONS only).  Returns 0, or -1
 * with *why set to a static one-line reason (the client gets 400).
 * Rejected: other schemes, userinfo ("user@host"), an empty or malformed
 * host, a port that is not 1..65535 in decimal digits, a fragment, bytes
 * outside visible ASCII.
 */
int target_parse(struct target *t, const char *uri, bool is_connect,
    bool is_options, const char **why);
void target_clear(struct target *t);

#endif
