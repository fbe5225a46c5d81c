/*
 * config.h - ferryd's configuration: the ini file of interface.md as plain
 * data.  config_load() builds a struct ferryd_config from a file; runtime
 * objects hold a reference to the config they were built with (the
 * server to the current one, each exchange to the one it started under).
 * A reload builds a new one and swaps it; nothing in flight is touched.
 *
 * Owner: reference-counted.  config_load() and its siblings return one
 * reference; config_ref() takes another; config_free() drops one and frees
 * the config with the last.
 */
#ifndef FERRYD_CONFIG_H
#define FERRYD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_MAX_PORTS 64

/* One listen address: "127.0.0.1:3128" or "[::1]:3128". */
struct config_listen {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[64];			/* as written, for logs */
};

/* Durations are microseconds; sizes are bytes. */
struct ferryd_config {
	int refs;			/* see config_ref() */
	char *path;			/* the file it was read from */

	/* [server] */
	struct config_listen listen[CONFIG_MAX_LISTEN];
	size_t n_listen;
	int workers;
	int max_clients;
	int64_t client_header_timeout;
	int64_t client_idle_timeout;
	size_t max_header_size;
	size_t max_body_size;
	int64_t shutdown_timeout;

	/* [pool] */
	int max_idle;
	int max_idle_per_address;
	int64_t keepalive;		/* > 0, enforced by the loader */
	int64_t idle_grace;
	long max_requests_per_connection;
	int64_t max_connection_lifetime;
	int64_t healthcheck_after_idle;
	int64_t route_failure_ttl;

	/* [upstream] */
	int64_t connect_timeout;
	int64_t read_timeout;
	int64_t dns_cache_ttl;
	bool via;
	bool x_forwarded_for;

	/* [tls] */
	bool tls_verify;
	char *tls_ca_file;		/* NULL: the system's store */
	char **tls_origination;		/* NULL-terminated host patterns */
	bool tls_session_cache;

	/* [access] */
	struct acl allow;
	uint16_t connect_ports[CONFIG_MAX_PORTS];
	size_t n_connect_ports;
	bool connect_any_port;		/* connect_ports = * */
	char *auth_file;		/* NULL: no proxy authentication */
	char **upgrade_protocols;	/* NULL-terminated, lower case */

	/* [log] */
	int syslog_facility;		/* LOG_DAEMON, LOG_LOCAL0, ... */
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	char *access_log;		/* NULL: none; "syslog"; or a path */
};

/*
 * Reads and validates the ini file at path.  On success returns a new config
 * and sets *errors to NULL.  On failure returns NULL and sets *errors to a
 * malloc'd text, one line per problem, each "FILE:LINE: KEY: MESSAGE" (a
 * file that cannot be read gives "FILE: MESSAGE"); the caller frees it.
 */
struct ferryd_config *config_load(const char *path, char **errors);

/* As config_load(), from a string; name stands in for the file name. */
struct ferryd_config *config_parse_string(const char *text, const char *name,
    char **errors);

/* A config with every default of interface.md (listen 127.0.0.1:3128). */
struct ferryd_config *config_defaults(void);

/* Takes one more reference to cfg; returns cfg. */
const struct ferryd_config *config_ref(const struct ferryd_config *cfg);
/* Drops one reference; the last frees cfg and everything it owns.  NULL: nothing. */
void config_free(const struct ferryd_config *cfg);

/* True when CONNECT may go to this port. */
bool config_connect_port_allowed(const struct ferryd_config *cfg, uint16_t port);

#endif
