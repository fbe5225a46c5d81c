/*
 * target.c - takes a request-target apart (RFC 9112 section 3.2) into the
 * scheme, host, port, origin-form path and Host authority that the rest of
 * ferryd uses.  Strict on purpose: anything a resolver or an ACL could read
 * two ways ("127.1", "0x7f.0.0.1", "%2e", userinfo) is refused here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "headers.h"
#include "target.h"

/* RFC 1035 limit on a DNS name written out, without a trailing dot. */
#define HOST_NAME_MAX_LEN 253

/* Every byte of a request-target is visible ASCII (RFC 9112 section 3.2). */
static bool
all_visible(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	}
	return true;
}

/* reg-name bytes ferryd accepts: unreserved only, no percent-encoding. */
static bool
is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/*
 * True when the last label of a name reads as a number, decimal or 0x-hex:
 * the resolver's inet_aton() would then take the name as an IPv4 address
 * in one of its legacy forms, so only a strict dotted quad may pass.
 */
static bool
last_label_numeric(const char *host, size_t len)
{
	size_t start, i;

	if (len > 0 && host[len - 1] == '.')
		len--;
	start = len;
	while (start > 0 && host[start - 1] != '.')
		start--;
	if (start == len)
		return false;
	if (len - start > 2 && host[start] == '0' &&
	    (host[start + 1] == 'x' || host[start + 1] == 'X')) {
		for (i = start + 2; i < len; i++) {
			if (strchr("0123456789abcdefABCDEF", host[i]) == NULL)
				return false;
		}
		return true;
	}
	for (i = start; i < len; i++) {
		if (host[i] < '0' || host[i] > '9')
			return false;
	}
	return true;
}

/* Copies a reg-name or IPv4 host lower-cased into out, or says why not. */
static int
parse_name(const char *s, size_t len, char *out, const char **why)
{
	struct in_addr a4;
	size_t i;

	if (len == 0) {
		*why = "empty host";
		return -1;
	}
	if (len > HOST_NAME_MAX_LEN) {
		*why = "host name too long";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			*why = "percent-encoded host";
			return -1;
		}
		if (!is_host_char(s[i])) {
			*why = "bad character in host";
			return -1;
		}
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i];
	}
	out[len] = '\0';
	if (out[0] == '.' || strstr(out, "..") != NULL) {
		*why = "empty label in host";
		return -1;
	}
	if (last_label_numeric(out, len) && inet_pton(AF_INET, out, &a4) != 1) {
		*why = "malformed IPv4 address";
		return -1;
	}
	return 0;
}

/* Copies a bracketed IPv6 literal's inside lower-cased into out. */
static int
parse_ipv6(const char *s, size_t len, char *out, const char **why)
{
	struct in6_addr a6;
	size_t i;

	if (len == 0 || len >= INET6_ADDRSTRLEN) {
		*why = "malformed IPv6 address";
		return -1;
	}
	for (i = 0; i < len; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i];
	out[len] = '\0';
	if (inet_pton(AF_INET6, out, &a6) != 1) {
		*why = "malformed IPv6 address";
		return -1;
	}
	return 0;
}

/* Reads a port of one to five decimal digits in 1..65535. */
static int
parse_port(const char *s, size_t len, uint16_t *port, const char **why)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5) {
		*why = "bad port";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = "bad port";
			return -1;
		}
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535) {
		*why = "port out of range";
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/*
 * Parses an authority (host[:port], no userinfo) of len bytes into t's
 * host, port and port_given, and builds t->authority from them.
 */
static int
parse_authority(struct target *t, const char *s, size_t len,
    const char **why)
{
	const char *colon, *end = s + len;
	bool v6 = false;
	size_t hlen;
	char *p;

	if (memchr(s, '@', len) != NULL) {
		*why = "userinfo in target";
		return -1;
	}
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL) {
			*why = "malformed IPv6 address";
			return -1;
		}
		if (parse_ipv6(s + 1, (size_t)(close - s - 1), t->host,
		    why) != 0)
			return -1;
		v6 = true;
		colon = close + 1;
		if (colon != end && *colon != ':') {
			*why = "junk after IPv6 address";
			return -1;
		}
	} else {
		colon = memchr(s, ':', len);
		if (colon == NULL)
			colon = end;
		if (parse_name(s, (size_t)(colon - s), t->host, why) != 0)
			return -1;
	}
	if (colon != end) {
		if (parse_port(colon + 1, (size_t)(end - colon - 1), &t->port,
		    why) != 0)
			return -1;
		t->port_given = true;
	}

	/* "[host]:port" by hand: this runs for every request. */
	hlen = strlen(t->host);
	if ((t->authority = malloc(hlen + 3 + HEADERS_U64_MAX + 1)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	p = t->authority;
	if (v6)
		*p++ = '[';
	memcpy(p, t->host, hlen);
	p += hlen;
	if (v6)
		*p++ = ']';
	if (t->port_given) {
		*p++ = ':';
		p += headers_format_u64(p, t->port);
	}
	*p = '\0';
	return 0;
}

/*
 * Parses "http[s]://authority[/path][?query]" into t.  An OPTIONS request
 * with neither path nor query is about the server itself: "*" (RFC 9112
 * 3.2.4).
 */
static int
parse_absolute(struct target *t, const char *uri, bool is_options,
    const char **why)
{
	const char *sep = strstr(uri, "://"), *auth, *rest;
	size_t slen, rlen;

	if (sep == NULL) {
		*why = "malformed target";
		return -1;
	}
	slen = (size_t)(sep - uri);
	if (slen == 4 && strncasecmp(uri, "http", 4) == 0) {
		strcpy(t->scheme, "http");
		t->port = 80;
	} else if (slen == 5 && strncasecmp(uri, "https", 5) == 0) {
		strcpy(t->scheme, "https");
		t->port = 443;
	} else {
		*why = "unsupported scheme";
		return -1;
	}
	t->form = TARGET_ABSOLUTE;

	auth = sep + 3;
	rest = auth + strcspn(auth, "/?");
	if (parse_authority(t, auth, (size_t)(rest - auth), why) != 0)
		return -1;

	if (is_options && *rest == '\0') {
		if ((t->path = strdup("*")) == NULL) {
			*why = "out of memory";
			return -1;
		}
		return 0;
	}
	rlen = strlen(rest);
	t->path = malloc(rlen + 2);
	if (t->path == NULL) {
		*why = "out of memory";
		return -1;
	}
	/* An empty path becomes "/", before any query (RFC 9112 3.2.1). */
	if (*rest == '/')
		memcpy(t->path, rest, rlen + 1);
	else {
		t->path[0] = '/';
		memcpy(t->path + 1, rest, rlen + 1);
	}
	return 0;
}

/*
 * Fills t from uri; t need not be initialized and holds no allocation
 * when -1 is returned.  Origin-form and asterisk-form leave host and
 * scheme empty and set authority to "".
 */
int
target_parse(struct target *t, const char *uri, bool is_connect,
    bool is_options, const char **why)
{
	memset(t, 0, sizeof(*t));

	if (uri == NULL || *uri == '\0') {
		*why = "empty target";
		return -1;
	}
	if (!all_visible(uri)) {
		*why = "bad byte in target";
		return -1;
	}
	if (strchr(uri, '#') != NULL) {
		*why = "fragment in target";
		return -1;
	}

	if (is_connect) {
		t->form = TARGET_AUTHORITY;
		if (strchr(uri, '/') != NULL || strchr(uri, '?') != NULL) {
			*why = "CONNECT needs host:port";
			goto fail;
		}
		if (parse_authority(t, uri, strlen(uri), why) != 0)
			goto fail;
		if (!t->port_given) {
			*why = "CONNECT needs a port";
			goto fail;
		}
		return 0;
	}

	if (strcmp(uri, "*") == 0) {
		if (!is_options) {
			*why = "\"*\" is for OPTIONS only";
			return -1;
		}
		t->form = TARGET_ASTERISK;
		t->path = strdup("*");
		t->authority = strdup("");
		if (t->path == NULL || t->authority == NULL) {
			*why = "out of memory";
			goto fail;
		}
		return 0;
	}

	if (uri[0] == '/') {
		t->form = TARGET_ORIGIN;
		t->path = strdup(uri);
		t->authority = strdup("");
		if (t->path == NULL || t->authority == NULL) {
			*why = "out of memory";
			goto fail;
		}
		return 0;
	}

	if (parse_absolute(t, uri, is_options, why) != 0)
		goto fail;
	return 0;

fail:
	target_clear(t);
	return -1;
}

/* Frees what target_parse() allocated; safe on a zeroed or cleared target. */
void
target_clear(struct target *t)
{
	free(t->path);
	free(t->authority);
	memset(t, 0, sizeof(*t));
}
