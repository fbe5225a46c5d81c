/*
 * config.c - reads ferryd.ini (interface.md, "Configuration file") into a
 * struct ferryd_config, starting from the defaults of interface.md and
 * pool.md.
 *
 * inih splits key lines into name and value.  Everything around it is ours:
 * a line reader counts lines (Debian's inih has no line numbers in the
 * handler), keeps track of the current section, and catches the syntax
 * errors inih would only report once, so that every problem in a file is
 * reported together as "FILE:LINE: KEY: MESSAGE".  The reader also strips
 * leading white space, which turns off inih's continuation lines: an
 * indented "keepalive = 5" is a key like any other, never a second line of
 * the key above it.
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

#include <ini.h>

#include "clock.h"
#include "config.h"
#include "confvalue.h"
#include "log.h"

#define MAX_ERRORS	50			/* then the reader stops */
#define SIZE_MAX_HEADER	(UINT64_C(1) << 30)
#define SIZE_MAX_BODY	((uint64_t)INT64_MAX)	/* evhttp takes an ev_ssize_t */

#define SECTION_NONE	(-1)		/* before the first [section] line */
#define SECTION_BAD	(-2)		/* unknown or broken: keys skipped */

#define US(s)	((s) * USEC_PER_SEC)
#define F(field) offsetof(struct ferryd_config, field)

static const char *const sections[] = {
	"server", "pool", "upstream", "tls", "access", "log",
};

/* Every key of interface.md, in the order of the file. */
static const struct key keys[] = {
	{ "server", "listen", KIND_LISTEN, F(listen), 0, 0, NULL },
	{ "server", "workers", KIND_INT, F(workers), 1, 64, NULL },
	{ "server", "max_clients", KIND_INT, F(max_clients), 1, 1000000, NULL },
	{ "server", "client_header_timeout", KIND_DURATION,
	    F(client_header_timeout), 1, US(MAX_SECONDS), NULL },
	{ "server", "client_idle_timeout", KIND_DURATION,
	    F(client_idle_timeout), 1, US(MAX_SECONDS), NULL },
	{ "server", "max_header_size", KIND_SIZE, F(max_header_size),
	    1, (int64_t)SIZE_MAX_HEADER, NULL },
	{ "server", "max_body_size", KIND_SIZE, F(max_body_size),
	    0, (int64_t)SIZE_MAX_BODY, NULL },
	{ "server", "shutdown_timeout", KIND_DURATION, F(shutdown_timeout),
	    0, US(MAX_SECONDS), NULL },

	{ "pool", "max_idle", KIND_INT, F(max_idle), 0, 100000, NULL },
	{ "pool", "max_idle_per_address", KIND_INT, F(max_idle_per_address),
	    0, 100000, NULL },
	{ "pool", "keepalive", KIND_DURATION, F(keepalive), 1, US(MAX_SECONDS),
	    "a zero keep-alive would make the cleanup pass spin" },
	{ "pool", "idle_grace", KIND_DURATION, F(idle_grace),
	    0, US(MAX_SECONDS), NULL },
	{ "pool", "max_requests_per_connection", KIND_LONG,
	    F(max_requests_per_connection), 1, 1000000000, NULL },
	{ "pool", "max_connection_lifetime", KIND_DURATION,
	    F(max_connection_lifetime), 1, US(MAX_SECONDS),
	    "a connection must live long enough to carry an exchange" },
	{ "pool", "healthcheck_after_idle", KIND_DURATION,
	    F(healthcheck_after_idle), 0, US(MAX_SECONDS), NULL },
	{ "pool", "route_failure_ttl", KIND_DURATION, F(route_failure_ttl),
	    0, US(MAX_SECONDS), NULL },

	{ "upstream", "connect_timeout", KIND_DURATION, F(connect_timeout),
	    1, US(MAX_SECONDS), "a zero timeout would fail every connect" },
	{ "upstream", "read_timeout", KIND_DURATION, F(read_timeout),
	    1, US(MAX_SECONDS), "a zero timeout would fail every response" },
	{ "upstream", "dns_cache_ttl", KIND_DURATION, F(dns_cache_ttl),
	    0, US(MAX_SECONDS), NULL },
	{ "upstream", "via", KIND_BOOL, F(via), 0, 0, NULL },
	{ "upstream", "x_forwarded_for", KIND_BOOL, F(x_forwarded_for),
	    0, 0, NULL },

	{ "tls", "verify", KIND_BOOL, F(tls_verify), 0, 0, NULL },
	{ "tls", "ca_file", KIND_PATH, F(tls_ca_file), 0, 0, NULL },
	{ "tls", "tls_origination", KIND_HOSTS, F(tls_origination),
	    0, 0, NULL },
	{ "tls", "session_cache", KIND_BOOL, F(tls_session_cache), 0, 0, NULL },

	{ "access", "allow", KIND_ACL, F(allow), 0, 0, NULL },
	{ "access", "connect_ports", KIND_PORTS, F(connect_ports), 0, 0, NULL },
	{ "access", "auth_file", KIND_PATH, F(auth_file), 0, 0, NULL },
	{ "access", "upgrade_protocols", KIND_TOKENS, F(upgrade_protocols),
	    0, 0, NULL },

	{ "log", "syslog_facility", KIND_FACILITY, F(syslog_facility),
	    0, 0, NULL },
	{ "log", "level", KIND_LEVEL, F(log_level), 0, 0, NULL },
	{ "log", "access_log", KIND_PATH, F(access_log), 0, 0, NULL },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/*
 * One parse of one file or string.  The reader and the handler share it;
 * inih calls the reader once per line, then the handler for that line, so
 * lineno and section always describe the line the handler sees.
 */
struct parse {
	const char *name;		/* file name in messages */
	struct ferryd_config *cfg;	/* filled in; owned by the caller */

	FILE *fp;			/* config_load(): the file */
	const char *text;		/* config_parse_string(): the rest */
	char *line;			/* the current raw line, malloc'd */
	size_t linecap;
	int lineno;
	int section;			/* index in sections[], or SECTION_* */
	int first_line[N_KEYS];		/* where each key was set; 0: not yet */

	char *errors;			/* malloc'd, one line per problem */
	size_t errlen, errcap;
	int nerrors;
	bool oom;
	bool stop;			/* too many errors, or a read error */
};

/* Appends to the error text; remembers a failed allocation in ps->oom. */
static void LOG_PRINTF(2, 0)
append_v(struct parse *ps, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0) {
		ps->oom = true;
		return;
	}
	if (ps->errlen + (size_t)n + 1 > ps->errcap) {
		size_t cap = (ps->errlen + (size_t)n + 1) * 2;
		char *p = realloc(ps->errors, cap);

		if (p == NULL) {
			ps->oom = true;
			return;
		}
		ps->errors = p;
		ps->errcap = cap;
	}
	vsnprintf(ps->errors + ps->errlen, ps->errcap - ps->errlen, fmt, ap);
	ps->errlen += (size_t)n;
}

/* As append_v(), with arguments. */
static void LOG_PRINTF(2, 3)
append(struct parse *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	append_v(ps, fmt, ap);
	va_end(ap);
}

/*
 * Records one problem as "NAME:LINE: MESSAGE" ("NAME: MESSAGE" when line is
 * 0).  After MAX_ERRORS problems it says so once and stops the parse: a
 * binary file given by mistake should not produce a million lines.
 */
static void LOG_PRINTF(3, 4)
report(struct parse *ps, int line, const char *fmt, ...)
{
	va_list ap;

	if (ps->stop)
		return;
	if (line > 0)
		append(ps, "%s:%d: ", ps->name, line);
	else
		append(ps, "%s: ", ps->name);
	va_start(ap, fmt);
	append_v(ps, fmt, ap);
	va_end(ap);
	append(ps, "\n");
	if (++ps->nerrors == MAX_ERRORS) {
		append(ps, "%s: too many errors; only the first %d are shown\n",
		    ps->name, MAX_ERRORS);
		ps->stop = true;
	}
}

/* The key named name in section, or NULL. */
static const struct key *
key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Reports an unknown key with the list of keys its section has. */
static void
report_unknown_key(struct parse *ps, const char *section, const char *name)
{
	char list[512];
	size_t len = 0;

	list[0] = '\0';
	for (size_t i = 0; i < N_KEYS && len < sizeof(list); i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
		    len == 0 ? "" : ", ", keys[i].name);
	}
	report(ps, ps->lineno, "%s.%s: unknown key (keys of [%s]: %s)",
	    section, name, section, list);
}

/*
 * inih's handler: one "name = value" of the current line.  Always returns 1
 * (go on), since the problems are collected here, not counted by inih.
 * A key may appear once per file: a second "listen" would otherwise either
 * silently replace the first or, to a reader of the file, seem to add to it.
 */
static int
config_on_key(void *user, const char *section, const char *name,
    const char *value)
{
	struct parse *ps = user;
	const struct key *k;
	struct problem pb;
	const char *sec;
	size_t i;

	if (ps->stop || ps->section == SECTION_BAD)
		return 1;
	if (ps->section == SECTION_NONE) {
		report(ps, ps->lineno, "%s: outside any section (put it after "
		    "its [section] line)", name);
		return 1;
	}
	sec = sections[ps->section];
	if ((k = key_find(sec, name)) == NULL) {
		report_unknown_key(ps, sec, name);
		return 1;
	}
	i = (size_t)(k - keys);
	if (ps->first_line[i] != 0) {
		report(ps, ps->lineno, "%s.%s: set again (first set on line "
		    "%d; a key may appear once)", sec, name, ps->first_line[i]);
		return 1;
	}
	ps->first_line[i] = ps->lineno;

	memset(&pb, 0, sizeof(pb));
	if (confvalue_apply(ps->cfg, k, value, &pb) == -1)
		report(ps, ps->lineno, "%s.%s: \"%s\" is not allowed: %s", sec,
		    name, pb.token[0] != '\0' ? pb.token : value, pb.why);
	return 1;
}

/*
 * The first character of s that is in chars, or the start of an inline
 * comment (';' after white space), or the end: inih's own rule, so that
 * what we call a syntax error is exactly what inih would refuse.
 */
static const char *
find_char_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	for (; *s != '\0'; s++) {
		if (strchr(chars, *s) != NULL || (was_space && *s == ';'))
			break;
		was_space = isspace((unsigned char)*s);
	}
	return s;
}

/* Makes the len bytes at s the current section, or reports it unknown. */
static void
enter_section(struct parse *ps, const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (strlen(sections[i]) == len &&
		    strncmp(sections[i], s, len) == 0) {
			ps->section = (int)i;
			return;
		}
	}
	ps->section = SECTION_BAD;
	report(ps, ps->lineno, "[%.*s]: unknown section (expected [server], "
	    "[pool], [upstream], [tls], [access] or [log])", (int)len, s);
}

/*
 * Checks one trimmed line before inih sees it.  Returns 0 when inih may
 * have it, -1 after reporting a syntax error (inih then gets a blank line).
 */
static int
check_line(struct parse *ps, const char *s)
{
	const char *end;

	if (*s == '\0' || *s == ';' || *s == '#')
		return 0;
	if (*s == '[') {
		end = find_char_or_comment(s + 1, "]");
		if (*end != ']') {
			ps->section = SECTION_BAD;
			report(ps, ps->lineno, "syntax error: section name "
			    "without a closing ']'");
			return -1;
		}
		enter_section(ps, s + 1, (size_t)(end - s - 1));
		for (end++; isspace((unsigned char)*end); end++)
			;
		if (*end != '\0' && *end != ';' && *end != '#') {
			report(ps, ps->lineno, "syntax error: text after ']' "
			    "(a comment starts with ';')");
			return -1;
		}
		return 0;
	}
	end = find_char_or_comment(s, "=:");
	if (*end != '=' && *end != ':') {
		report(ps, ps->lineno, "syntax error: expected "
		    "\"key = value\", a [section] or a ; comment");
		return -1;
	}
	if (end == s) {
		report(ps, ps->lineno, "syntax error: no key before '%c'",
		    *end);
		return -1;
	}
	return 0;
}

/*
 * Reads the next raw line into ps->line.  Returns its length with the
 * newline, or -1 at the end (after reporting a read error, if any).
 */
static ssize_t
next_line(struct parse *ps)
{
	const char *nl;
	ssize_t n;
	size_t len;

	if (ps->fp != NULL) {
		n = getline(&ps->line, &ps->linecap, ps->fp);
		if (n == -1 && ferror(ps->fp))
			report(ps, 0, "cannot read: %s", strerror(errno));
		return n;
	}
	if (ps->text == NULL || *ps->text == '\0')
		return -1;
	nl = strchr(ps->text, '\n');
	len = nl != NULL ? (size_t)(nl - ps->text + 1) : strlen(ps->text);
	if (len + 1 > ps->linecap) {
		char *p = realloc(ps->line, len + 1);

		if (p == NULL) {
			ps->oom = true;
			return -1;
		}
		ps->line = p;
		ps->linecap = len + 1;
	}
	memcpy(ps->line, ps->text, len);
	ps->line[len] = '\0';
	ps->text += len;
	return (ssize_t)len;
}

/*
 * inih's reader (fgets-like): the next line, trimmed, into str (num bytes).
 * A line with a syntax error, a NUL byte or too long for inih's buffer is
 * reported here and handed on blank, so inih keeps counting lines with us.
 */
static char *
config_on_line(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	ssize_t n;
	char *s, *e;

	if (ps->stop || ps->oom || (n = next_line(ps)) == -1)
		return NULL;
	ps->lineno++;
	s = ps->line;
	if (memchr(s, '\0', (size_t)n) != NULL) {
		report(ps, ps->lineno, "syntax error: the line contains a NUL "
		    "byte");
		goto blank;
	}
	if (ps->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	if (e - s >= num) {
		if (*s == '[')
			ps->section = SECTION_BAD;
		report(ps, ps->lineno, "line too long (at most %d characters)",
		    num - 1);
		goto blank;
	}
	if (check_line(ps, s) == -1)
		goto blank;
	memcpy(str, s, (size_t)(e - s) + 1);
	return str;

blank:
	str[0] = '\0';
	return str;
}

/*
 * Parses the input set up in ps over the defaults.  Returns the config, or
 * NULL with *errors set (see config_load()).
 */
static struct ferryd_config *
parse_run(struct parse *ps, const char *name, char **errors)
{
	int rc;

	ps->name = name;
	ps->section = SECTION_NONE;
	*errors = NULL;
	if ((ps->cfg = config_defaults()) == NULL ||
	    (ps->cfg->path = strdup(name)) == NULL) {
		ps->oom = true;
		goto done;
	}
	rc = ini_parse_stream(config_on_line, ps, config_on_key, ps);
	if (rc == -2)
		ps->oom = true;
	else if (rc > 0 && ps->nerrors == 0)
		report(ps, rc, "syntax error");

done:
	free(ps->line);
	if (ps->oom) {
		free(ps->errors);
		ps->errors = NULL;
		ps->errlen = ps->errcap = 0;
		ps->nerrors = 0;
		ps->stop = false;
		report(ps, 0, "out of memory");
	}
	if (ps->nerrors > 0) {
		config_free(ps->cfg);
		*errors = ps->errors;
		return NULL;
	}
	free(ps->errors);
	return ps->cfg;
}

/* See config.h.  The file is closed before returning. */
struct ferryd_config *
config_load(const char *path, char **errors)
{
	struct parse ps;
	struct ferryd_config *cfg;

	memset(&ps, 0, sizeof(ps));
	if ((ps.fp = fopen(path, "re")) == NULL) {
		ps.name = path;
		report(&ps, 0, "cannot open: %s", strerror(errno));
		*errors = ps.errors;
		return NULL;
	}
	cfg = parse_run(&ps, path, errors);
	fclose(ps.fp);
	return cfg;
}

/* See config.h. */
struct ferryd_config *
config_parse_string(const char *text, const char *name, char **errors)
{
	struct parse ps;

	memset(&ps, 0, sizeof(ps));
	ps.text = text;
	return parse_run(&ps, name, errors);
}

/*
 * The defaults of interface.md and pool.md.  tls_origination is an empty
 * array rather than NULL, so that users can walk it without a check;
 * upgrade_protocols is "websocket".
 * Returns NULL when out of memory; path is NULL.
 */
struct ferryd_config *
config_defaults(void)
{
	struct ferryd_config *cfg;
	struct sockaddr_in *sin;
	const char *why;

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return NULL;
	cfg->refs = 1;
	if ((cfg->tls_origination = calloc(1, sizeof(char *))) == NULL ||
	    (cfg->upgrade_protocols = calloc(2, sizeof(char *))) == NULL ||
	    (cfg->upgrade_protocols[0] = strdup("websocket")) == NULL) {
		if (cfg->upgrade_protocols != NULL)
			free(cfg->upgrade_protocols);
		free(cfg->tls_origination);
		free(cfg);
		return NULL;
	}

	sin = (struct sockaddr_in *)&cfg->listen[0].addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(3128);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg->listen[0].addrlen = sizeof(*sin);
	strcpy(cfg->listen[0].text, "127.0.0.1:3128");
	cfg->n_listen = 1;
	cfg->workers = 1;
	cfg->max_clients = 4096;
	cfg->client_header_timeout = US(30);
	cfg->client_idle_timeout = US(60);
	cfg->max_header_size = 64 * 1024;
	cfg->max_body_size = 64 * 1024 * 1024;
	cfg->shutdown_timeout = US(10);

	cfg->max_idle = 64;
	cfg->max_idle_per_address = 16;
	cfg->keepalive = US(300);
	cfg->idle_grace = US(1);
	cfg->max_requests_per_connection = 10000;
	cfg->max_connection_lifetime = US(3600);
	cfg->healthcheck_after_idle = US(10);
	cfg->route_failure_ttl = US(60);

	cfg->connect_timeout = US(10);
	cfg->read_timeout = US(60);
	cfg->dns_cache_ttl = US(60);
	cfg->via = true;
	cfg->x_forwarded_for = false;

	cfg->tls_verify = true;
	cfg->tls_session_cache = true;

	acl_add(&cfg->allow, "127.0.0.0/8", &why);
	acl_add(&cfg->allow, "::1", &why);
	cfg->connect_ports[0] = 443;
	cfg->n_connect_ports = 1;

	cfg->syslog_facility = LOG_DAEMON;
	cfg->log_level = LOG_INFO;
	return cfg;
}

const struct ferryd_config *
config_ref(const struct ferryd_config *cfg)
{
	/* The count is the one field a holder of a const config may change. */
	((struct ferryd_config *)cfg)->refs++;
	return cfg;
}

void
config_free(const struct ferryd_config *ccfg)
{
	struct ferryd_config *cfg = (struct ferryd_config *)ccfg;

	if (cfg == NULL || --cfg->refs > 0)
		return;
	free(cfg->path);
	free(cfg->tls_ca_file);
	confvalue_free_strings(cfg->tls_origination);
	confvalue_free_strings(cfg->upgrade_protocols);
	free(cfg->auth_file);
	free(cfg->access_log);
	free(cfg);
}

/* Port 0 is never a CONNECT target, even with "*". */
bool
config_connect_port_allowed(const struct ferryd_config *cfg, uint16_t port)
{
	if (port == 0)
		return false;
	if (cfg->connect_any_port)
		return true;
	for (size_t i = 0; i < cfg->n_connect_ports; i++)
		if (cfg->connect_ports[i] == port)
			return true;
	return false;
}
