/*
 * confvalue.c - one value of ferryd.ini turned into its field of struct
 * ferryd_config: durations, sizes, numbers, booleans, listen addresses,
 * access lists, ports, host patterns, paths, syslog names.  See
 * confvalue.h; the file, its lines and its sections are config.c's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sys/types.h>

#include "clock.h"
#include "config.h"
#include "confvalue.h"
#include "log.h"

/* Sets pb->why from a format. */
static void LOG_PRINTF(2, 3)
refuse(struct problem *pb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pb->why, sizeof(pb->why), fmt, ap);
	va_end(ap);
}

/* Writes a byte count the way the file would: "64k", "1g", "100". */
static void
format_size(char *buf, size_t len, uint64_t v)
{
	static const char suffix[] = "gmk";

	for (int i = 0; i < 3; i++) {
		uint64_t unit = UINT64_C(1) << (10 * (3 - i));

		if (v != 0 && v % unit == 0) {
			snprintf(buf, len, "%llu%c",
			    (unsigned long long)(v / unit), suffix[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

/*
 * Reads the decimal digits at *p into *v, advancing *p.  Returns the number
 * of digits; a value past UINT64_MAX saturates there.
 */
static int
read_digits(const char **p, uint64_t *v)
{
	int n = 0;

	*v = 0;
	for (; **p >= '0' && **p <= '9'; (*p)++, n++) {
		unsigned d = (unsigned)(**p - '0');

		if (*v > (UINT64_MAX - d) / 10)
			*v = UINT64_MAX;
		else
			*v = *v * 10 + d;
	}
	return n;
}

/*
 * Copies the next white-space separated word of *p into tok and advances
 * *p.  Returns its length, 0 at the end, or -1 when it does not fit (tok
 * then holds its start).
 */
static int
next_token(const char **p, char *tok, size_t toklen)
{
	const char *s = *p, *e;
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	for (e = s; *e != '\0' && *e != ' ' && *e != '\t'; e++)
		;
	*p = e;
	n = (size_t)(e - s);
	if (n >= toklen) {
		memcpy(tok, s, toklen - 1);
		tok[toklen - 1] = '\0';
		return -1;
	}
	memcpy(tok, s, n);
	tok[n] = '\0';
	return (int)n;
}

/* Seconds with an optional fraction ("30", "0.5") to microseconds. */
static int
parse_duration(const struct key *k, const char *value, int64_t *out,
    struct problem *pb)
{
	const char *p = value;
	uint64_t sec, frac = 0;
	int nfrac = 0;
	bool negative = false;

	if (*p == '-') {
		negative = true;
		p++;
	}
	if (read_digits(&p, &sec) == 0)
		goto syntax;
	if (*p == '.') {
		p++;
		nfrac = read_digits(&p, &frac);
		if (nfrac == 0)
			goto syntax;
		if (nfrac > 6) {
			refuse(pb, "at most 6 digits after the decimal point "
			    "(microseconds)");
			return -1;
		}
		for (int i = nfrac; i < 6; i++)
			frac *= 10;
	}
	if (*p != '\0')
		goto syntax;

	if (negative || (sec == 0 && frac == 0 && k->min > 0)) {
		if (k->min == 0)
			refuse(pb, "must not be negative");
		else if (k->why_min != NULL)
			refuse(pb, "must be greater than 0: %s", k->why_min);
		else
			refuse(pb, "must be greater than 0");
		return -1;
	}
	if (sec > (uint64_t)MAX_SECONDS ||
	    (int64_t)sec * USEC_PER_SEC + (int64_t)frac > k->max) {
		refuse(pb, "must be at most %lld seconds (one year)",
		    (long long)(k->max / USEC_PER_SEC));
		return -1;
	}
	*out = (int64_t)sec * USEC_PER_SEC + (int64_t)frac;
	return 0;

syntax:
	refuse(pb, "expected a number of seconds, e.g. 30 or 0.5");
	return -1;
}

/* Bytes with an optional k, m or g suffix (1024-based). */
static int
parse_size(const struct key *k, const char *value, size_t *out,
    struct problem *pb)
{
	const char *p = value;
	uint64_t v, unit = 1;
	char lo[32], hi[32];
	bool negative = false;

	if (*p == '-') {
		negative = true;
		p++;
	}
	if (read_digits(&p, &v) == 0)
		goto syntax;
	switch (*p) {
	case 'k': case 'K':
		unit = UINT64_C(1) << 10;
		p++;
		break;
	case 'm': case 'M':
		unit = UINT64_C(1) << 20;
		p++;
		break;
	case 'g': case 'G':
		unit = UINT64_C(1) << 30;
		p++;
		break;
	}
	if (*p != '\0')
		goto syntax;
	v = v > UINT64_MAX / unit ? UINT64_MAX : v * unit;
	if (negative || v < (uint64_t)k->min || v > (uint64_t)k->max ||
	    v > SIZE_MAX) {
		format_size(lo, sizeof(lo), (uint64_t)k->min);
		format_size(hi, sizeof(hi), (uint64_t)k->max);
		refuse(pb, "must be between %s and %s bytes", lo, hi);
		return -1;
	}
	*out = (size_t)v;
	return 0;

syntax:
	refuse(pb, "expected a number of bytes with an optional k, m or g "
	    "suffix, e.g. 64k");
	return -1;
}

/* A whole number in [k->min, k->max]. */
static int
parse_integer(const struct key *k, const char *value, int64_t *out,
    struct problem *pb)
{
	const char *p = value;
	uint64_t v;
	bool negative = false;

	if (*p == '-') {
		negative = true;
		p++;
	}
	if (read_digits(&p, &v) == 0 || *p != '\0') {
		refuse(pb, "expected a whole number");
		return -1;
	}
	if ((negative && v != 0) || v < (uint64_t)k->min ||
	    v > (uint64_t)k->max) {
		refuse(pb, "must be between %lld and %lld",
		    (long long)k->min, (long long)k->max);
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

/* yes/no/true/false/1/0, in any case. */
static int
parse_bool(const char *value, bool *out, struct problem *pb)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	refuse(pb, "expected yes, no, true, false, 1 or 0");
	return -1;
}

/* A port of at most five digits, 0..65535; -1 otherwise. */
static int
parse_port(const char *s)
{
	const char *p = s;
	uint64_t v;

	if (read_digits(&p, &v) == 0 || *p != '\0' || p - s > 5 || v > 65535)
		return -1;
	return (int)v;
}

/* One "IPv4:PORT" or "[IPv6]:PORT" into l. */
static int
parse_listen_one(const char *tok, struct config_listen *l, struct problem *pb)
{
	char host[TOKEN_MAX];
	const char *colon;
	size_t n;
	int port;

	memset(l, 0, sizeof(*l));
	if (tok[0] == '[') {
		const char *close = strchr(tok, ']');

		if (close == NULL || close[1] != ':')
			goto syntax;
		n = (size_t)(close - tok - 1);
		colon = close + 1;
		memcpy(host, tok + 1, n);
	} else {
		if ((colon = strchr(tok, ':')) == NULL)
			goto syntax;
		if (strchr(colon + 1, ':') != NULL) {
			refuse(pb, "an IPv6 address needs brackets, e.g. "
			    "[::1]:3128");
			return -1;
		}
		n = (size_t)(colon - tok);
		memcpy(host, tok, n);
	}
	host[n] = '\0';

	if ((port = parse_port(colon + 1)) == -1) {
		refuse(pb, "the port must be a number from 0 to 65535");
		return -1;
	}
	if (tok[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			refuse(pb, "not an IPv6 address");
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		l->addrlen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			refuse(pb, "not an IPv4 address (host names are not "
			    "allowed; write [IPv6]:PORT for IPv6)");
			return -1;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		l->addrlen = sizeof(*sin);
	}
	if (strlen(tok) >= sizeof(l->text))
		goto syntax;
	strcpy(l->text, tok);
	return 0;

syntax:
	refuse(pb, "expected IPv4:PORT or [IPv6]:PORT, e.g. 127.0.0.1:3128 "
	    "or [::1]:3128");
	return -1;
}

/* The port of a parsed listen address, in host order. */
static int
listen_port(const struct config_listen *l)
{
	const struct sockaddr_in6 *sin6 = (const void *)&l->addr;
	const struct sockaddr_in *sin = (const void *)&l->addr;

	if (l->addr.ss_family == AF_INET6)
		return ntohs(sin6->sin6_port);
	return ntohs(sin->sin_port);
}

/*
 * listen: the whole list replaces the default.  The same address and port
 * twice would fail at bind(), so it is refused here, where the line is
 * known; port 0 ("any free port", for tests) may repeat.
 */
static int
parse_listen(const char *value, struct ferryd_config *cfg, struct problem *pb)
{
	struct config_listen l[CONFIG_MAX_LISTEN];
	const char *p = value;
	size_t n = 0;
	int len;

	while ((len = next_token(&p, pb->token, sizeof(pb->token))) != 0) {
		if (len == -1) {
			refuse(pb, "too long");
			return -1;
		}
		if (n == CONFIG_MAX_LISTEN) {
			refuse(pb, "at most %d addresses", CONFIG_MAX_LISTEN);
			return -1;
		}
		if (parse_listen_one(pb->token, &l[n], pb) == -1)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (l[i].addrlen == l[n].addrlen &&
			    memcmp(&l[i].addr, &l[n].addr, l[n].addrlen) == 0 &&
			    listen_port(&l[n]) != 0) {
				refuse(pb, "listed twice");
				return -1;
			}
		}
		n++;
	}
	if (n == 0) {
		refuse(pb, "at least one address is required, e.g. "
		    "127.0.0.1:3128");
		return -1;
	}
	memcpy(cfg->listen, l, n * sizeof(l[0]));
	cfg->n_listen = n;
	return 0;
}

/* allow: CIDR blocks; the list replaces the default. */
static int
parse_allow(const char *value, struct ferryd_config *cfg, struct problem *pb)
{
	struct acl acl;
	const char *p = value, *why;
	int len;

	memset(&acl, 0, sizeof(acl));
	while ((len = next_token(&p, pb->token, sizeof(pb->token))) != 0) {
		if (len == -1) {
			refuse(pb, "too long");
			return -1;
		}
		if (acl_add(&acl, pb->token, &why) == -1) {
			refuse(pb, "%s", why);
			return -1;
		}
	}
	if (acl.n == 0) {
		refuse(pb, "at least one address block is required, e.g. "
		    "127.0.0.0/8 (an empty list would refuse every client)");
		return -1;
	}
	cfg->allow = acl;
	return 0;
}

/* connect_ports: ports 1..65535, "*" alone for any, empty for none. */
static int
parse_ports(const char *value, struct ferryd_config *cfg, struct problem *pb)
{
	uint16_t ports[CONFIG_MAX_PORTS];
	const char *p = value;
	size_t n = 0;
	bool any = false;
	int len, port;

	while ((len = next_token(&p, pb->token, sizeof(pb->token))) != 0) {
		if (strcmp(pb->token, "*") == 0) {
			any = true;
			continue;
		}
		if (len == -1 || (port = parse_port(pb->token)) <= 0) {
			refuse(pb, "expected port numbers from 1 to 65535, or "
			    "\"*\" for any port");
			return -1;
		}
		if (n == CONFIG_MAX_PORTS) {
			refuse(pb, "at most %d ports (or \"*\" for any)",
			    CONFIG_MAX_PORTS);
			return -1;
		}
		ports[n++] = (uint16_t)port;
	}
	if (any && n > 0) {
		pb->token[0] = '\0';
		refuse(pb, "\"*\" (any port) must stand alone");
		return -1;
	}
	memcpy(cfg->connect_ports, ports, n * sizeof(ports[0]));
	cfg->n_connect_ports = n;
	cfg->connect_any_port = any;
	return 0;
}

/* True for "host.name" or "*.host.name": letters, digits, '-', '_', dots. */
static bool
host_pattern_valid(const char *s)
{
	size_t label = 0;

	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	if (*s == '\0' || strlen(s) > 253)
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*s) || *s == '-' ||
		    *s == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label > 0;
}

/* Frees a NULL-terminated array of strings. */
void
confvalue_free_strings(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* A protocol of Upgrade (RFC 9110 7.8): a token, "/" and a version allowed. */
static bool
protocol_valid(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~/", *s) == NULL)
			return false;
	return true;
}

/*
 * A list of words that valid() accepts (tls_origination's host patterns,
 * upgrade_protocols), stored lower-case; empty for none.
 */
static int
parse_words(const char *value, char ***out, struct problem *pb,
    bool (*valid)(const char *), const char *expected)
{
	const char *p = value;
	char **v;
	size_t n = 0;
	int len;

	while ((len = next_token(&p, pb->token, sizeof(pb->token))) != 0) {
		if (len == -1 || !valid(pb->token)) {
			refuse(pb, "%s", expected);
			return -1;
		}
		n++;
	}
	pb->token[0] = '\0';
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		goto oom;
	p = value;
	for (size_t i = 0; i < n; i++) {
		next_token(&p, pb->token, sizeof(pb->token));
		if ((v[i] = strdup(pb->token)) == NULL)
			goto oom;
		for (char *c = v[i]; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	pb->token[0] = '\0';
	confvalue_free_strings(*out);
	*out = v;
	return 0;

oom:
	pb->token[0] = '\0';
	confvalue_free_strings(v);
	refuse(pb, "out of memory");
	return -1;
}

/* A file name (or "syslog" for access_log); empty means none. */
static int
parse_path(const char *value, char **out, struct problem *pb)
{
	char *s = NULL;

	if (*value != '\0' && (s = strdup(value)) == NULL) {
		refuse(pb, "out of memory");
		return -1;
	}
	free(*out);
	*out = s;
	return 0;
}

int
confvalue_apply(struct ferryd_config *cfg, const struct key *k,
    const char *value, struct problem *pb)
{
	void *field = (char *)cfg + k->offset;
	int64_t v;
	size_t size;
	bool b;
	int i;

	switch (k->kind) {
	case KIND_DURATION:
		if (parse_duration(k, value, &v, pb) == -1)
			return -1;
		*(int64_t *)field = v;
		return 0;
	case KIND_SIZE:
		if (parse_size(k, value, &size, pb) == -1)
			return -1;
		*(size_t *)field = size;
		return 0;
	case KIND_INT:
		if (parse_integer(k, value, &v, pb) == -1)
			return -1;
		*(int *)field = (int)v;
		return 0;
	case KIND_LONG:
		if (parse_integer(k, value, &v, pb) == -1)
			return -1;
		*(long *)field = (long)v;
		return 0;
	case KIND_BOOL:
		if (parse_bool(value, &b, pb) == -1)
			return -1;
		*(bool *)field = b;
		return 0;
	case KIND_LISTEN:
		return parse_listen(value, cfg, pb);
	case KIND_ACL:
		return parse_allow(value, cfg, pb);
	case KIND_PORTS:
		return parse_ports(value, cfg, pb);
	case KIND_HOSTS:
		return parse_words(value, field, pb, host_pattern_valid,
		    "expected host names or patterns like *.example.com");
	case KIND_TOKENS:
		return parse_words(value, field, pb, protocol_valid,
		    "expected protocol names like websocket");
	case KIND_PATH:
		return parse_path(value, field, pb);
	case KIND_FACILITY:
		if ((i = log_facility_from_name(value)) == -1) {
			refuse(pb, "expected daemon, user or local0 to local7");
			return -1;
		}
		*(int *)field = i;
		return 0;
	case KIND_LEVEL:
		if ((i = log_level_from_name(value)) == -1) {
			refuse(pb, "expected err, warning, notice, info or "
			    "debug");
			return -1;
		}
		*(int *)field = i;
		return 0;
	}
	refuse(pb, "unknown kind of key");
	return -1;
}

