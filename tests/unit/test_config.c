/*
 * test_config.c - unit tests of lib/config.c: the defaults, every key of
 * interface.md with a valid and an invalid value, the value syntaxes, and
 * the exact "FILE:LINE: KEY: MESSAGE" text of every kind of error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>

#include "config.h"

#define SEC(s) ((int64_t)(s) * INT64_C(1000000))

/* Parses text that must be valid; fails the test with the errors if not. */
static struct ferryd_config *
parse_ok(const char *text)
{
	struct ferryd_config *cfg;
	char *errors = NULL;

	cfg = config_parse_string(text, "t.ini", &errors);
	ck_assert_msg(cfg != NULL, "config should load, errors:\n%s\ntext:\n%s",
	    errors != NULL ? errors : "(none)", text);
	ck_assert_msg(errors == NULL, "a config that loads has no errors");
	return cfg;
}

/* Parses text that must be refused; returns the errors (caller frees). */
static char *
parse_bad(const char *text)
{
	struct ferryd_config *cfg;
	char *errors = NULL;

	cfg = config_parse_string(text, "t.ini", &errors);
	ck_assert_msg(cfg == NULL, "config should be refused:\n%s", text);
	ck_assert_msg(errors != NULL, "a refused config comes with errors");
	return errors;
}

/* Asserts that text is refused with exactly the errors expected. */
static void
assert_errors(const char *text, const char *expected)
{
	char *errors = parse_bad(text);

	ck_assert_msg(strcmp(errors, expected) == 0,
	    "for\n%s\nerrors were\n%s\nexpected\n%s", text, errors, expected);
	free(errors);
}

/* Writes text to a new temporary file; returns its malloc'd path. */
static char *
temp_file(const char *text, size_t len)
{
	char *path = strdup("/tmp/test_config.XXXXXX");
	int fd;

	ck_assert_msg(path != NULL, "strdup");
	fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp");
	ck_assert_msg(write(fd, text, len) == (ssize_t)len, "write temp file");
	close(fd);
	return path;
}

/* Asserts that a and b hold the same settings (path aside). */
static void
assert_same_config(const struct ferryd_config *a, const struct ferryd_config *b)
{
	size_t i;

	ck_assert_uint_eq(a->n_listen, b->n_listen);
	for (i = 0; i < a->n_listen; i++) {
		ck_assert_str_eq(a->listen[i].text, b->listen[i].text);
		ck_assert_uint_eq(a->listen[i].addrlen, b->listen[i].addrlen);
		ck_assert_msg(memcmp(&a->listen[i].addr, &b->listen[i].addr,
		    a->listen[i].addrlen) == 0, "listen %zu: same sockaddr", i);
	}
	ck_assert_int_eq(a->workers, b->workers);
	ck_assert_int_eq(a->max_clients, b->max_clients);
	ck_assert_int_eq(a->client_header_timeout, b->client_header_timeout);
	ck_assert_int_eq(a->client_idle_timeout, b->client_idle_timeout);
	ck_assert_uint_eq(a->max_header_size, b->max_header_size);
	ck_assert_uint_eq(a->max_body_size, b->max_body_size);
	ck_assert_int_eq(a->shutdown_timeout, b->shutdown_timeout);
	ck_assert_int_eq(a->max_idle, b->max_idle);
	ck_assert_int_eq(a->max_idle_per_address, b->max_idle_per_address);
	ck_assert_int_eq(a->keepalive, b->keepalive);
	ck_assert_int_eq(a->idle_grace, b->idle_grace);
	ck_assert_int_eq(a->max_requests_per_connection,
	    b->max_requests_per_connection);
	ck_assert_int_eq(a->max_connection_lifetime, b->max_connection_lifetime);
	ck_assert_int_eq(a->healthcheck_after_idle, b->healthcheck_after_idle);
	ck_assert_int_eq(a->route_failure_ttl, b->route_failure_ttl);
	ck_assert_int_eq(a->connect_timeout, b->connect_timeout);
	ck_assert_int_eq(a->read_timeout, b->read_timeout);
	ck_assert_int_eq(a->dns_cache_ttl, b->dns_cache_ttl);
	ck_assert_int_eq(a->via, b->via);
	ck_assert_int_eq(a->x_forwarded_for, b->x_forwarded_for);
	ck_assert_int_eq(a->tls_verify, b->tls_verify);
	ck_assert_msg((a->tls_ca_file == NULL) == (b->tls_ca_file == NULL),
	    "ca_file set in both or neither");
	for (i = 0; a->tls_origination[i] != NULL; i++) {
		ck_assert_msg(b->tls_origination[i] != NULL, "same tls_origination");
		ck_assert_str_eq(a->tls_origination[i], b->tls_origination[i]);
	}
	ck_assert_msg(b->tls_origination[i] == NULL, "same tls_origination");
	for (i = 0; a->upgrade_protocols[i] != NULL; i++) {
		ck_assert_msg(b->upgrade_protocols[i] != NULL,
		    "same upgrade_protocols");
		ck_assert_str_eq(a->upgrade_protocols[i], b->upgrade_protocols[i]);
	}
	ck_assert_msg(b->upgrade_protocols[i] == NULL, "same upgrade_protocols");
	ck_assert_int_eq(a->tls_session_cache, b->tls_session_cache);
	ck_assert_uint_eq(a->allow.n, b->allow.n);
	ck_assert_msg(memcmp(a->allow.entries, b->allow.entries,
	    a->allow.n * sizeof(a->allow.entries[0])) == 0, "same allow list");
	ck_assert_uint_eq(a->n_connect_ports, b->n_connect_ports);
	ck_assert_msg(memcmp(a->connect_ports, b->connect_ports,
	    a->n_connect_ports * sizeof(a->connect_ports[0])) == 0,
	    "same connect_ports");
	ck_assert_int_eq(a->connect_any_port, b->connect_any_port);
	ck_assert_msg((a->auth_file == NULL) == (b->auth_file == NULL),
	    "auth_file set in both or neither");
	ck_assert_int_eq(a->syslog_facility, b->syslog_facility);
	ck_assert_int_eq(a->log_level, b->log_level);
	ck_assert_msg((a->access_log == NULL) == (b->access_log == NULL),
	    "access_log set in both or neither");
}

/* True when the client address text is allowed by cfg. */
static bool
allowed(const struct ferryd_config *cfg, const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		ck_abort_msg("bad test address %s", text);
	return acl_match(&cfg->allow, (struct sockaddr *)&ss);
}

START_TEST(test_defaults)
{
	struct ferryd_config *cfg = config_defaults();
	const struct sockaddr_in *sin;

	ck_assert_msg(cfg != NULL, "config_defaults");
	ck_assert_ptr_null(cfg->path);
	ck_assert_uint_eq(cfg->n_listen, 1);
	ck_assert_str_eq(cfg->listen[0].text, "127.0.0.1:3128");
	sin = (const struct sockaddr_in *)&cfg->listen[0].addr;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 3128);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_uint_eq(cfg->listen[0].addrlen, sizeof(struct sockaddr_in));
	ck_assert_int_eq(cfg->workers, 1);
	ck_assert_int_eq(cfg->max_clients, 4096);
	ck_assert_int_eq(cfg->client_header_timeout, SEC(30));
	ck_assert_int_eq(cfg->client_idle_timeout, SEC(60));
	ck_assert_uint_eq(cfg->max_header_size, 64 * 1024);
	ck_assert_uint_eq(cfg->max_body_size, 64 * 1024 * 1024);
	ck_assert_int_eq(cfg->shutdown_timeout, SEC(10));

	ck_assert_int_eq(cfg->max_idle, 64);
	ck_assert_int_eq(cfg->max_idle_per_address, 16);
	ck_assert_int_eq(cfg->keepalive, SEC(300));
	ck_assert_int_eq(cfg->idle_grace, SEC(1));
	ck_assert_int_eq(cfg->max_requests_per_connection, 10000);
	ck_assert_int_eq(cfg->max_connection_lifetime, SEC(3600));
	ck_assert_int_eq(cfg->healthcheck_after_idle, SEC(10));
	ck_assert_int_eq(cfg->route_failure_ttl, SEC(60));

	ck_assert_int_eq(cfg->connect_timeout, SEC(10));
	ck_assert_int_eq(cfg->read_timeout, SEC(60));
	ck_assert_int_eq(cfg->dns_cache_ttl, SEC(60));
	ck_assert_msg(cfg->via, "via = yes");
	ck_assert_msg(!cfg->x_forwarded_for, "x_forwarded_for = no");

	ck_assert_msg(cfg->tls_verify, "verify = yes");
	ck_assert_ptr_null(cfg->tls_ca_file);
	ck_assert_msg(cfg->tls_origination != NULL &&
	    cfg->tls_origination[0] == NULL, "tls_origination: empty list");
	ck_assert_msg(cfg->tls_session_cache, "session_cache = yes");
	ck_assert_str_eq(cfg->upgrade_protocols[0], "websocket");
	ck_assert_ptr_null(cfg->upgrade_protocols[1]);

	ck_assert_uint_eq(cfg->allow.n, 2);
	ck_assert_msg(allowed(cfg, "127.0.0.1"), "127.0.0.0/8 allowed");
	ck_assert_msg(allowed(cfg, "127.255.0.9"), "127.0.0.0/8 allowed");
	ck_assert_msg(allowed(cfg, "::1"), "::1 allowed");
	ck_assert_msg(!allowed(cfg, "10.0.0.1"), "others refused");
	ck_assert_msg(!allowed(cfg, "::2"), "others refused");
	ck_assert_uint_eq(cfg->n_connect_ports, 1);
	ck_assert_uint_eq(cfg->connect_ports[0], 443);
	ck_assert_msg(!cfg->connect_any_port, "connect_ports = 443");
	ck_assert_ptr_null(cfg->auth_file);

	ck_assert_int_eq(cfg->syslog_facility, LOG_DAEMON);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert_ptr_null(cfg->access_log);
	config_free(cfg);
}
END_TEST

START_TEST(test_empty_file_is_defaults)
{
	struct ferryd_config *def = config_defaults();
	struct ferryd_config *cfg = parse_ok("; nothing but a comment\n\n");

	ck_assert_str_eq(cfg->path, "t.ini");
	assert_same_config(cfg, def);
	config_free(cfg);
	cfg = parse_ok("");
	assert_same_config(cfg, def);
	config_free(cfg);
	config_free(def);
}
END_TEST

START_TEST(test_shipped_file)
{
	const char *dir = getenv("TESTS_DIR");
	struct ferryd_config *cfg, *def;
	char path[4096], *errors = NULL;

	if (dir == NULL) {
		fprintf(stderr, "TESTS_DIR unset: conf/ferryd.ini not checked\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/../conf/ferryd.ini", dir);
	cfg = config_load(path, &errors);
	ck_assert_msg(cfg != NULL, "%s must load, errors:\n%s", path,
	    errors != NULL ? errors : "(none)");
	ck_assert_str_eq(cfg->path, path);
	def = config_defaults();
	assert_same_config(cfg, def);
	config_free(def);
	config_free(cfg);
}
END_TEST

START_TEST(test_every_key_valid)
{
	static const char text[] =
	    "[server]\n"
	    "listen = 0.0.0.0:8080 [::]:0\n"
	    "workers = 4\n"
	    "max_clients = 100\n"
	    "client_header_timeout = 5.5\n"
	    "client_idle_timeout = 0.25\n"
	    "max_header_size = 8k\n"
	    "max_body_size = 1g\n"
	    "shutdown_timeout = 0\n"
	    "[pool]\n"
	    "max_idle = 0\n"
	    "max_idle_per_address = 2\n"
	    "keepalive = 0.5\n"
	    "idle_grace = 0\n"
	    "max_requests_per_connection = 1000000000\n"
	    "max_connection_lifetime = 31536000\n"
	    "healthcheck_after_idle = 0.001\n"
	    "route_failure_ttl = 0\n"
	    "[upstream]\n"
	    "connect_timeout = 2\n"
	    "read_timeout = 120\n"
	    "dns_cache_ttl = 0\n"
	    "via = no\n"
	    "x_forwarded_for = TRUE\n"
	    "[tls]\n"
	    "verify = 0\n"
	    "ca_file = /etc/ssl/certs/ca-certificates.crt\n"
	    "tls_origination = Internal.Example.com *.corp.example.org\n"
	    "session_cache = false\n"
	    "[access]\n"
	    "allow = 10.0.0.0/8 2001:db8::/32\n"
	    "connect_ports = 443 8443\n"
	    "auth_file = /etc/ferryd/htpasswd\n"
	    "upgrade_protocols = WebSocket h2c\n"
	    "[log]\n"
	    "syslog_facility = local3\n"
	    "level = debug\n"
	    "access_log = syslog\n";
	struct ferryd_config *cfg = parse_ok(text);
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	ck_assert_uint_eq(cfg->n_listen, 2);
	ck_assert_str_eq(cfg->listen[0].text, "0.0.0.0:8080");
	sin = (const struct sockaddr_in *)&cfg->listen[0].addr;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 8080);
	ck_assert_uint_eq(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	ck_assert_str_eq(cfg->listen[1].text, "[::]:0");
	sin6 = (const struct sockaddr_in6 *)&cfg->listen[1].addr;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 0);
	ck_assert_uint_eq(cfg->listen[1].addrlen, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(cfg->workers, 4);
	ck_assert_int_eq(cfg->max_clients, 100);
	ck_assert_int_eq(cfg->client_header_timeout, 5500000);
	ck_assert_int_eq(cfg->client_idle_timeout, 250000);
	ck_assert_uint_eq(cfg->max_header_size, 8192);
	ck_assert_uint_eq(cfg->max_body_size, 1073741824);
	ck_assert_int_eq(cfg->shutdown_timeout, 0);

	ck_assert_int_eq(cfg->max_idle, 0);
	ck_assert_int_eq(cfg->max_idle_per_address, 2);
	ck_assert_int_eq(cfg->keepalive, 500000);
	ck_assert_int_eq(cfg->idle_grace, 0);
	ck_assert_int_eq(cfg->max_requests_per_connection, 1000000000);
	ck_assert_int_eq(cfg->max_connection_lifetime, SEC(31536000));
	ck_assert_int_eq(cfg->healthcheck_after_idle, 1000);
	ck_assert_int_eq(cfg->route_failure_ttl, 0);

	ck_assert_int_eq(cfg->connect_timeout, SEC(2));
	ck_assert_int_eq(cfg->read_timeout, SEC(120));
	ck_assert_int_eq(cfg->dns_cache_ttl, 0);
	ck_assert_msg(!cfg->via, "via = no");
	ck_assert_msg(cfg->x_forwarded_for, "x_forwarded_for = TRUE");

	ck_assert_msg(!cfg->tls_verify, "verify = 0");
	ck_assert_str_eq(cfg->tls_ca_file, "/etc/ssl/certs/ca-certificates.crt");
	ck_assert_str_eq(cfg->tls_origination[0], "internal.example.com");
	ck_assert_str_eq(cfg->tls_origination[1], "*.corp.example.org");
	ck_assert_ptr_null(cfg->tls_origination[2]);
	ck_assert_msg(!cfg->tls_session_cache, "session_cache = false");
	ck_assert_str_eq(cfg->upgrade_protocols[0], "websocket");
	ck_assert_str_eq(cfg->upgrade_protocols[1], "h2c");
	ck_assert_ptr_null(cfg->upgrade_protocols[2]);

	ck_assert_uint_eq(cfg->allow.n, 2);
	ck_assert_msg(allowed(cfg, "10.1.1.1"), "10.0.0.0/8 allowed");
	ck_assert_msg(allowed(cfg, "2001:db8::5"), "2001:db8::/32 allowed");
	ck_assert_msg(!allowed(cfg, "127.0.0.1"), "the list replaced the default");
	ck_assert_uint_eq(cfg->n_connect_ports, 2);
	ck_assert_uint_eq(cfg->connect_ports[0], 443);
	ck_assert_uint_eq(cfg->connect_ports[1], 8443);
	ck_assert_str_eq(cfg->auth_file, "/etc/ferryd/htpasswd");

	ck_assert_int_eq(cfg->syslog_facility, LOG_LOCAL3);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg->access_log, "syslog");
	config_free(cfg);
}
END_TEST

/*
 * One invalid value per key, and the message it must give.  quoted is the
 * word the message names when it is not the whole value.
 */
static const struct {
	const char *section, *key, *value, *quoted, *message;
} invalid[] = {
	{ "server", "listen", "localhost:3128", NULL,
	  "not an IPv4 address (host names are not allowed; write [IPv6]:PORT "
	  "for IPv6)" },
	{ "server", "workers", "0", NULL, "must be between 1 and 64" },
	{ "server", "max_clients", "1000001", NULL,
	  "must be between 1 and 1000000" },
	{ "server", "client_header_timeout", "0", NULL, "must be greater than 0" },
	{ "server", "client_idle_timeout", "abc", NULL,
	  "expected a number of seconds, e.g. 30 or 0.5" },
	{ "server", "max_header_size", "0", NULL, "must be between 1 and 1g bytes" },
	{ "server", "max_body_size", "64x", NULL,
	  "expected a number of bytes with an optional k, m or g suffix, "
	  "e.g. 64k" },
	{ "server", "shutdown_timeout", "-1", NULL, "must not be negative" },
	{ "pool", "max_idle", "-1", NULL, "must be between 0 and 100000" },
	{ "pool", "max_idle_per_address", "100001", NULL,
	  "must be between 0 and 100000" },
	{ "pool", "keepalive", "0", NULL,
	  "must be greater than 0: a zero keep-alive would make the cleanup "
	  "pass spin" },
	{ "pool", "idle_grace", "1s", NULL,
	  "expected a number of seconds, e.g. 30 or 0.5" },
	{ "pool", "max_requests_per_connection", "0", NULL,
	  "must be between 1 and 1000000000" },
	{ "pool", "max_connection_lifetime", "0", NULL,
	  "must be greater than 0: a connection must live long enough to "
	  "carry an exchange" },
	{ "pool", "healthcheck_after_idle", "-0.5", NULL, "must not be negative" },
	{ "pool", "route_failure_ttl", "31536001", NULL,
	  "must be at most 31536000 seconds (one year)" },
	{ "upstream", "connect_timeout", "0", NULL,
	  "must be greater than 0: a zero timeout would fail every connect" },
	{ "upstream", "read_timeout", "0.0", NULL,
	  "must be greater than 0: a zero timeout would fail every response" },
	{ "upstream", "dns_cache_ttl", "nan", NULL,
	  "expected a number of seconds, e.g. 30 or 0.5" },
	{ "upstream", "via", "maybe", NULL,
	  "expected yes, no, true, false, 1 or 0" },
	{ "upstream", "x_forwarded_for", "on", NULL,
	  "expected yes, no, true, false, 1 or 0" },
	{ "tls", "verify", "2", NULL, "expected yes, no, true, false, 1 or 0" },
	{ "tls", "tls_origination", "ok.example.com foo*bar.com", "foo*bar.com",
	  "expected host names or patterns like *.example.com" },
	{ "tls", "session_cache", "", NULL,
	  "expected yes, no, true, false, 1 or 0" },
	{ "access", "upgrade_protocols", "websocket web(socket)", "web(socket)",
	  "expected protocol names like websocket" },
	{ "access", "allow", "10.0.0.0/8 10.0.0.0/33", "10.0.0.0/33",
	  "the prefix of an IPv4 block must be a number from 0 to 32" },
	{ "access", "connect_ports", "443 70000", "70000",
	  "expected port numbers from 1 to 65535, or \"*\" for any port" },
	{ "log", "syslog_facility", "local8", NULL,
	  "expected daemon, user or local0 to local7" },
	{ "log", "level", "verbose", NULL,
	  "expected err, warning, notice, info or debug" },
};

START_TEST(test_every_key_invalid)
{
	char text[512], expected[512];

	snprintf(text, sizeof(text), "; line 1\n[%s]\n\n%s = %s\n",
	    invalid[_i].section, invalid[_i].key, invalid[_i].value);
	snprintf(expected, sizeof(expected),
	    "t.ini:4: %s.%s: \"%s\" is not allowed: %s\n", invalid[_i].section,
	    invalid[_i].key, invalid[_i].quoted != NULL ? invalid[_i].quoted :
	    invalid[_i].value, invalid[_i].message);
	assert_errors(text, expected);
}
END_TEST

/* A duration and what it must give: microseconds, or the error message. */
static const struct {
	const char *value;
	int64_t usec;
	const char *message;
} durations[] = {
	{ "0", 0, NULL },
	{ "7", 7000000, NULL },
	{ "0.5", 500000, NULL },
	{ "1.25", 1250000, NULL },
	{ "0.000001", 1, NULL },
	{ "2.000000", 2000000, NULL },
	{ "007", 7000000, NULL },
	{ "31536000", INT64_C(31536000000000), NULL },
	{ "31536000.000001", 0, "must be at most 31536000 seconds (one year)" },
	{ "31536001", 0, "must be at most 31536000 seconds (one year)" },
	{ "99999999999999999999999999", 0,
	  "must be at most 31536000 seconds (one year)" },
	{ "1.0000001", 0,
	  "at most 6 digits after the decimal point (microseconds)" },
	{ "-1", 0, "must not be negative" },
	{ "-0.5", 0, "must not be negative" },
	{ "1e3", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "nan", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "inf", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "1.", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ ".5", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "+1", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "0x10", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "1 2", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "5s", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "", 0, "expected a number of seconds, e.g. 30 or 0.5" },
	{ "1,5", 0, "expected a number of seconds, e.g. 30 or 0.5" },
};

START_TEST(test_durations)
{
	char text[256], expected[256];
	struct ferryd_config *cfg;

	snprintf(text, sizeof(text), "[pool]\nidle_grace = %s\n",
	    durations[_i].value);
	if (durations[_i].message == NULL) {
		cfg = parse_ok(text);
		ck_assert_msg(cfg->idle_grace == durations[_i].usec,
		    "\"%s\" is %lld usec, not %lld", durations[_i].value,
		    (long long)durations[_i].usec, (long long)cfg->idle_grace);
		config_free(cfg);
		return;
	}
	snprintf(expected, sizeof(expected),
	    "t.ini:2: pool.idle_grace: \"%s\" is not allowed: %s\n",
	    durations[_i].value, durations[_i].message);
	assert_errors(text, expected);
}
END_TEST

/* A size for max_body_size and what it must give. */
static const struct {
	const char *value;
	uint64_t bytes;
	const char *message;
} sizes[] = {
	{ "0", 0, NULL },
	{ "1", 1, NULL },
	{ "100", 100, NULL },
	{ "64k", 65536, NULL },
	{ "64K", 65536, NULL },
	{ "2m", 2097152, NULL },
	{ "2M", 2097152, NULL },
	{ "1g", 1073741824, NULL },
	{ "3G", UINT64_C(3221225472), NULL },
	{ "8589934591g", UINT64_C(8589934591) << 30, NULL },
	{ "8589934592g", 0,
	  "must be between 0 and 9223372036854775807 bytes" },
	{ "18446744073709551616", 0,
	  "must be between 0 and 9223372036854775807 bytes" },
	{ "-1", 0, "must be between 0 and 9223372036854775807 bytes" },
	{ "64kb", 0, "expected a number of bytes with an optional k, m or g "
	  "suffix, e.g. 64k" },
	{ "k", 0, "expected a number of bytes with an optional k, m or g "
	  "suffix, e.g. 64k" },
	{ "1.5m", 0, "expected a number of bytes with an optional k, m or g "
	  "suffix, e.g. 64k" },
	{ "1t", 0, "expected a number of bytes with an optional k, m or g "
	  "suffix, e.g. 64k" },
	{ "64 k", 0, "expected a number of bytes with an optional k, m or g "
	  "suffix, e.g. 64k" },
	{ "", 0, "expected a number of bytes with an optional k, m or g "
	  "suffix, e.g. 64k" },
};

START_TEST(test_sizes)
{
	char text[256], expected[256];
	struct ferryd_config *cfg;

	snprintf(text, sizeof(text), "[server]\nmax_body_size = %s\n",
	    sizes[_i].value);
	if (sizes[_i].message == NULL) {
		cfg = parse_ok(text);
		ck_assert_msg(cfg->max_body_size == sizes[_i].bytes,
		    "\"%s\" is %llu bytes, not %llu", sizes[_i].value,
		    (unsigned long long)sizes[_i].bytes,
		    (unsigned long long)cfg->max_body_size);
		config_free(cfg);
		return;
	}
	snprintf(expected, sizeof(expected),
	    "t.ini:2: server.max_body_size: \"%s\" is not allowed: %s\n",
	    sizes[_i].value, sizes[_i].message);
	assert_errors(text, expected);
}
END_TEST

START_TEST(test_header_size_range)
{
	struct ferryd_config *cfg = parse_ok("[server]\nmax_header_size = 1g\n");

	ck_assert_uint_eq(cfg->max_header_size, 1073741824);
	config_free(cfg);
	assert_errors("[server]\nmax_header_size = 1025m\n",
	    "t.ini:2: server.max_header_size: \"1025m\" is not allowed: "
	    "must be between 1 and 1g bytes\n");
}
END_TEST

START_TEST(test_booleans)
{
	static const char *const yes[] = { "yes", "YES", "true", "True", "1" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "0" };
	static const char *const bad[] = { "on", "off", "y", "2", "yes!", "01" };
	char text[128], expected[256];
	struct ferryd_config *cfg;

	for (size_t i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "[upstream]\nx_forwarded_for = %s\n",
		    yes[i]);
		cfg = parse_ok(text);
		ck_assert_msg(cfg->x_forwarded_for, "\"%s\" is true", yes[i]);
		config_free(cfg);
		snprintf(text, sizeof(text), "[upstream]\nvia = %s\n", no[i]);
		cfg = parse_ok(text);
		ck_assert_msg(!cfg->via, "\"%s\" is false", no[i]);
		config_free(cfg);
	}
	for (size_t i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "[tls]\nverify = %s\n", bad[i]);
		snprintf(expected, sizeof(expected), "t.ini:2: tls.verify: \"%s\" "
		    "is not allowed: expected yes, no, true, false, 1 or 0\n",
		    bad[i]);
		assert_errors(text, expected);
	}
}
END_TEST

START_TEST(test_integers)
{
	struct ferryd_config *cfg;

	cfg = parse_ok("[server]\nworkers = 64\nmax_clients = 1000000\n"
	    "[pool]\nmax_idle = 100000\nmax_idle_per_address = 0\n"
	    "max_requests_per_connection = 1\n");
	ck_assert_int_eq(cfg->workers, 64);
	ck_assert_int_eq(cfg->max_clients, 1000000);
	ck_assert_int_eq(cfg->max_idle, 100000);
	ck_assert_int_eq(cfg->max_idle_per_address, 0);
	ck_assert_int_eq(cfg->max_requests_per_connection, 1);
	config_free(cfg);
	cfg = parse_ok("[server]\nworkers = 01\n");
	ck_assert_int_eq(cfg->workers, 1);
	config_free(cfg);

	assert_errors("[server]\nworkers = 65\n", "t.ini:2: server.workers: "
	    "\"65\" is not allowed: must be between 1 and 64\n");
	assert_errors("[server]\nworkers = -1\n", "t.ini:2: server.workers: "
	    "\"-1\" is not allowed: must be between 1 and 64\n");
	assert_errors("[server]\nworkers = 99999999999999999999999\n",
	    "t.ini:2: server.workers: \"99999999999999999999999\" is not "
	    "allowed: must be between 1 and 64\n");
	assert_errors("[server]\nworkers = 1.5\n", "t.ini:2: server.workers: "
	    "\"1.5\" is not allowed: expected a whole number\n");
	assert_errors("[server]\nworkers = 0x10\n", "t.ini:2: server.workers: "
	    "\"0x10\" is not allowed: expected a whole number\n");
	assert_errors("[server]\nworkers = +2\n", "t.ini:2: server.workers: "
	    "\"+2\" is not allowed: expected a whole number\n");
	assert_errors("[server]\nworkers =\n", "t.ini:2: server.workers: "
	    "\"\" is not allowed: expected a whole number\n");
	assert_errors("[pool]\nmax_requests_per_connection = 1000000001\n",
	    "t.ini:2: pool.max_requests_per_connection: \"1000000001\" is not "
	    "allowed: must be between 1 and 1000000000\n");
}
END_TEST

START_TEST(test_keepalive_must_be_positive)
{
	struct ferryd_config *cfg;

	assert_errors("[pool]\nkeepalive = 0\n", "t.ini:2: pool.keepalive: "
	    "\"0\" is not allowed: must be greater than 0: a zero keep-alive "
	    "would make the cleanup pass spin\n");
	assert_errors("[pool]\nkeepalive = -5\n", "t.ini:2: pool.keepalive: "
	    "\"-5\" is not allowed: must be greater than 0: a zero keep-alive "
	    "would make the cleanup pass spin\n");
	assert_errors("[pool]\nkeepalive = 0.000000\n", "t.ini:2: "
	    "pool.keepalive: \"0.000000\" is not allowed: must be greater than "
	    "0: a zero keep-alive would make the cleanup pass spin\n");
	cfg = parse_ok("[pool]\nkeepalive = 0.000001\n");
	ck_assert_int_eq(cfg->keepalive, 1);
	config_free(cfg);
}
END_TEST

START_TEST(test_listen)
{
	struct ferryd_config *cfg;
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;
	struct in6_addr loop6 = IN6ADDR_LOOPBACK_INIT;

	cfg = parse_ok("[server]\nlisten = [::1]:3128\t192.0.2.1:65535  "
	    "127.0.0.1:0 127.0.0.1:0\n");
	ck_assert_uint_eq(cfg->n_listen, 4);
	sin6 = (const struct sockaddr_in6 *)&cfg->listen[0].addr;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 3128);
	ck_assert_msg(memcmp(&sin6->sin6_addr, &loop6, sizeof(loop6)) == 0,
	    "[::1] is the IPv6 loopback");
	ck_assert_str_eq(cfg->listen[0].text, "[::1]:3128");
	sin = (const struct sockaddr_in *)&cfg->listen[1].addr;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 65535);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc0000201);
	ck_assert_str_eq(cfg->listen[1].text, "192.0.2.1:65535");
	ck_assert_str_eq(cfg->listen[3].text, "127.0.0.1:0");
	config_free(cfg);
	cfg = parse_ok("[server]\nlisten = [::ffff:192.0.2.1]:80\n");
	ck_assert_uint_eq(cfg->n_listen, 1);
	ck_assert_int_eq(cfg->listen[0].addr.ss_family, AF_INET6);
	config_free(cfg);
}
END_TEST

/* A bad listen value: the word quoted and the message. */
static const struct {
	const char *value, *quoted, *message;
} bad_listen[] = {
	{ "127.0.0.1", NULL, "expected IPv4:PORT or [IPv6]:PORT, e.g. "
	  "127.0.0.1:3128 or [::1]:3128" },
	{ "127.0.0.1:65536", NULL, "the port must be a number from 0 to 65535" },
	{ "127.0.0.1:", NULL, "the port must be a number from 0 to 65535" },
	{ "127.0.0.1:-1", NULL, "the port must be a number from 0 to 65535" },
	{ "127.0.0.1:000080", NULL, "the port must be a number from 0 to 65535" },
	{ "127.0.0.1:http", NULL, "the port must be a number from 0 to 65535" },
	{ "localhost:3128", NULL, "not an IPv4 address (host names are not "
	  "allowed; write [IPv6]:PORT for IPv6)" },
	{ "127.1:3128", NULL, "not an IPv4 address (host names are not "
	  "allowed; write [IPv6]:PORT for IPv6)" },
	{ "::1:3128", NULL, "an IPv6 address needs brackets, e.g. [::1]:3128" },
	{ "[::1]3128", NULL, "expected IPv4:PORT or [IPv6]:PORT, e.g. "
	  "127.0.0.1:3128 or [::1]:3128" },
	{ "[::1]", NULL, "expected IPv4:PORT or [IPv6]:PORT, e.g. "
	  "127.0.0.1:3128 or [::1]:3128" },
	{ "[::1:3128", NULL, "expected IPv4:PORT or [IPv6]:PORT, e.g. "
	  "127.0.0.1:3128 or [::1]:3128" },
	{ "[127.0.0.1]:80", NULL, "not an IPv6 address" },
	{ "[fe80::1%eth0]:80", NULL, "not an IPv6 address" },
	{ "[]:80", NULL, "not an IPv6 address" },
	{ "", NULL, "at least one address is required, e.g. 127.0.0.1:3128" },
	{ "127.0.0.1:3128 [::1]:3128 127.0.0.1:3128", "127.0.0.1:3128",
	  "listed twice" },
	{ "127.0.0.1:3128 bogus", "bogus", "expected IPv4:PORT or [IPv6]:PORT, "
	  "e.g. 127.0.0.1:3128 or [::1]:3128" },
	{ "[::]:1 [::]:2 [::]:3 [::]:4 [::]:5 [::]:6 [::]:7 [::]:8 [::]:9 "
	  "[::]:10 [::]:11 [::]:12 [::]:13 [::]:14 [::]:15 [::]:16 [::]:17",
	  "[::]:17", "at most 16 addresses" },
};

START_TEST(test_listen_bad)
{
	char text[512], expected[512];

	snprintf(text, sizeof(text), "[server]\nlisten = %s\n",
	    bad_listen[_i].value);
	snprintf(expected, sizeof(expected),
	    "t.ini:2: server.listen: \"%s\" is not allowed: %s\n",
	    bad_listen[_i].quoted != NULL ? bad_listen[_i].quoted :
	    bad_listen[_i].value, bad_listen[_i].message);
	assert_errors(text, expected);
}
END_TEST

START_TEST(test_allow)
{
	struct ferryd_config *cfg;

	cfg = parse_ok("[access]\nallow = 0.0.0.0/0 ::/0\n");
	ck_assert_msg(allowed(cfg, "203.0.113.9"), "everyone (IPv4)");
	ck_assert_msg(allowed(cfg, "2001:db8::9"), "everyone (IPv6)");
	config_free(cfg);
	cfg = parse_ok("[access]\nallow = 192.168.1.77/24\n");
	ck_assert_uint_eq(cfg->allow.n, 1);
	ck_assert_msg(allowed(cfg, "192.168.1.1"), "host bits are masked");
	ck_assert_msg(!allowed(cfg, "127.0.0.1"), "the default is replaced");
	config_free(cfg);

	assert_errors("[access]\nallow =\n", "t.ini:2: access.allow: \"\" is "
	    "not allowed: at least one address block is required, e.g. "
	    "127.0.0.0/8 (an empty list would refuse every client)\n");
	assert_errors("[access]\nallow = 10.0.0.0/8 intranet\n", "t.ini:2: "
	    "access.allow: \"intranet\" is not allowed: not an IPv4 or IPv6 "
	    "address (host names are not allowed)\n");
	assert_errors("[access]\nallow = ::/129\n", "t.ini:2: access.allow: "
	    "\"::/129\" is not allowed: the prefix of an IPv6 block must be a "
	    "number from 0 to 128\n");
}
END_TEST

START_TEST(test_connect_ports)
{
	struct ferryd_config *cfg;

	cfg = config_defaults();
	ck_assert_msg(config_connect_port_allowed(cfg, 443), "443 by default");
	ck_assert_msg(!config_connect_port_allowed(cfg, 80), "not 80 by default");
	ck_assert_msg(!config_connect_port_allowed(cfg, 0), "never port 0");
	config_free(cfg);

	cfg = parse_ok("[access]\nconnect_ports = 443 8443 22\n");
	ck_assert_uint_eq(cfg->n_connect_ports, 3);
	ck_assert_msg(config_connect_port_allowed(cfg, 22), "22 listed");
	ck_assert_msg(config_connect_port_allowed(cfg, 8443), "8443 listed");
	ck_assert_msg(!config_connect_port_allowed(cfg, 8080), "8080 not listed");
	config_free(cfg);

	cfg = parse_ok("[access]\nconnect_ports = *\n");
	ck_assert_msg(cfg->connect_any_port, "* is any port");
	ck_assert_msg(config_connect_port_allowed(cfg, 1), "any: 1");
	ck_assert_msg(config_connect_port_allowed(cfg, 65535), "any: 65535");
	ck_assert_msg(!config_connect_port_allowed(cfg, 0), "any: never 0");
	config_free(cfg);

	cfg = parse_ok("[access]\nconnect_ports =\n");
	ck_assert_uint_eq(cfg->n_connect_ports, 0);
	ck_assert_msg(!config_connect_port_allowed(cfg, 443),
	    "an empty list allows no CONNECT");
	config_free(cfg);

	assert_errors("[access]\nconnect_ports = * 443\n", "t.ini:2: "
	    "access.connect_ports: \"* 443\" is not allowed: \"*\" (any port) "
	    "must stand alone\n");
	assert_errors("[access]\nconnect_ports = 0\n", "t.ini:2: "
	    "access.connect_ports: \"0\" is not allowed: expected port numbers "
	    "from 1 to 65535, or \"*\" for any port\n");
	assert_errors("[access]\nconnect_ports = 443,8443\n", "t.ini:2: "
	    "access.connect_ports: \"443,8443\" is not allowed: expected port "
	    "numbers from 1 to 65535, or \"*\" for any port\n");
}
END_TEST

START_TEST(test_tls_origination)
{
	struct ferryd_config *cfg;

	cfg = parse_ok("[tls]\ntls_origination = a.example *.B.example.com "
	    "10.0.0.5 my_host\n");
	ck_assert_str_eq(cfg->tls_origination[0], "a.example");
	ck_assert_str_eq(cfg->tls_origination[1], "*.b.example.com");
	ck_assert_str_eq(cfg->tls_origination[2], "10.0.0.5");
	ck_assert_str_eq(cfg->tls_origination[3], "my_host");
	ck_assert_ptr_null(cfg->tls_origination[4]);
	config_free(cfg);
	cfg = parse_ok("[tls]\ntls_origination =\n");
	ck_assert_ptr_nonnull(cfg->tls_origination);
	ck_assert_ptr_null(cfg->tls_origination[0]);
	config_free(cfg);

	static const char *const bad[] = {
		"*", "*.", "a..b", ".a", "a.", "a.*.b", "**.a", "http://a", "a/b",
	};
	char text[128], expected[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[tls]\ntls_origination = %s\n",
		    bad[i]);
		snprintf(expected, sizeof(expected), "t.ini:2: "
		    "tls.tls_origination: \"%s\" is not allowed: expected host "
		    "names or patterns like *.example.com\n", bad[i]);
		assert_errors(text, expected);
	}
}
END_TEST

START_TEST(test_strings)
{
	struct ferryd_config *cfg;

	cfg = parse_ok("[tls]\nca_file = /etc/ca.pem\n[access]\n"
	    "auth_file = /etc/ferryd/users\n[log]\n"
	    "access_log = /var/log/ferryd/access.log\n");
	ck_assert_str_eq(cfg->tls_ca_file, "/etc/ca.pem");
	ck_assert_str_eq(cfg->auth_file, "/etc/ferryd/users");
	ck_assert_str_eq(cfg->access_log, "/var/log/ferryd/access.log");
	config_free(cfg);
	cfg = parse_ok("[tls]\nca_file =\n[access]\nauth_file =   \n[log]\n"
	    "access_log = ; none\n");
	ck_assert_ptr_null(cfg->tls_ca_file);
	ck_assert_ptr_null(cfg->auth_file);
	ck_assert_ptr_null(cfg->access_log);
	config_free(cfg);
}
END_TEST

START_TEST(test_log_names)
{
	static const struct {
		const char *name;
		int value;
	} facilities[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local7", LOG_LOCAL7 },
	}, levels[] = {
		{ "err", LOG_ERR }, { "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
	};
	struct ferryd_config *cfg;
	char text[128];

	for (size_t i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "[log]\nsyslog_facility = %s\n",
		    facilities[i].name);
		cfg = parse_ok(text);
		ck_assert_int_eq(cfg->syslog_facility, facilities[i].value);
		config_free(cfg);
	}
	for (size_t i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "[log]\nlevel = %s\n", levels[i].name);
		cfg = parse_ok(text);
		ck_assert_int_eq(cfg->log_level, levels[i].value);
		config_free(cfg);
	}
	assert_errors("[log]\nsyslog_facility = kern\nlevel = error\n",
	    "t.ini:2: log.syslog_facility: \"kern\" is not allowed: expected "
	    "daemon, user or local0 to local7\n"
	    "t.ini:3: log.level: \"error\" is not allowed: expected err, "
	    "warning, notice, info or debug\n");
}
END_TEST

START_TEST(test_unknown_section_and_key)
{
	assert_errors("[server]\nworkers = 2\n[bogus]\nanything = 1\n"
	    "other = 2\n[pool]\nkeep_alive = 30\n",
	    "t.ini:3: [bogus]: unknown section (expected [server], [pool], "
	    "[upstream], [tls], [access] or [log])\n"
	    "t.ini:7: pool.keep_alive: unknown key (keys of [pool]: max_idle, "
	    "max_idle_per_address, keepalive, idle_grace, "
	    "max_requests_per_connection, max_connection_lifetime, "
	    "healthcheck_after_idle, route_failure_ttl)\n");
	assert_errors("[Pool]\n", "t.ini:1: [Pool]: unknown section (expected "
	    "[server], [pool], [upstream], [tls], [access] or [log])\n");
	assert_errors("[log]\nKeepalive = 1\n", "t.ini:2: log.Keepalive: "
	    "unknown key (keys of [log]: syslog_facility, level, access_log)\n");
}
END_TEST

START_TEST(test_key_outside_section)
{
	assert_errors("; a comment\nworkers = 2\n[server]\nworkers = 3\n",
	    "t.ini:2: workers: outside any section (put it after its "
	    "[section] line)\n");
}
END_TEST

START_TEST(test_syntax_errors)
{
	assert_errors("[server]\nworkers 2\n", "t.ini:2: syntax error: expected "
	    "\"key = value\", a [section] or a ; comment\n");
	assert_errors("[server\nworkers = 2\n", "t.ini:1: syntax error: section "
	    "name without a closing ']'\n");
	assert_errors("[server] workers = 2\n", "t.ini:1: syntax error: text "
	    "after ']' (a comment starts with ';')\n");
	assert_errors("[server]\n= 2\n", "t.ini:2: syntax error: no key before "
	    "'='\n");
	/* Every syntax error is reported, not only the first, as inih would. */
	assert_errors("[server]\nworkers 2\n[pool\nmax_idle = x\n[pool]\n"
	    "idle_grace\nkeepalive = 0\n",
	    "t.ini:2: syntax error: expected \"key = value\", a [section] or "
	    "a ; comment\n"
	    "t.ini:3: syntax error: section name without a closing ']'\n"
	    "t.ini:6: syntax error: expected \"key = value\", a [section] or "
	    "a ; comment\n"
	    "t.ini:7: pool.keepalive: \"0\" is not allowed: must be greater "
	    "than 0: a zero keep-alive would make the cleanup pass spin\n");
}
END_TEST

START_TEST(test_long_line)
{
	char text[1024], expected[256];
	char *errors;

	memset(text, 0, sizeof(text));
	strcpy(text, "[tls]\ntls_origination =");
	for (size_t i = strlen(text); i < 900; i += 2)
		memcpy(text + i, " a", 2);
	strcat(text, "\n[pool]\nkeepalive = 0\n");
	errors = parse_bad(text);
	snprintf(expected, sizeof(expected), "t.ini:2: line too long (at most ");
	ck_assert_msg(strncmp(errors, expected, strlen(expected)) == 0,
	    "a long line is reported with its line number: %s", errors);
	ck_assert_msg(strstr(errors, "t.ini:4: pool.keepalive:") != NULL,
	    "lines after a long one keep their numbers: %s", errors);
	free(errors);
}
END_TEST

START_TEST(test_duplicate_key)
{
	assert_errors("[server]\nlisten = 127.0.0.1:1\n[pool]\nmax_idle = 1\n"
	    "[server]\nlisten = 127.0.0.1:2\n",
	    "t.ini:6: server.listen: set again (first set on line 2; a key may "
	    "appear once)\n");
}
END_TEST

START_TEST(test_many_errors_together)
{
	static const char text[] =
	    "[server]\n"				/* 1 */
	    "workers = 0\n"				/* 2 */
	    "listen = [::1]:99999\n"			/* 3 */
	    "max_body_size = 1q\n"			/* 4 */
	    "[pool]\n"					/* 5 */
	    "keepalive = 0\n"				/* 6 */
	    "max_idle = 10\n"				/* 7 */
	    "\n"					/* 8 */
	    "[upstream]\n"				/* 9 */
	    "via = perhaps\n"				/* 10 */
	    "connect_timeout = 1e1\n"			/* 11 */
	    "[access]\n"				/* 12 */
	    "connect_ports = https\n";			/* 13 */

	assert_errors(text,
	    "t.ini:2: server.workers: \"0\" is not allowed: must be between 1 "
	    "and 64\n"
	    "t.ini:3: server.listen: \"[::1]:99999\" is not allowed: the port "
	    "must be a number from 0 to 65535\n"
	    "t.ini:4: server.max_body_size: \"1q\" is not allowed: expected a "
	    "number of bytes with an optional k, m or g suffix, e.g. 64k\n"
	    "t.ini:6: pool.keepalive: \"0\" is not allowed: must be greater "
	    "than 0: a zero keep-alive would make the cleanup pass spin\n"
	    "t.ini:10: upstream.via: \"perhaps\" is not allowed: expected yes, "
	    "no, true, false, 1 or 0\n"
	    "t.ini:11: upstream.connect_timeout: \"1e1\" is not allowed: "
	    "expected a number of seconds, e.g. 30 or 0.5\n"
	    "t.ini:13: access.connect_ports: \"https\" is not allowed: expected "
	    "port numbers from 1 to 65535, or \"*\" for any port\n");
}
END_TEST

START_TEST(test_too_many_errors)
{
	char text[4096] = "[server]\n";
	char *errors;
	int lines = 0;

	for (int i = 0; i < 80; i++)
		strcat(text, "bogus\n");
	errors = parse_bad(text);
	for (const char *p = errors; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_int_eq(lines, 51);
	ck_assert_msg(strstr(errors, "t.ini:51: syntax error") != NULL,
	    "the 50th error is shown: %s", errors);
	ck_assert_msg(strstr(errors, "t.ini:52:") == NULL,
	    "the 51st error is not: %s", errors);
	ck_assert_msg(strstr(errors, "\nt.ini: too many errors; only the first "
	    "50 are shown\n") != NULL, "the cut is said: %s", errors);
	free(errors);
}
END_TEST

START_TEST(test_layout)
{
	struct ferryd_config *cfg;

	/*
	 * Indented keys are keys (no continuation lines), CRLF endings, a
	 * byte order mark, ':' as separator, '#' and ';' comments, spaces
	 * inside the brackets of a section name.  An inline comment needs a
	 * space before its ';', and '#' starts a comment only at the start of
	 * a line.
	 */
	cfg = parse_ok("\xef\xbb\xbf[server]   ; the server\r\n"
	    "  workers = 3\r\n"
	    "\tmax_clients: 77 ; inline comment\r\n"
	    "# a comment\n"
	    "  ; another\n"
	    "[ pool ]\n"
	    "    keepalive=2\n");
	ck_assert_int_eq(cfg->workers, 3);
	ck_assert_int_eq(cfg->max_clients, 77);
	ck_assert_int_eq(cfg->keepalive, SEC(2));
	config_free(cfg);
	assert_errors("[pool]\nidle_grace = 0;x\n", "t.ini:2: pool.idle_grace: "
	    "\"0;x\" is not allowed: expected a number of seconds, e.g. 30 or "
	    "0.5\n");
	assert_errors("[pool]\nidle_grace = 1 # not a comment\n", "t.ini:2: "
	    "pool.idle_grace: \"1 # not a comment\" is not allowed: expected a "
	    "number of seconds, e.g. 30 or 0.5\n");
}
END_TEST

START_TEST(test_load_file)
{
	static const char text[] =
	    "[pool]\n"
	    "max_idle = 5\n"
	    "keepalive = 0\n";
	struct ferryd_config *cfg;
	char *path, *errors = NULL, expected[512];

	path = temp_file(text, sizeof(text) - 1);
	cfg = config_load(path, &errors);
	ck_assert_ptr_null(cfg);
	snprintf(expected, sizeof(expected), "%s:3: pool.keepalive: \"0\" is not "
	    "allowed: must be greater than 0: a zero keep-alive would make the "
	    "cleanup pass spin\n", path);
	ck_assert_str_eq(errors, expected);
	free(errors);
	unlink(path);
	free(path);

	path = temp_file("[pool]\nmax_idle = 5\n", 20);
	cfg = config_load(path, &errors);
	ck_assert_msg(cfg != NULL, "valid file loads: %s",
	    errors != NULL ? errors : "");
	ck_assert_ptr_null(errors);
	ck_assert_str_eq(cfg->path, path);
	ck_assert_int_eq(cfg->max_idle, 5);
	config_free(cfg);
	unlink(path);
	free(path);

	/* A NUL byte cannot come through config_parse_string(). */
	path = temp_file("[pool]\nmax_idle = 5\0\n", 21);
	cfg = config_load(path, &errors);
	ck_assert_ptr_null(cfg);
	snprintf(expected, sizeof(expected), "%s:2: syntax error: the line "
	    "contains a NUL byte\n", path);
	ck_assert_str_eq(errors, expected);
	free(errors);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_load_unreadable)
{
	struct ferryd_config *cfg;
	char *errors = NULL;

	cfg = config_load("/nonexistent/ferryd.ini", &errors);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(errors, "/nonexistent/ferryd.ini: cannot open: No such "
	    "file or directory\n");
	free(errors);

	cfg = config_load("/tmp", &errors);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(errors, "/tmp: cannot read: Is a directory\n");
	free(errors);
}
END_TEST

/* One test case per behaviour of lib/config.c. */
static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_empty_file_is_defaults);
	suite_add_tcase(s, tc);
	tc = tcase_create("shipped conf/ferryd.ini");
	tcase_add_test(tc, test_shipped_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("every key valid");
	tcase_add_test(tc, test_every_key_valid);
	suite_add_tcase(s, tc);
	tc = tcase_create("every key invalid");
	tcase_add_loop_test(tc, test_every_key_invalid, 0,
	    (int)(sizeof(invalid) / sizeof(invalid[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("durations");
	tcase_add_loop_test(tc, test_durations, 0,
	    (int)(sizeof(durations) / sizeof(durations[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("sizes");
	tcase_add_loop_test(tc, test_sizes, 0,
	    (int)(sizeof(sizes) / sizeof(sizes[0])));
	tcase_add_test(tc, test_header_size_range);
	suite_add_tcase(s, tc);
	tc = tcase_create("booleans");
	tcase_add_test(tc, test_booleans);
	suite_add_tcase(s, tc);
	tc = tcase_create("integers");
	tcase_add_test(tc, test_integers);
	suite_add_tcase(s, tc);
	tc = tcase_create("keepalive must be positive");
	tcase_add_test(tc, test_keepalive_must_be_positive);
	suite_add_tcase(s, tc);
	tc = tcase_create("listen");
	tcase_add_test(tc, test_listen);
	tcase_add_loop_test(tc, test_listen_bad, 0,
	    (int)(sizeof(bad_listen) / sizeof(bad_listen[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("allow");
	tcase_add_test(tc, test_allow);
	suite_add_tcase(s, tc);
	tc = tcase_create("connect_ports");
	tcase_add_test(tc, test_connect_ports);
	suite_add_tcase(s, tc);
	tc = tcase_create("tls_origination");
	tcase_add_test(tc, test_tls_origination);
	suite_add_tcase(s, tc);
	tc = tcase_create("file names");
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);
	tc = tcase_create("log names");
	tcase_add_test(tc, test_log_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("unknown section and key");
	tcase_add_test(tc, test_unknown_section_and_key);
	tcase_add_test(tc, test_key_outside_section);
	suite_add_tcase(s, tc);
	tc = tcase_create("syntax errors");
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_long_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("duplicate key");
	tcase_add_test(tc, test_duplicate_key);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors reported together");
	tcase_add_test(tc, test_many_errors_together);
	tcase_add_test(tc, test_too_many_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("file layout");
	tcase_add_test(tc, test_layout);
	suite_add_tcase(s, tc);
	tc = tcase_create("config_load");
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_load_unreadable);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs the suite; fails when any check failed. */
int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
